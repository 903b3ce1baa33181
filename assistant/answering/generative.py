"""The language model answerer: numbered passages and the question in, a draft with ``[n]``
markers out (checked afterwards by ``verify.py``), whole or streamed; when the model fails,
the extractive answerer's answer stands in for it (``GenerativeAnswerer``).

The rules (answer only from the passages, cite every sentence, say ``NO_ANSWER`` when
they do not answer) sit in the system message; the passages and the reader's question
sit in the user message inside delimited data tags, which the system message says are
never instructions. A question cannot close those tags early: tag-like text that
matches them is removed from the data before it is filled in.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import Runnable

from assistant import prompts
from assistant.answering import extractive, verify
from assistant.answering.base import Request, Retrieved, refusal_text
from assistant.errors import LLMError
from assistant.llm import describe_failure
from assistant.schemas import Answer, Delta, Final, Passage, StreamEvent, Turn

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.embeddings import LocalEmbeddings

logger = logging.getLogger(__name__)

#: what the model says when the passages do not answer (the answer prompt asks for it)
NO_ANSWER = "NO_ANSWER"
#: the data tags of the prompts; text in the data that looks like one of them is removed
_DATA_TAG = re.compile(r"</?\s*(passages|question|conversation)\b[^>]*>", re.IGNORECASE)
#: a rewritten question longer than this is not a question (the model ran on)
MAX_REWRITE_FACTOR = 4


def as_data(text: str) -> str:
    """``text`` safe to place between the prompts' data tags (cannot close them)."""
    return _DATA_TAG.sub(" ", text).strip()


def format_passages(passages: Sequence[Passage]) -> str:
    """The passages as the prompt numbers them: ``[1] (Title) text``, one per paragraph."""
    return "\n\n".join(
        f"[{n}] ({as_data(p.article_title)}) {as_data(p.text)}"
        for n, p in enumerate(passages, start=1)
    )


def answer_prompt() -> ChatPromptTemplate:
    """The answer prompt from ``prompts/answer_system.txt`` and ``prompts/answer_user.txt``."""
    return ChatPromptTemplate.from_messages(
        [
            ("system", prompts.load_template("answer_system")),
            ("human", prompts.load_template("answer_user")),
        ]
    )


def rewrite_prompt() -> ChatPromptTemplate:
    """The follow-up rewriting prompt from ``prompts/rewrite_*.txt``."""
    return ChatPromptTemplate.from_messages(
        [
            ("system", prompts.load_template("rewrite_system")),
            ("human", prompts.load_template("rewrite_user")),
        ]
    )


def answer_chain(model: BaseChatModel) -> Runnable[dict[str, str], str]:
    """prompt → model → text: the generative half of the retrieval chain."""
    return (answer_prompt() | model | StrOutputParser()).with_config(run_name="answer_generative")


def answer_inputs(question: str, passages: Sequence[Passage]) -> dict[str, str]:
    """The answer prompt's variables."""
    return {"passages": format_passages(passages), "question": as_data(question)}


def generate(model: BaseChatModel, question: str, passages: Sequence[Passage]) -> str:
    """The model's draft answer; ``LLMError`` (with a reason for a reader) when it fails."""
    try:
        text = answer_chain(model).invoke(answer_inputs(question, passages))
    except Exception as exc:  # each provider raises its own types; all mean "no answer"
        raise LLMError(describe_failure(exc)) from exc
    return check_draft(text)


class DraftStream:
    """The draft in pieces as the model writes it; ``text`` holds all of it afterwards.

    Iterating raises ``LLMError`` when the model fails. Text that may still turn out to
    be ``NO_ANSWER`` is held back, so a reader never sees the token flash up before the
    refusal replaces it.
    """

    def __init__(self, model: BaseChatModel, question: str, passages: Sequence[Passage]) -> None:
        self._chain = answer_chain(model)
        self._inputs = answer_inputs(question, passages)
        #: everything the model wrote so far
        self.text = ""

    def __iter__(self) -> Iterator[str]:
        state = "deciding"  # then "open" (pieces pass through) or "refused" (all held)
        try:
            for piece in self._chain.stream(self._inputs):
                self.text += piece
                if state == "open":
                    yield piece
                elif state == "deciding":
                    start = self.text.lstrip()
                    if start.startswith(NO_ANSWER):
                        state = "refused"
                    elif not NO_ANSWER.startswith(start):
                        state = "open"
                        yield self.text
        except Exception as exc:  # each provider raises its own types; all mean "no answer"
            raise LLMError(describe_failure(exc)) from exc
        if state == "deciding" and self.text.strip():
            yield self.text


def check_draft(text: object) -> str:
    """The draft as text; ``LLMError`` when there is nothing usable in it."""
    if not isinstance(text, str) or not text.strip():
        raise LLMError("the language model returned an empty answer")
    return text.strip()


def is_abstention(text: str) -> bool:
    """Whether the draft says the passages do not answer (``NO_ANSWER``)."""
    return text.strip().strip(".\"'` ").upper().startswith(NO_ANSWER)


def format_history(history: Sequence[Turn]) -> str:
    """Earlier turns as the rewrite prompt shows them: ``Reader: ...`` / ``Assistant: ...``."""
    who = {"user": "Reader", "assistant": "Assistant"}
    return "\n".join(f"{who[t.role]}: {as_data(' '.join(t.content.split()))}" for t in history)


def rewrite(model: BaseChatModel, question: str, history: Sequence[Turn]) -> str | None:
    """A follow-up question rewritten to stand alone: ``None`` when the reply is not a
    question, ``LLMError`` when the model fails."""
    chain = (rewrite_prompt() | model | StrOutputParser()).with_config(run_name="rewrite")
    try:
        text = chain.invoke({"history": format_history(history), "question": as_data(question)})
    except Exception as exc:
        raise LLMError(describe_failure(exc)) from exc
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    standalone = as_data(lines[0].strip("\"'“” ")) if lines else ""
    if not standalone or len(standalone) > MAX_REWRITE_FACTOR * len(question) + 200:
        return None
    return standalone


class GenerativeAnswerer:
    """A language model's answer, verified sentence by sentence against what it cites;
    the extractive answer (marked ``extractive-fallback``) when the model fails."""

    def __init__(
        self,
        model: BaseChatModel,
        embeddings: LocalEmbeddings,
        fallback: extractive.ExtractiveAnswerer,
    ) -> None:
        self.model = model
        #: embeds the draft's sentences for verification
        self.embeddings = embeddings
        self.fallback = fallback

    def standalone(self, request: Request) -> tuple[str | None, str | None]:
        """A follow-up rewritten by the model to stand alone, and why that failed (if it did)."""
        if not request.history:
            return None, None
        try:
            return rewrite(self.model, request.question, request.history), None
        except LLMError as exc:
            logger.warning("the language model could not rewrite a follow-up: %s", exc)
            return None, str(exc)

    def answer(self, retrieved: Retrieved) -> Iterator[StreamEvent]:
        """The draft in ``Delta``s as the model writes it, then the verified answer."""
        if retrieved.llm_failure or not retrieved.hits:
            # a model already found failing, or nothing to answer from
            yield Final(self._fallback(retrieved, retrieved.llm_failure))
            return
        question = retrieved.standalone or retrieved.request.question
        draft = DraftStream(self.model, question, [h.passage for h in retrieved.hits])
        try:
            for piece in draft:
                yield Delta(piece)
            answer = self._verified(retrieved, check_draft(draft.text))
        except LLMError as exc:
            answer = self._fallback(retrieved, str(exc))
        yield Final(answer)

    def _verified(self, state: Retrieved, draft: str) -> Answer:
        """The answer from a model's draft: verified, cited; ``LLMError`` when none survives."""
        from assistant.store import sentence_id

        request, knowledge = state.request, state.knowledge
        reported = extractive.retrieved(state.hits)
        if is_abstention(draft):
            text = refusal_text("no_match", (), knowledge, request.article)
            return Answer(
                question=request.question,
                answer=text,
                abstained=True,
                mode="generative",
                passages=reported,
            )
        passages = [h.passage for h in state.hits]
        stored = knowledge.store.sentence_vectors(passages)
        vectors = {
            (p.passage_id, j): stored[sentence_id(p.passage_id, j)]
            for p in passages
            for j in range(len(p.sentences))
            if sentence_id(p.passage_id, j) in stored
        }
        links = knowledge.links({p.article_id for p in passages})
        result = verify.verify(draft, passages, vectors, self.embeddings.encode, links)
        if not result.citations:
            raise LLMError(
                "the language model's answer was not supported by the article"
                if result.checks
                else "the language model returned no usable answer"
            )
        if result.removed:
            logger.info("removed %d unsupported sentence(s)", len(result.removed))
        return Answer(
            question=request.question,
            answer=result.text,
            abstained=False,
            mode="generative",
            citations=list(result.citations),
            passages=reported,
            supported_sentence_rate=result.supported_sentence_rate,
            removed_sentences=result.removed,
        )

    def _fallback(self, state: Retrieved, reason: str | None) -> Answer:
        """The extractive answer, marked as standing in for the model's (when it failed)."""
        answer = self.fallback.compose(state)
        if reason is None:
            return answer
        logger.warning("answering extractively: %s", reason)
        return answer.model_copy(update={"mode": "extractive-fallback", "fallback_reason": reason})
