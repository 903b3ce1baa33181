"""The plain LangChain RAG-tutorial pipeline: the baseline our assistant has to beat.

It does what the tutorial does and nothing more: ``RecursiveCharacterTextSplitter``
(1000 characters, 200 overlap, ``add_start_index=True``), an in-memory Chroma collection
(cosine) embedded with the project's ``LocalEmbeddings`` (never Chroma's default
embedder, which downloads a model), a top-4 similarity search, and the top chunk,
verbatim, as the answer, cited as ``[1]`` with its offsets in the article body. It never
abstains and ignores the conversation history (the tutorial has no memory); a case's
``article`` scope is applied as a metadata filter so both pipelines see the same articles.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.errors import UnknownArticleError
from assistant.schemas import Answer, Article, Citation, RetrievedPassage, Turn

if TYPE_CHECKING:
    from langchain_chroma import Chroma

    from assistant.embeddings import LocalEmbeddings

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
TOP_K = 4
MODE = "tutorial"


class TutorialPipeline:
    """Chunks in Chroma, top-4 similarity, the top chunk as the answer; asked like ``Assistant``."""

    def __init__(self, vectorstore: Chroma, articles: Sequence[Article], k: int = TOP_K) -> None:
        self.vectorstore = vectorstore
        self.titles = {a.id: a.title for a in articles}
        self.k = k

    @classmethod
    def build(
        cls, articles: Sequence[Article], embeddings: LocalEmbeddings, k: int = TOP_K
    ) -> TutorialPipeline:
        """Split and embed ``articles`` into a fresh in-memory collection."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
        )
        documents = splitter.split_documents(
            [
                Document(
                    page_content=a.body, metadata={"article_id": a.id, "article_title": a.title}
                )
                for a in articles
            ]
        )
        client = chromadb.EphemeralClient(settings=ChromaSettings(anonymized_telemetry=False))
        vectorstore = Chroma(
            client=client,
            # ephemeral clients share one in-process database: a unique name keeps runs apart
            collection_name=f"tutorial-{uuid.uuid4().hex}",
            embedding_function=embeddings,
            collection_configuration={"hnsw": {"space": "cosine"}},  # type: ignore[arg-type]
        )
        counters: dict[str, int] = {}
        ids = []
        for doc in documents:
            article_id = doc.metadata["article_id"]
            counters[article_id] = counters.get(article_id, -1) + 1
            ids.append(f"{article_id}:chunk{counters[article_id]}")
        if documents:
            vectorstore.add_documents(documents, ids=ids)
        return cls(vectorstore, articles, k)

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Answer:
        """The top chunk as the answer, with the top-k chunks as ``passages``."""
        started = time.perf_counter()
        if article is not None and article not in self.titles:
            raise UnknownArticleError(f"unknown article id {article!r}")
        found = self.vectorstore.similarity_search_with_score(
            question, k=self.k, filter={"article_id": article} if article else None
        )
        passages: list[RetrievedPassage] = []
        citations: list[Citation] = []
        for doc, distance in found:
            article_id = str(doc.metadata["article_id"])
            passage_id = str(doc.id or "")
            score = round(1.0 - float(distance), 4)  # cosine distance to similarity
            passages.append(
                RetrievedPassage(
                    passage_id=passage_id, article_id=article_id, text=doc.page_content, score=score
                )
            )
            if not citations:
                start = int(doc.metadata["start_index"])
                citations.append(
                    Citation(
                        n=1,
                        article_id=article_id,
                        article_title=str(doc.metadata.get("article_title", "")),
                        passage_id=passage_id,
                        quote=doc.page_content,
                        start=start,
                        end=start + len(doc.page_content),
                        score=score,
                    )
                )
        answer = Answer(
            question=question,
            answer=f"{citations[0].quote} [1]" if citations else "",
            abstained=False,
            mode=MODE,
            citations=citations,
            passages=passages,
        )
        answer.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return answer

    def close(self) -> None:
        """Drop the in-memory collection."""
        self.vectorstore.delete_collection()
