"""The citation grammar: ``[n]`` markers, the sentences of an answer, and citations.

An answer is text with markers: ``[1]``, ``[1][2]`` or ``[1, 2]`` after a stretch of
text cite those numbers for every sentence in the stretch ("A. B. [1]" cites [1] for
both). The answerers write answers this way and build their citations here, verification
reads a model's draft with it, and the evaluation's metrics read answers with it, so
what is scored is exactly what the product writes and reads.

Sentences are cut with a regular expression, not with pysbd as article text is
(``chunking.py``): an answer is short, written by us or a model, and its cut must follow
the markers, which pysbd does not know; the rules here are the few that answers need.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from assistant.schemas import Citation, Passage

#: one marker: ``[1]`` or ``[1, 2]`` (group 1: the numbers)
MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
#: a run of markers with the space before them: "text [1][2]" -> "text", " [1][2]"
_MARKER_RUN = re.compile(r"((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
# "A [1]." -> "A. [1]": the end of the sentence belongs to the text, not after its marker
_PUNCT_AFTER_MARKERS = re.compile(r"((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)\s*([.!?]+)(?=\s|$)")
#: a sentence ends at . ! or ? (perhaps closed by a quote or bracket) before space, not
#: after a lone capital ("U.S.", "J. Smith"); a line break ends one too (lists)
SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)]))(?<!\b[A-Z]\.)[ \t]+|\s*\n\s*"
)
_ENDS_SENTENCE = re.compile(f"(?:{SENTENCE_END.pattern})$")
_LIST_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")

#: what an article id maps to when citing: (title, url)
ArticleRefs = Mapping[str, tuple[str, str | None]]


@dataclass(frozen=True)
class CitedSentence:
    """One sentence of an answer (markers removed) and the numbers its markers cite."""

    text: str
    cites: tuple[int, ...]


def markers(numbers: Sequence[int]) -> str:
    """The markers citing ``numbers``, as the answerers write them: ``[1][2]``."""
    return "".join(f"[{n}]" for n in numbers)


def marker_numbers(text: str) -> list[int]:
    """Every number the markers in ``text`` cite, in order, repeats kept."""
    return [int(n) for group in MARKER.findall(text) for n in group.split(",")]


def strip_markers(text: str) -> str:
    """``text`` with each marker replaced by a space."""
    return MARKER.sub(" ", text)


def word_count(text: str) -> int:
    """Words in an answer, markers excluded."""
    return len(strip_markers(text).split())


def split_sentences(text: str) -> list[str]:
    """The sentences of a stretch of text without markers (list bullets dropped)."""
    found = (_LIST_BULLET.sub("", s).strip() for s in SENTENCE_END.split(text))
    return [s for s in found if s]


def starts_sentence(text: str, index: int) -> bool:
    """Whether ``text[index:]`` begins a sentence: nothing but space before it, or the
    end of a sentence (where ``split_sentences`` cuts) right before it."""
    before = text[:index]
    return not before.strip() or _ENDS_SENTENCE.search(before) is not None


def cited_sentences(answer: str) -> list[CitedSentence]:
    """The answer's sentences, each with the numbers of the markers that apply to it.

    The markers after a stretch of text apply to every sentence in it; text after the
    last marker cites nothing. A number is listed once per sentence.
    """
    text = _PUNCT_AFTER_MARKERS.sub(r"\2\1", answer.strip())
    pieces = _MARKER_RUN.split(text)
    result: list[CitedSentence] = []
    for i in range(0, len(pieces), 2):
        run = pieces[i + 1] if i + 1 < len(pieces) else ""
        cites = tuple(dict.fromkeys(marker_numbers(run)))
        result += [CitedSentence(s, cites) for s in split_sentences(pieces[i])]
    return result


def cite(
    n: int,
    passage: Passage,
    start: int,
    end: int,
    score: float,
    articles: ArticleRefs | None = None,
) -> Citation:
    """Citation ``[n]`` of ``body[start:end]``, a span of ``passage`` (offsets into the
    article body), quoted verbatim; ``articles`` gives the article's title and url."""
    title, url = (articles or {}).get(passage.article_id, (passage.article_title, None))
    return Citation(
        n=n,
        article_id=passage.article_id,
        article_title=title,
        passage_id=passage.passage_id,
        quote=passage.text[start - passage.start : end - passage.start],
        start=start,
        end=end,
        score=round(score, 4),
        url=url,
    )
