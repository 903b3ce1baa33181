"""Check a language model's draft sentence by sentence against the passages it cites.

The draft's ``[n]`` markers number the passages the prompt showed. Each sentence of the
draft (a marker after a stretch of text applies to every sentence in it) is checked
against the text of the passages it cites:

- **strictly**, the numbers ("10,000", "2024") and names (capitalised words that do not
  start the sentence: people, places, months) must all occur in the cited text;
- a **negation** ("not", "never", "haven't") must be in the cited sentence it matches
  best, since stopword-free word overlap cannot see one added;
- its **content words** (stemmed, stopwords dropped: ``assistant.text.terms``) must
  occur there too, all but at most ``MAX_NEW_TERMS`` of them, and
- either ``MIN_COVERAGE`` of them occur, or its **embedding** is close to one of the
  cited sentences (``MIN_SIMILARITY``): the second signal lets a close paraphrase with
  a word or two of its own through.

The draft is read with the product's one citation grammar (``assistant.citations``: the
markers, the sentences and the citations), the one the evaluation scores answers with.
Markers that point at no passage are dropped; a sentence left citing nothing is checked
against every passage and cites the one that supports it, if any. Unsupported sentences
are removed (and reported). Each remaining marker becomes a citation of the sentence of
the cited passage that best supports the answer sentence, quoted verbatim with its
offsets in the article body.

Word overlap cannot see a claim rebuilt from the passage's own words ("sent 10,000
soldiers" from "sent officers ... and is readying 10,000 soldiers"); such a sentence
passes. Everything it says is in the cited sentence, which the reader is shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answering.names import is_known, question_names
from assistant.citations import CitedSentence, cite, cited_sentences, marker_numbers, markers
from assistant.schemas import Citation, Passage
from assistant.text import terms, words

#: share of a sentence's content words that must occur in what it cites ...
MIN_COVERAGE = 0.8
#: ... unless its embedding is at least this close to one of the cited sentences
MIN_SIMILARITY = 0.7
#: and never more than this many content words of its own (a claim added to a long
#: sentence keeps a high share; the count catches it)
MAX_NEW_TERMS = 2
#: a cited passage sharing none of the sentence's words and less meaning than this with
#: its best sentence adds nothing: its marker is dropped when another one supports
MIN_CONTRIBUTION_SIMILARITY = 0.4

_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot".split())


@dataclass(frozen=True)
class SentenceCheck:
    """The verdict on one sentence of the draft."""

    text: str
    #: the passages (1-based, as the prompt numbered them) it cites after the check
    cites: tuple[int, ...]
    supported: bool
    #: share of its content words found in what it cites
    coverage: float
    #: best cosine between it and a sentence of what it cites
    similarity: float
    #: numbers and names it has that the cited text lacks
    missing: tuple[str, ...]
    #: its content words the cited text lacks
    new_terms: tuple[str, ...]


@dataclass(frozen=True)
class Verified:
    """A checked draft: the supported text with its citations, and every verdict."""

    text: str
    citations: tuple[Citation, ...]
    checks: tuple[SentenceCheck, ...]
    #: marker numbers that named no passage
    dropped_markers: tuple[int, ...]

    @property
    def kept(self) -> list[str]:
        return [c.text for c in self.checks if c.supported]

    @property
    def removed(self) -> list[str]:
        return [c.text for c in self.checks if not c.supported]

    @property
    def supported_sentence_rate(self) -> float | None:
        """Share of the draft's sentences that their citations support (``None``: none)."""
        if not self.checks:
            return None
        return round(len(self.kept) / len(self.checks), 4)


def negated(text: str) -> bool:
    """Whether the text says "not" in some form ("no", "never", "haven't")."""
    return any(w in _NEGATIONS or w.endswith("n't") for w in words(text))


def _numbers(text: str) -> set[str]:
    return {w.replace(",", "") for w in words(text) if any(ch.isdigit() for ch in w)}


@dataclass(frozen=True)
class _Source:
    """What checking needs of one passage, computed once."""

    passage: Passage
    terms: frozenset[str]
    vocabulary: frozenset[str]
    numbers: frozenset[str]
    sentence_terms: tuple[frozenset[str], ...]
    sentence_negated: tuple[bool, ...]
    vectors: np.ndarray  # one row per sentence (zeros where no vector is stored)


def _source(passage: Passage, vectors: Mapping[tuple[str, int], np.ndarray], dim: int) -> _Source:
    rows = [
        vectors.get((passage.passage_id, j), np.zeros(dim, dtype=np.float32))
        for j in range(len(passage.sentences))
    ]
    return _Source(
        passage=passage,
        terms=frozenset(terms(passage.text)),
        vocabulary=frozenset(words(passage.text)) | frozenset(terms(passage.text)),
        numbers=frozenset(_numbers(passage.text)),
        sentence_terms=tuple(frozenset(terms(s.text)) for s in passage.sentences),
        sentence_negated=tuple(negated(s.text) for s in passage.sentences),
        vectors=np.vstack(rows) if rows else np.zeros((0, dim), dtype=np.float32),
    )


def _check(
    unit: CitedSentence, cites: tuple[int, ...], sources: Sequence[_Source], vector: np.ndarray
) -> SentenceCheck:
    cited = [sources[n - 1] for n in cites]
    needed = set(terms(unit.text))
    available = frozenset().union(*(s.terms for s in cited)) if cited else frozenset()
    vocabulary = frozenset().union(*(s.vocabulary for s in cited)) if cited else frozenset()
    numbers = frozenset().union(*(s.numbers for s in cited)) if cited else frozenset()
    missing = sorted(n for n in _numbers(unit.text) if n not in numbers)
    missing += [name for name in question_names(unit.text) if not is_known(name, vocabulary)]
    if negated(unit.text) and cited:
        # the cited sentence the claim matches best must say "not" too
        _, negation = max(
            (
                (len(needed & st), neg)
                for s in cited
                for st, neg in zip(s.sentence_terms, s.sentence_negated, strict=True)
            ),
            default=(0, True),
        )
        if not negation:
            missing.append("not")
    new_terms = tuple(sorted(needed - available))
    coverage = 1 - len(new_terms) / len(needed) if needed else 1.0
    similarity = max(
        (float(np.max(s.vectors @ vector)) for s in cited if len(s.vectors)), default=0.0
    )
    supported = (
        bool(cited)
        and not missing
        and len(new_terms) <= MAX_NEW_TERMS
        and (coverage >= MIN_COVERAGE or similarity >= MIN_SIMILARITY)
    )
    return SentenceCheck(
        text=unit.text,
        cites=cites,
        supported=supported,
        coverage=round(coverage, 4),
        similarity=round(similarity, 4),
        missing=tuple(missing),
        new_terms=new_terms,
    )


def _best_sentence(
    source: _Source, needed: set[str], vector: np.ndarray
) -> tuple[int, float, float]:
    """(index, score, similarity) of the passage's sentence that best supports the claim."""
    best = (0, -1.0, 0.0)
    for j, sentence_terms in enumerate(source.sentence_terms):
        share = len(needed & sentence_terms) / len(needed) if needed else 0.0
        similarity = float(source.vectors[j] @ vector) if len(source.vectors) else 0.0
        score = 0.5 * share + 0.5 * similarity
        if score > best[1]:
            best = (j, score, similarity)
    return best


def verify(
    draft: str,
    passages: Sequence[Passage],
    sentence_vectors: Mapping[tuple[str, int], np.ndarray],
    encode: Callable[[list[str]], np.ndarray],
    articles: Mapping[str, tuple[str, str | None]] | None = None,
) -> Verified:
    """Check ``draft`` against ``passages`` (numbered from 1 as in the prompt).

    ``sentence_vectors`` holds the stored vector of each passage sentence, keyed by
    (passage id, sentence index); ``encode`` embeds the draft's sentences; ``articles``
    gives each article's (title, url) for the citations.
    """
    units = cited_sentences(draft)
    dropped = tuple(sorted({n for n in marker_numbers(draft) if not 1 <= n <= len(passages)}))
    units = [u for u in units if terms(u.text)]  # stray punctuation, "Yes.": nothing to check
    if not units:
        return Verified("", (), (), dropped)
    vectors = encode([u.text for u in units])
    dim = vectors.shape[1]
    sources = [_source(p, sentence_vectors, dim) for p in passages]
    checks: list[SentenceCheck] = []
    for unit, vector in zip(units, vectors, strict=True):
        cites = tuple(n for n in unit.cites if 1 <= n <= len(passages))
        if cites:
            check = _check(unit, cites, sources, vector)
        else:  # cites nothing (or only passages that do not exist): any passage may support it
            trials = [_check(unit, (n,), sources, vector) for n in range(1, len(passages) + 1)]
            good = [c for c in trials if c.supported]
            check = (
                max(good, key=lambda c: c.similarity) if good else _check(unit, (), sources, vector)
            )
        checks.append(check)

    text, citations = _cite(checks, vectors, sources, articles)
    return Verified(text, tuple(citations), tuple(checks), dropped)


def _cite(
    checks: Sequence[SentenceCheck],
    vectors: np.ndarray,
    sources: Sequence[_Source],
    articles: Mapping[str, tuple[str, str | None]] | None,
) -> tuple[str, list[Citation]]:
    """The supported sentences, each marked with the citations of the cited passages'
    sentences that best support it (numbered in order of first use), and those citations."""
    keys: dict[tuple[str, int], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for check, vector in zip(checks, vectors, strict=True):
        if not check.supported:
            continue
        needed = set(terms(check.text))
        picks = [(n, *_best_sentence(sources[n - 1], needed, vector)) for n in check.cites]
        useful = [
            p
            for p in picks
            if needed & sources[p[0] - 1].sentence_terms[p[1]]
            or p[3] >= MIN_CONTRIBUTION_SIMILARITY
        ]
        cited: list[int] = []
        for n, j, score, _ in useful or picks[:1]:
            passage = sources[n - 1].passage
            key = (passage.passage_id, j)
            if key not in keys:
                keys[key] = len(keys) + 1
                sentence = passage.sentences[j]
                citations.append(
                    cite(
                        keys[key], passage, sentence.start, sentence.end, max(score, 0.0), articles
                    )
                )
            if keys[key] not in cited:
                cited.append(keys[key])
        parts.append(f"{check.text} {markers(cited)}")
    return " ".join(parts), citations
