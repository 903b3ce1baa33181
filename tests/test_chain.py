"""The thin ``Assistant``: check, retrieve, answer through one ``Answerer``; ``ask`` is the
last event of ``stream``; the answer says once how it was made (``Answer.note``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from pydantic import ValidationError

from assistant.answering.base import Answerer, Retrieved, final_answer
from assistant.answering.extractive import ExtractiveAnswerer
from assistant.answering.generative import GenerativeAnswerer
from assistant.chain import Assistant
from assistant.schemas import Answer, Delta, Final, StreamEvent
from tests.conftest import SEED_ID

QUESTIONS = [
    ("What did Orban say?", SEED_ID),
    ("What has frustrated Kyiv?", None),
    ("Who won the football match?", SEED_ID),
    ("Where did Zelensky speak, and why was he there?", None),
]


def without_latency(answer: Answer) -> dict[str, Any]:
    return answer.model_dump(exclude={"latency_ms"})


def with_model(assistant: Assistant, *replies: str) -> Assistant:
    model = GenericFakeChatModel(messages=iter([AIMessage(content=r) for r in replies]))
    other = Assistant(assistant.settings, assistant.embeddings, assistant.store, llm=model)
    other.refresh()
    return other


@pytest.mark.parametrize(("question", "article"), QUESTIONS)
def test_ask_is_the_last_event_of_stream(
    assistant: Assistant, question: str, article: str | None
) -> None:
    events = list(assistant.stream(question, article=article))
    assert [type(e) for e in events] == [Final]
    asked = assistant.ask(question, article=article)
    assert without_latency(asked) == without_latency(final_answer(events))
    assert asked.latency_ms > 0 and events[-1].answer.latency_ms > 0  # type: ignore[union-attr]


def test_the_generative_answerer_streams_and_asks_alike(assistant: Assistant) -> None:
    draft = "The slow pace of Western aid has frustrated Kyiv. [1]"
    streamed = list(
        with_model(assistant, draft).stream("What has frustrated Kyiv?", article=SEED_ID)
    )
    asked = with_model(assistant, draft).ask("What has frustrated Kyiv?", article=SEED_ID)

    assert isinstance(with_model(assistant, draft).answerer, GenerativeAnswerer)
    assert any(isinstance(e, Delta) for e in streamed)
    assert without_latency(asked) == without_latency(final_answer(streamed))
    assert asked.mode in ("generative", "extractive-fallback")


class Quoting:
    """An answerer of a test's own: quotes the best passage, to show the seam."""

    def answer(self, retrieved: Retrieved) -> Iterator[StreamEvent]:
        best = retrieved.hits[0].passage.text
        yield Delta("Quoting: ")
        yield Final(Answer(question=retrieved.request.question, answer=best, abstained=False))


def test_any_answerer_plugs_in(assistant: Assistant) -> None:
    own = Assistant(assistant.settings, assistant.embeddings, assistant.store)
    own.refresh()
    quoting: Answerer = Quoting()
    own.answerer = quoting

    answer = own.ask("What did Orban say?", article=SEED_ID)

    assert "frightening" in answer.answer and answer.latency_ms > 0
    assert isinstance(assistant.answerer, ExtractiveAnswerer)  # the default


def test_the_chain_is_a_langchain_runnable(assistant: Assistant) -> None:
    request = assistant.check("What did Orban say?", article=SEED_ID)
    answer = assistant.chain.invoke(request)
    assert without_latency(answer) == without_latency(
        assistant.ask("What did Orban say?", article=SEED_ID)
    )


@pytest.mark.parametrize(
    ("fields", "note"),
    [
        ({}, None),
        ({"mode": "generative", "supported_sentence_rate": 1.0}, None),
        (
            {"mode": "extractive-fallback", "fallback_reason": "the language model timed out"},
            "Answered from the article directly: the language model timed out.",
        ),
        (
            {"mode": "extractive-fallback"},
            "Answered from the article directly: the language model failed.",
        ),
        (
            {"mode": "generative", "removed_sentences": ["Olaf Scholz came."]},
            "1 sentence of the model's answer the article does not support left out.",
        ),
        (
            {"mode": "generative", "removed_sentences": ["Olaf Scholz came.", "It rained."]},
            "2 sentences of the model's answer the article does not support left out.",
        ),
    ],
)
def test_the_note_is_computed_once_and_sent(fields: dict[str, Any], note: str | None) -> None:
    answer = Answer(question="Q?", answer="A. [1]", abstained=False, **fields)
    assert answer.note == note
    dumped = answer.model_dump(mode="json")
    assert dumped["note"] == note
    assert Answer.model_validate(dumped) == answer  # the field is derived, not stored


def test_the_mode_is_one_of_three() -> None:
    with pytest.raises(ValidationError, match="mode"):
        Answer(question="Q?", answer="A.", abstained=False, mode="creative")  # type: ignore[arg-type]
