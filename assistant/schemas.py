"""The typed objects every part of the assistant passes around (and the API returns)."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, Field


class Article(BaseModel):
    """One article: its id, metadata and the body text that offsets point into."""

    id: str
    title: str
    body: str
    url: str | None = None
    published: str | None = None
    author: str | None = None
    source_path: str | None = None

    @property
    def content_hash(self) -> str:
        """Changes whenever anything that ends up in the index changes."""
        digest = hashlib.sha256()
        for part in (
            self.id,
            self.title,
            self.url or "",
            self.published or "",
            self.body,
        ):
            digest.update(part.encode("utf-8"))
            digest.update(b"\x00")
        return digest.hexdigest()[:16]


class Sentence(BaseModel):
    """A sentence with character offsets into its article's body."""

    start: int
    end: int
    text: str


class Passage(BaseModel):
    """A paragraph of an article, with its sentences; offsets are into the article body."""

    passage_id: str
    article_id: str
    article_title: str
    index: int
    start: int
    end: int
    text: str
    sentences: list[Sentence]


class Turn(BaseModel):
    """One earlier message of a conversation."""

    role: Literal["user", "assistant"]
    content: str


class Citation(BaseModel):
    """A cited quote: verbatim article text, ``article_body[start:end] == quote``."""

    n: int
    article_id: str
    article_title: str
    passage_id: str
    quote: str
    start: int
    end: int
    score: float
    url: str | None = None


class RetrievedPassage(BaseModel):
    """One retrieval hit, as reported in the answer's ``passages``."""

    passage_id: str
    article_id: str
    text: str
    score: float


class Answer(BaseModel):
    """What every front end renders and the evaluation scores."""

    question: str
    answer: str
    abstained: bool
    #: "extractive" (the default answerer), "generative" (a language model's answer, checked
    #: sentence by sentence) or "extractive-fallback" (the model failed; quoted instead)
    mode: str = "extractive"
    citations: list[Citation] = Field(default_factory=list)
    passages: list[RetrievedPassage] = Field(default_factory=list)
    latency_ms: float = 0.0
    #: why a language model's answer was replaced by the extractive one ("extractive-fallback")
    fallback_reason: str | None = None
    #: generative answers: share of the model's sentences that what they cite supports
    supported_sentence_rate: float | None = None
    #: generative answers: the model's sentences that were removed as unsupported
    removed_sentences: list[str] = Field(default_factory=list)
