"""The Gradio chat with a language model answering (the scripted server): the draft streams
into the chat, then the verified answer with its sources, or the fallback with its note."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from assistant.chain import Assistant
from assistant.web.ui import build_ui
from tests.conftest import SEED_ID
from tests.llm_server import ScriptedLLM
from tests.test_api import variant

QUESTION = "What has frustrated Kyiv?"


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(slow_s=1.5) as server:
        yield server


@pytest.fixture(scope="module")
def respond(assistant: Assistant, llm: ScriptedLLM) -> Callable[..., Iterator[tuple[Any, ...]]]:
    """The chat's submit handler, called as Gradio would."""
    generative = variant(assistant, llm="openai:stub", llm_base_url=llm.base_url, llm_timeout_s=0.5)
    demo = build_ui(generative)
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == "respond")


def test_the_draft_streams_then_the_answer_shows_its_sources(respond, llm: ScriptedLLM) -> None:  # type: ignore[no-untyped-def]
    llm.default = "good"
    updates = list(respond(QUESTION, [], SEED_ID))

    replies = [u[0][-1]["content"] for u in updates]
    assert len(replies) > 3 and replies[0] == "The "  # the model's first piece
    assert all("Sources" not in r for r in replies[:-1])
    # the verified answer: its "[1]" a link to the passage, with the quote as its title
    assert replies[-1].startswith(
        "The slow pace of Western aid has frustrated Kyiv. [\\[1\\]](#passage-"
    )
    assert "**Sources**" in replies[-1] and "Answered from the article" not in replies[-1]
    exchanges = updates[-1][1]
    assert exchanges[-1].answer.mode == "generative"


def test_a_slow_model_gives_the_fallback_with_a_note(respond, llm: ScriptedLLM) -> None:  # type: ignore[no-untyped-def]
    llm.default = "slow"
    final = list(respond(QUESTION, [], SEED_ID))[-1][0][-1]["content"]

    assert "*Answered from the article directly: the language model timed out.*" in final
    assert "**Sources**" in final
