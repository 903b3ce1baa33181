"""Questions to offer a reader: a few that the article itself answers, drawn from its own
sentences (who is quoted, what is counted, who or what the headline is about).

``candidate_questions`` only reads text; ``suggest`` keeps the candidates the assistant
really answers (not a refusal), so a reader who picks one gets an answer. Nothing here is
tied to one article's wording: names, numbers and headline words are found by their shape.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.chain import Assistant

#: how many questions a reader is offered
MAX_SUGGESTIONS = 3
#: candidates asked before giving up on finding MAX_SUGGESTIONS answered ones
MAX_CANDIDATES = 8

#: verbs that report speech, after a name: "Rutte said", "Orban called ... “frightening”"
_SPEECH = (
    r"said|says|told|tells|warned|warns|added|adds|called|calls|urged|urges|stressed|"
    r"claimed|claims|argued|argues|accused|accuses|criticized|criticised|insisted|noted|"
    r"wrote|writes|explained|declared|announced|acknowledged|admitted|predicted|described"
)
#: a capitalised word of a name: "Orban", "O’Neill", "Jean-Paul" (not "NATO", not "The")
_NAME_WORD = r"[A-Z][a-z][\w’'-]*"
_SPEAKER = re.compile(rf"((?:{_NAME_WORD}\s+){{0,4}}{_NAME_WORD})\s+(?:{_SPEECH})\b")
#: a count and what it counts: "10,000 troops", "42 stations" (years such as 2019 are not)
_COUNT = re.compile(
    r"(?<![\w£$€.,])(\d{1,3}(?:,\d{3})+|\d{1,3})\s+(?:more\s+|new\s+)?([a-z]{3,}s)\b"
)
_POSSESSIVE = re.compile(r"[’']s$")
_QUOTE_MARKS = re.compile(r"[“”\"]")
#: capitalised words that start sentences or are roles, never a person's name by themselves
_NOT_NAMES = frozenset(
    "A An The This That These Those He She They It We I You His Her Their Its Our "
    "However Meanwhile But And Or So Yet As At In On Of For From By With After Before "
    "Speaking According When While Although Though If Then Also Still Now Today "
    "Mr Mrs Ms Dr Sir Dame Lord Lady President Prime Minister Secretary General Chancellor "
    "Chief Councillor Senator Governor Mayor Judge Professor Officer Director Spokesman "
    "Spokeswoman Spokesperson Leader Deputy Head Chair Chairman Chairwoman Minister".split()
)
#: what a number may count that a reader would not ask "how many" of: time and measures
_NOT_COUNTED = frozenset(
    "years months weeks days hours minutes seconds times percent points metres meters "
    "kilometres kilometers millimetres millimeters centimetres centimeters miles yards feet "
    "inches kilograms kilos grams tonnes tons litres liters gigabytes megabytes hectares "
    "acres degrees pounds dollars euros".split()
)
#: words after which a number is a label, not a count: "type 2", "route 9"
_NUMBERED = frozenset({"type", "route", "number", "no", "version", "model", "grade", "level"})


def speakers(sentence: str) -> Iterator[str]:
    """Names reported as speaking in ``sentence``, roles and sentence openers left out:
    "Viktor Orban" in "Hungarian Prime Minister Viktor Orban called ... “frightening”"."""
    for match in _SPEAKER.finditer(sentence):
        words = [_POSSESSIVE.sub("", w) for w in match[1].split()]
        roles = [i for i, w in enumerate(words) if w in _NOT_NAMES]
        name = words[roles[-1] + 1 :] if roles else words  # what follows the last role
        if name:
            yield " ".join(name[-2:])


def counts(sentence: str) -> Iterator[str]:
    """What ``sentence`` counts with a number: "troops" in "10,000 troops" (not "2" in
    "type 2 diabetes" or "Slate 9 comes": a number after a capitalised word is a name's)."""
    for match in _COUNT.finditer(sentence):
        before = sentence[: match.start()].split()[-1:] or [""]
        if before[0][:1].isupper() or before[0].lower() in _NUMBERED:
            continue
        if match[2] not in _NOT_COUNTED:
            yield match[2]


def headline_subject(title: str, body: str) -> str | None:
    """The longest run of headline words the body writes capitalised in mid-sentence
    (a name: "Kestrel Point Bridge"); a people's adjective takes the word after it
    ("North Korean troops"). A single word must be a name the body repeats."""
    proper = set(re.findall(r"(?<=[a-z,;] )([A-Z][\w’'-]+)", body))
    words = re.findall(r"[\w’'-]+", title)
    runs: list[tuple[int, int]] = []
    start = None
    for i, word in enumerate([*words, ""]):
        named = word in proper and word not in _NOT_NAMES
        if named and start is None:
            start = i
        elif not named and start is not None:
            runs.append((start, i))
            start = None
    if not runs:
        return None
    first, end = max(runs, key=lambda r: (r[1] - r[0], -r[0]))
    subject = words[first:end]
    if len(subject) == 1 and body.count(subject[0]) < 3:
        return None
    if re.search(r"(?:an|ish|ese|ch)$", subject[-1]) and end < len(words):
        subject.append(words[end].lower())
    return " ".join(subject)


def candidate_questions(title: str, sentences: Sequence[str]) -> list[str]:
    """Questions the article's sentences look likely to answer, most telling first, none
    twice: who is quoted, what is counted, who or what the headline names."""
    quoted: list[str] = []
    counted: list[str] = []
    for sentence in sentences:
        if _QUOTE_MARKS.search(sentence) or re.search(rf"\b(?:{_SPEECH})\b", sentence):
            quoted += speakers(sentence)
        counted += [f"How many {thing} does the article mention?" for thing in counts(sentence)]
    body = " ".join(sentences)
    people = [f"What did {name} say?" for name in _full_names(quoted, body)]
    subject = headline_subject(title, body)
    named = [f"What does the article say about {subject}?"] if subject else []
    ordered: list[str] = []
    # one of each kind first, so three suggestions are not three quotes
    for question in [*_firsts(people, counted, named), *people, *counted]:
        if question not in ordered:
            ordered.append(question)
    return ordered


def _full_names(names: Sequence[str], body: str) -> list[str]:
    """Each person once, by the first two-word name the article gives them ("Mark Rutte"
    for "Rutte"); a lone word that is no one's surname ("Officials", "Police") is left out."""
    full: dict[str, str] = {}
    for first, last in re.findall(rf"({_NAME_WORD})\s+({_NAME_WORD})", body):
        last = _POSSESSIVE.sub("", last)
        if first not in _NOT_NAMES and last not in _NOT_NAMES:
            full.setdefault(last, f"{first} {last}")
    out: list[str] = []
    for name in names:
        person = name if len(name.split()) > 1 else full.get(name)
        if person and person not in out:
            out.append(person)
    return out


def _firsts(*groups: list[str]) -> Iterator[str]:
    for group in groups:
        yield from group[:1]


def suggest(assistant: Assistant, article_id: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``limit`` questions about the article that the assistant answers from it.

    Each candidate is asked (scoped to the article) and kept only when the answer is not a
    refusal. Raises ``UnknownArticleError`` for an article that is not indexed.
    """
    passages = assistant.article_passages(article_id)
    info = assistant.catalog[article_id]
    sentences = [s.text for p in passages for s in p.sentences] or [p.text for p in passages]
    chosen: list[str] = []
    for question in candidate_questions(info.title, sentences)[:MAX_CANDIDATES]:
        if len(chosen) >= limit:
            break
        if answered(assistant, question, article_id):
            chosen.append(question)
    return chosen


def answered(assistant: Assistant, question: str, article_id: str) -> bool:
    """Whether the extractive answer to ``question`` quotes the article (no refusal): the
    offline answerer, so checking costs no language model's call and counts no question."""
    answer = assistant.quote(question, article=article_id)
    return not answer.abstained and bool(answer.citations)


class Suggestions:
    """``suggest`` remembered per article version (its content hash), since each candidate
    costs an answer: a front end keeps one and asks it as often as it likes."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._known: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()

    def for_article(self, article_id: str) -> list[str]:
        """The article's suggested questions; ``UnknownArticleError`` when it is not indexed."""
        info = self.assistant.catalog.get(article_id)
        if info is None:
            self.assistant.article_passages(article_id)  # raises UnknownArticleError
            return []
        key = (article_id, info.content_hash)
        with self._lock:
            if key not in self._known:
                self._known[key] = suggest(self.assistant, article_id)
            return list(self._known[key])
