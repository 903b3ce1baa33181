"""The retriever: dense similarity (Chroma) fused with BM25, scoped by article.

It is aware of the conversation: a follow-up question is searched with the one before.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.aliases import expand
from assistant.schemas import Passage, Turn
from assistant.text import terms, words

if TYPE_CHECKING:
    from rank_bm25 import BM25Okapi

    from assistant.embeddings import LocalEmbeddings
    from assistant.store import Store

#: weight of the dense cosine in the fused passage score; the rest is normalised BM25.
#: Dense carries paraphrases ("Pyongyang" for North Korea); BM25 carries rare names.
DENSE_WEIGHT = 0.6

#: words that make a question lean on the previous turn ("What did *he* say?")
_ANAPHORA = frozenset(
    "he she they him her his hers their theirs them it its this that these those there "
    "then former latter".split()
)
_CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|why|so|but)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    """One retrieved passage with its fused score and the two signals it came from."""

    passage: Passage
    score: float
    dense: float
    lexical: float


class LexicalIndex:
    """BM25 over passages, one index for all and one per article (built on first use)."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = {p.passage_id: p for p in passages}
        self._by_article: dict[str | None, list[Passage]] = {None: list(passages)}
        for p in passages:
            self._by_article.setdefault(p.article_id, []).append(p)
        self._bm25: dict[str | None, BM25Okapi] = {}
        self._df: dict[str | None, tuple[int, Counter[str]]] = {}
        self._vocab: dict[str | None, frozenset[str]] = {}

    def scope(self, article_id: str | None) -> list[Passage]:
        return self._by_article.get(article_id, [])

    def _index(self, article_id: str | None) -> BM25Okapi:
        if article_id not in self._bm25:
            from rank_bm25 import BM25Okapi

            corpus = [terms(p.text) or ["\x00"] for p in self.scope(article_id)]
            self._bm25[article_id] = BM25Okapi(corpus or [["\x00"]])
        return self._bm25[article_id]

    def scores(self, query_terms: Sequence[str], article_id: str | None) -> dict[str, float]:
        """BM25 of each passage in scope, divided by the best one (so 0..1)."""
        passages = self.scope(article_id)
        if not passages or not query_terms:
            return {}
        raw = self._index(article_id).get_scores(list(query_terms))
        top = float(np.max(raw)) if len(raw) else 0.0
        if top <= 0:
            return {p.passage_id: 0.0 for p in passages}
        return {p.passage_id: max(0.0, float(s)) / top for p, s in zip(passages, raw, strict=True)}

    def idf(self, term: str, article_id: str | None) -> float:
        """Smoothed inverse document frequency of a stemmed term in the scope's passages.

        A term the scope never uses gets the highest weight: a question about something
        the article does not mention should find no sentence that covers it.
        """
        if article_id not in self._df:
            scope = self.scope(article_id)
            self._df[article_id] = (
                len(scope),
                Counter(t for p in scope for t in set(terms(p.text))),
            )
        n, df = self._df[article_id]
        return math.log(1.0 + (n - df[term] + 0.5) / (df[term] + 0.5))

    def vocabulary(self, article_id: str | None) -> frozenset[str]:
        """Every word (lower case) and stemmed term used in the scope, for name look-ups."""
        if article_id not in self._vocab:
            found: set[str] = set()
            for p in self.scope(article_id):
                found.update(words(p.text))
                found.update(terms(p.text))
            self._vocab[article_id] = frozenset(found)
        return self._vocab[article_id]


def is_follow_up(question: str) -> bool:
    """True when the question leans on an earlier turn: a pronoun ("What did *he* say?"),
    a continuation ("And Orban?"), or no content word of its own ("Why?")."""
    tokens = words(question)
    return (
        bool(_ANAPHORA.intersection(tokens))
        or bool(_CONTINUATION.match(question))
        or not terms(question)
    )


def contextualize(question: str, history: Sequence[Turn]) -> str:
    """A standalone search query: a follow-up question is joined to the previous question.

    Without a language model, the earlier question is the best available stand-in for
    what "he" or "that" refers to; it is added only when the new question leans on it.
    """
    previous = [t.content for t in history if t.role == "user" and t.content.strip()]
    if not previous or not is_follow_up(question):
        return question
    return f"{previous[-1].strip()} {question}"


class HybridRetriever(BaseRetriever):
    """Dense cosine from Chroma fused with BM25; ``article_id`` scopes the search."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Any
    embeddings: Any
    lexical: Any
    k: int = 4
    article_id: str | None = None
    dense_weight: float = DENSE_WEIGHT

    def scoped(self, article_id: str | None, k: int | None = None) -> HybridRetriever:
        """The same retriever limited to one article (or all when ``None``)."""
        return self.model_copy(update={"article_id": article_id, "k": k or self.k})

    def search(self, query: str, vector: np.ndarray | None = None) -> list[Hit]:
        """The top ``k`` passages for ``query`` in scope, best first."""
        store: Store = self.store
        lexical: LexicalIndex = self.lexical
        embeddings: LocalEmbeddings = self.embeddings
        scope_size = len(lexical.scope(self.article_id))
        if scope_size == 0:
            return []
        if vector is None:
            vector = embeddings.query_vector(query)
        pool = min(scope_size, max(4 * self.k, 20))
        dense = dict(store.dense_search(vector, pool, self.article_id))
        bm25 = lexical.scores(terms(expand(query)), self.article_id)
        best_lexical = sorted(bm25, key=bm25.__getitem__, reverse=True)[:pool]
        missing = [pid for pid in best_lexical if pid not in dense and bm25[pid] > 0]
        for pid, vec in store.passage_vectors(missing).items():
            dense[pid] = float(vec @ vector)
        hits = [
            Hit(
                passage=lexical.passages[pid],
                score=self.dense_weight * cos + (1 - self.dense_weight) * bm25.get(pid, 0.0),
                dense=cos,
                lexical=bm25.get(pid, 0.0),
            )
            for pid, cos in dense.items()
            if pid in lexical.passages
        ]
        hits.sort(key=lambda h: h.score, reverse=True)
        return hits[: self.k]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return [
            Document(
                page_content=hit.passage.text,
                id=hit.passage.passage_id,
                metadata={**hit.passage.model_dump(exclude={"text"}), "score": hit.score},
            )
            for hit in self.search(query)
        ]
