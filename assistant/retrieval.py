"""The retriever: dense similarity (Chroma) fused with BM25 (``lexical.py``), scoped by article.

It is aware of the conversation: a follow-up question is searched with the one before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from assistant.aliases import expand
from assistant.lexical import LexicalIndex
from assistant.schemas import Passage, Turn
from assistant.text import terms, words

if TYPE_CHECKING:
    from assistant.embeddings import LocalEmbeddings
    from assistant.store import Store

#: weight of the dense cosine in the fused passage score; the rest is normalised BM25.
#: Dense carries paraphrases ("Pyongyang" for North Korea); BM25 carries rare names.
DENSE_WEIGHT = 0.6
#: a scope this small (one article) is searched exactly in memory rather than through
#: Chroma's index; larger scopes (the whole archive) use the index
EXACT_SCOPE = 500

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


@dataclass(frozen=True)
class HybridRetriever:
    """Dense cosine from Chroma fused with BM25; ``article_id`` scopes the search.

    A plain object, not a LangChain ``BaseRetriever``: the chain's retrieve step (a
    runnable) calls ``search``, whose ``Hit``s keep both signals that the answerer scores
    with; nothing used the retriever as LangChain documents.
    """

    store: Store
    embeddings: LocalEmbeddings
    lexical: LexicalIndex
    k: int = 4
    article_id: str | None = None
    dense_weight: float = DENSE_WEIGHT

    def scoped(self, article_id: str | None, k: int | None = None) -> HybridRetriever:
        """The same retriever limited to one article (or all when ``None``)."""
        return replace(self, article_id=article_id, k=k or self.k)

    def search(self, query: str, vector: np.ndarray | None = None) -> list[Hit]:
        """The top ``k`` passages for ``query`` in scope, best first."""
        store, lexical, embeddings = self.store, self.lexical, self.embeddings
        scope_size = len(lexical.scope(self.article_id))
        if scope_size == 0:
            return []
        if vector is None:
            vector = embeddings.query_vector(query)
        pool = min(scope_size, max(4 * self.k, 20))
        if self.article_id is not None and scope_size <= EXACT_SCOPE:
            # one article: every passage's cosine from its cached vector, exact and without
            # a round trip to Chroma (which costs more than the arithmetic)
            ids = [p.passage_id for p in lexical.scope(self.article_id)]
            dense = {pid: float(v @ vector) for pid, v in store.passage_vectors(ids).items()}
        else:
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
