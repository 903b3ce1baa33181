"""``ASSISTANT_LLM=ollama:MODEL``: langchain-ollama against the scripted server speaking
Ollama's own ``/api/chat`` (streamed JSON lines), with the real retriever and store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.chain import Assistant, Final
from assistant.evaluation.scripted_llm import ScriptedLLM
from tests.conftest import SEED_FILE, SEED_ID

pytest.importorskip("langchain_ollama")

BODY = SEED_FILE.read_text(encoding="utf-8").split("\n", 1)[1].strip()


@pytest.fixture(scope="module")
def served(assistant: Assistant) -> Iterator[tuple[ScriptedLLM, Assistant]]:
    with ScriptedLLM(slow_s=3.0) as server:
        settings = assistant.settings.model_copy(
            update={"llm": "ollama:stub", "llm_base_url": server.ollama_url, "llm_timeout_s": 1}
        )
        own = Assistant(settings, assistant.embeddings, assistant.store)
        own.refresh()
        yield server, own


def test_an_ollama_model_answers_with_verified_citations(
    served: tuple[ScriptedLLM, Assistant],
) -> None:
    server, own = served
    answer = own.ask("What did Orban say?", article=SEED_ID)

    assert type(own.llm).__name__ == "ChatOllama"
    assert answer.mode == "generative" and not answer.abstained, answer.fallback_reason
    assert answer.citations and all(BODY[c.start : c.end] == c.quote for c in answer.citations)
    assert any("frightening" in c.quote for c in answer.citations)
    assert server.requests and server.requests[-1]["model"] == "stub"


def test_a_slow_ollama_server_falls_back_to_the_extractive_answer(
    served: tuple[ScriptedLLM, Assistant],
) -> None:
    server, own = served
    server.script.append("slow")
    answer = own.ask("What did Orban say?", article=SEED_ID)

    assert answer.mode == "extractive-fallback"
    assert "timed out" in (answer.fallback_reason or "")
    assert answer.citations  # the reader still gets a cited answer


def test_an_ollama_answer_streams(served: tuple[ScriptedLLM, Assistant]) -> None:
    _, own = served
    events = list(own.stream("What did Orban say?", article=SEED_ID))

    final = events[-1]
    assert isinstance(final, Final) and final.answer.mode == "generative"
    assert len(events) > 2  # pieces of the draft came before the checked answer
