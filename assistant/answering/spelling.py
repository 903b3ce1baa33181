"""Typos in a question, corrected against the article's own words.

A reader types "what did the mayer say" or "the libary"; the embedding model reads a
misspelt word as a different one, and the article is the best dictionary there is for
the words a question about it uses. rapidfuzz (a maintained C++ library) finds the
closest word of the article by edit distance, and wordfreq (English word frequencies,
shipped inside the package) tells a real word from a typo.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from assistant.text import STOPWORDS

#: a word of the question is replaced only by one this similar (rapidfuzz ratio, 0-100)
MIN_SIMILARITY = 80
#: shorter words are left alone: "cat"/"car" are both words, not a typo of each other
MIN_LENGTH = 4
#: a word at least this common in English (wordfreq's Zipf scale: 3 is once per million
#: words) is taken as meant, not as a typo: "they" is not "the" misspelt
COMMON_WORD_ZIPF = 3.0

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


def words_of(texts: Sequence[str]) -> frozenset[str]:
    """The lower-cased words of ``texts``: the dictionary typos are corrected against
    (remembered: every question about an article reads the same sentences)."""
    return _words_of(tuple(texts))


@lru_cache(maxsize=256)
def _words_of(texts: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w.lower() for text in texts for w in _WORD.findall(text))


@lru_cache(maxsize=256)
def _sorted(dictionary: frozenset[str]) -> list[str]:
    return sorted(dictionary)


def zipf(word: str) -> float:
    """How common ``word`` is in English on wordfreq's Zipf scale (3: once per million
    words), 0 for a rarer one. Imported here, on the first word that needs it: wordfreq
    takes a new process 0.2 s. Its small list holds every word used at least once per
    million, all that the tests against Zipf 3 and above need, and loads in a hundredth of
    the time of the full one."""
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en", wordlist="small"))


def corrected(question: str, dictionary: frozenset[str]) -> str:
    """``question`` with each word the article does not use replaced by the article's
    closest word, when one is close enough; otherwise unchanged."""
    # a function word ("what", "which") is never a typo, though an article may not use
    # it: wordfreq would say as much, after a new process had spent 0.2 s importing it
    unknown = [
        w
        for w in set(_WORD.findall(question))
        if len(w) >= MIN_LENGTH and w.lower() not in dictionary and w.lower() not in STOPWORDS
    ]
    if not unknown:
        return question  # the usual case, without loading wordfreq's tables in a new process
    from rapidfuzz import fuzz, process

    replacements: dict[str, str] = {}
    for word in unknown:
        lower = word.lower()
        if zipf(lower) >= COMMON_WORD_ZIPF:
            continue
        choices = _sorted(dictionary)  # sorted once per article, only when a word is unknown
        match = process.extractOne(lower, choices, scorer=fuzz.ratio, score_cutoff=MIN_SIMILARITY)
        if match is not None:
            replacements[word] = match[0]
    if not replacements:
        return question
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, replacements)) + r")\b")
    return pattern.sub(lambda m: replacements[m.group()], question)
