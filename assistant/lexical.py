"""The lexical side of retrieval: BM25 over passages, with the document frequencies and the
vocabulary that the answerer also uses, scoped to one article or to the whole archive.

Hand-written on purpose. rank-bm25 scores every document in Python for each query term
(170 ms a question over 100,000 passages) and bm25s needs 10 s to index them; an
inverted index scores only the passages that hold a query term, and is built in the same
single pass over each passage's words that gives the document frequencies and the
vocabulary. The scores are rank-bm25's ``BM25Okapi`` ones exactly (same k1, b, epsilon
and idf floor), so answers did not change when it replaced that library.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from assistant.schemas import Passage
from assistant.text import terms, words

#: BM25Okapi's parameters in rank-bm25
K1, B, EPSILON = 1.5, 0.75, 0.25
#: rank-bm25 indexes an empty document as this one token, so that lengths are never 0
_EMPTY = "\x00"


@dataclass(frozen=True)
class Tokens:
    """One passage as matching sees it: stemmed term counts and every word form it uses."""

    counts: Counter[str]
    length: int
    vocabulary: frozenset[str]
    #: the text these tokens were read from (a replaced article reuses its passage ids)
    text_hash: int

    @classmethod
    def of(cls, text: str) -> Tokens:
        found = terms(text) or [_EMPTY]
        vocabulary = frozenset(words(text)) | frozenset(found)
        return cls(Counter(found), len(found), vocabulary, hash(text))


class _Scope:
    """BM25 statistics and postings of one set of passages (an article, or all of them)."""

    def __init__(self, passages: Sequence[Passage], tokens: Sequence[Tokens]) -> None:
        self.ids = [p.passage_id for p in passages]
        self.lengths = [t.length for t in tokens]
        self.n = len(passages)
        self.avgdl = sum(self.lengths) / self.n if self.n else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for i, t in enumerate(tokens):
            for term, tf in t.counts.items():
                self.postings.setdefault(term, []).append((i, tf))
        self.df = {term: len(posts) for term, posts in self.postings.items()}
        # BM25Okapi's idf: terms in more than half the passages get a small positive floor
        idf = {t: math.log(self.n - d + 0.5) - math.log(d + 0.5) for t, d in self.df.items()}
        floor = EPSILON * (sum(idf.values()) / len(idf)) if idf else 0.0
        self.bm25_idf = {t: (v if v >= 0 else floor) for t, v in idf.items()}
        self._vocabulary: frozenset[str] | None = None
        self._tokens = tokens

    def scores(self, query_terms: Iterable[str]) -> dict[int, float]:
        found: dict[int, float] = {}
        for term in query_terms:
            idf = self.bm25_idf.get(term, 0.0)
            for i, tf in self.postings.get(term, ()):
                norm = K1 * (1 - B + B * self.lengths[i] / self.avgdl)
                found[i] = found.get(i, 0.0) + idf * tf * (K1 + 1) / (tf + norm)
        return found

    def vocabulary(self) -> frozenset[str]:
        if self._vocabulary is None:
            self._vocabulary = frozenset().union(*(t.vocabulary for t in self._tokens))
        return self._vocabulary


class LexicalIndex:
    """BM25 over passages, one scope for all and one per article (each built on first use).

    Passages are read once into ``Tokens``; an index made with ``updated`` shares them, so
    adding one article to a large archive does not read every other article again.
    """

    def __init__(
        self, passages: Sequence[Passage], tokens: dict[str, Tokens] | None = None
    ) -> None:
        self.passages = {p.passage_id: p for p in passages}
        self._by_article: dict[str | None, list[Passage]] = {None: list(passages)}
        for p in passages:
            self._by_article.setdefault(p.article_id, []).append(p)
        self._tokens: dict[str, Tokens] = tokens if tokens is not None else {}
        self._scopes: dict[str | None, _Scope] = {}
        #: one lock per scope being built: a question never builds what another thread is
        #: building (the archive's scope takes seconds), nor waits for another scope
        self._building: dict[str | None, threading.Lock] = {}
        self._locks = threading.Lock()

    def rebuilt(self, passages: Sequence[Passage]) -> LexicalIndex:
        """A new index over ``passages``, reusing the tokens of those it already read."""
        return LexicalIndex(passages, self._tokens)

    def updated(self, article_id: str, passages: Sequence[Passage]) -> LexicalIndex:
        """A new index with one article's passages replaced (none: the article removed)."""
        kept = [p for p in self._by_article[None] if p.article_id != article_id]
        merged = sorted([*kept, *passages], key=lambda p: (p.article_id, p.index))
        for gone in {p.passage_id for p in self.scope(article_id)} - {
            p.passage_id for p in passages
        }:
            self._tokens.pop(gone, None)
        return LexicalIndex(merged, self._tokens)

    def scope(self, article_id: str | None) -> list[Passage]:
        return self._by_article.get(article_id, [])

    def _tokens_of(self, passage: Passage) -> Tokens:
        # keyed by id and checked by text: a replaced article reuses its passage ids
        cached = self._tokens.get(passage.passage_id)
        if cached is None or cached.text_hash != hash(passage.text):
            cached = self._tokens[passage.passage_id] = Tokens.of(passage.text)
        return cached

    def _scope(self, article_id: str | None) -> _Scope:
        found = self._scopes.get(article_id)
        if found is None:
            with self._locks:
                building = self._building.setdefault(article_id, threading.Lock())
            with building:
                found = self._scopes.get(article_id)
                if found is None:
                    passages = self.scope(article_id)
                    found = _Scope(passages, [self._tokens_of(p) for p in passages])
                    self._scopes[article_id] = found
        return found

    def built(self, article_id: str | None) -> bool:
        """Whether the scope of ``article_id`` (``None``: the archive) is built yet."""
        return article_id in self._scopes

    def prepare_archive(self) -> None:
        """Build the archive-wide scope and its vocabulary now (seconds for a large
        archive), so that the first question across all articles does not wait for it;
        a question scoped to one article never needs it."""
        self._scope(None).vocabulary()

    def scores(self, query_terms: Sequence[str], article_id: str | None) -> dict[str, float]:
        """BM25 of the passages in scope that hold a query term, divided by the best one
        (so 0..1); passages without any query term score 0 and are left out."""
        if not self.scope(article_id) or not query_terms:
            return {}
        scope = self._scope(article_id)
        raw = scope.scores(query_terms)
        top = max(raw.values(), default=0.0)
        if top <= 0:
            return {}
        return {scope.ids[i]: max(0.0, s) / top for i, s in raw.items()}

    def idf(self, term: str, article_id: str | None) -> float:
        """Smoothed inverse document frequency of a stemmed term in the scope's passages.

        A term the scope never uses gets the highest weight: a question about something
        the article does not mention should find no sentence that covers it.
        """
        scope = self._scope(article_id)
        df = scope.df.get(term, 0)
        return math.log(1.0 + (scope.n - df + 0.5) / (df + 0.5))

    def vocabulary(self, article_id: str | None) -> frozenset[str]:
        """Every word (lower case) and stemmed term used in the scope, for name look-ups."""
        return self._scope(article_id).vocabulary()
