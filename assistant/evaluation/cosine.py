"""The plain "best sentences by cosine similarity" pipeline: the floor our answerer must beat.

No rules at all: every article is split into sentences exactly as the assistant splits
it (``assistant.chunking``), each sentence is embedded with the project's model, and a
question's answer is the ``SENTENCES`` sentences most similar to it (in reading order),
each cited. It never abstains and ignores the conversation history, like the tutorial
pipeline; a case's ``article`` scope limits the sentences searched. Whatever the
assistant's ranking and refusal rules add must show up as a gain over this pick.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.errors import UnknownArticleError
from assistant.schemas import Answer, Article, Citation, RetrievedPassage, Turn

if TYPE_CHECKING:
    from assistant.embeddings import LocalEmbeddings

#: sentences in an answer: two hold every key fact of most questions (issue 13's measure)
SENTENCES = 2
#: sentences reported as ``passages`` (what evidence_recall_at_k and mrr read)
TOP_K = 4
MODE = "cosine"


@dataclass(frozen=True)
class _Sentence:
    article_id: str
    title: str
    passage_id: str
    start: int
    end: int
    text: str


class CosinePipeline:
    """Sentences ranked by cosine similarity to the question; asked like ``Assistant``."""

    def __init__(
        self,
        sentences: Sequence[_Sentence],
        vectors: np.ndarray,
        embeddings: LocalEmbeddings,
        sentences_per_answer: int = SENTENCES,
    ) -> None:
        self.sentences = list(sentences)
        self.vectors = vectors
        self.embeddings = embeddings
        self.per_answer = sentences_per_answer
        self.articles = {s.article_id for s in sentences}

    @classmethod
    def build(
        cls,
        articles: Sequence[Article],
        embeddings: LocalEmbeddings,
        sentences_per_answer: int = SENTENCES,
    ) -> CosinePipeline:
        """Split ``articles`` into sentences and embed them."""
        from assistant.chunking import split_article

        found: dict[tuple[str, int], _Sentence] = {}
        for article in articles:
            for passage in split_article(article):
                for s in passage.sentences:
                    # passages overlap: a sentence shared by two is kept once
                    found.setdefault(
                        (article.id, s.start),
                        _Sentence(
                            article.id, article.title, passage.passage_id, s.start, s.end, s.text
                        ),
                    )
        sentences = [found[key] for key in sorted(found)]
        vectors = embeddings.encode([s.text for s in sentences])
        return cls(sentences, vectors, embeddings, sentences_per_answer)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Answer:
        """The best sentences, cited, as the answer; the top ``TOP_K`` as ``passages``."""
        started = time.perf_counter()
        if article is not None and article not in self.articles:
            raise UnknownArticleError(f"unknown article id {article!r}")
        rows = [
            i for i, s in enumerate(self.sentences) if article is None or s.article_id == article
        ]
        scores = self.vectors[rows] @ self.embeddings.query_vector(question)
        ranked = [rows[i] for i in np.argsort(-scores, kind="stable")]
        score = {rows[i]: float(scores[i]) for i in range(len(rows))}
        chosen = sorted(ranked[: self.per_answer])  # reading order
        citations = [
            Citation(
                n=n,
                article_id=s.article_id,
                article_title=s.title,
                passage_id=s.passage_id,
                quote=s.text,
                start=s.start,
                end=s.end,
                score=round(score[i], 4),
            )
            for n, (i, s) in enumerate(((i, self.sentences[i]) for i in chosen), start=1)
        ]
        passages = [
            RetrievedPassage(
                passage_id=f"{self.sentences[i].passage_id}@{self.sentences[i].start}",
                article_id=self.sentences[i].article_id,
                text=self.sentences[i].text,
                score=round(score[i], 4),
            )
            for i in ranked[:TOP_K]
        ]
        answer = Answer(
            question=question,
            answer=" ".join(f"{c.quote} [{c.n}]" for c in citations),
            abstained=False,
            mode=MODE,
            citations=citations,
            passages=passages,
        )
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return answer
