"""The typed objects every part of the assistant passes around (and the API returns)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, Field, computed_field


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


#: how an answer was made: "extractive" (the default answerer), "generative" (a language
#: model's answer, checked sentence by sentence) or "extractive-fallback" (the model
#: failed; the article quoted instead); "tutorial" and "cosine" are the evaluation's
#: baseline pipelines (``assistant eval --pipeline``)
AnswerMode = Literal["extractive", "generative", "extractive-fallback", "tutorial", "cosine"]


class Answer(BaseModel):
    """What every front end renders and the evaluation scores."""

    question: str
    answer: str
    abstained: bool
    mode: AnswerMode = "extractive"
    citations: list[Citation] = Field(default_factory=list)
    passages: list[RetrievedPassage] = Field(default_factory=list)
    latency_ms: float = 0.0
    #: why a language model's answer was replaced by the extractive one ("extractive-fallback")
    fallback_reason: str | None = None
    #: generative answers: share of the model's sentences that what they cite supports
    supported_sentence_rate: float | None = None
    #: generative answers: the model's sentences that were removed as unsupported
    removed_sentences: list[str] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def note(self) -> str | None:
        """A sentence under the answer saying how it was made, when the reader should know
        (a fallback, sentences left out); every front end shows this one."""
        if self.mode == "extractive-fallback":
            reason = self.fallback_reason or "the language model failed"
            return f"Answered from the article directly: {reason}."
        removed = len(self.removed_sentences)
        if removed:
            what = "sentence" if removed == 1 else "sentences"
            return f"{removed} {what} of the model's answer the article does not support left out."
        return None


@dataclass(frozen=True)
class ArticleInfo:
    """What the index knows of one article."""

    id: str
    title: str
    url: str | None
    published: str | None
    content_hash: str
    passages: int


@dataclass(frozen=True)
class Delta:
    """A piece of the answer as the language model writes it (a draft, not yet checked)."""

    text: str


@dataclass(frozen=True)
class Final:
    """The finished answer with its citations: the last event of an answer's stream."""

    answer: Answer


#: what ``Assistant.stream`` and every ``Answerer`` yield: ``Delta``s, then one ``Final``
StreamEvent = Delta | Final
