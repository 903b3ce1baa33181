"""Building the chat model from settings, and the real OpenAI client against the scripted
server on 127.0.0.1: whole and streamed answers, and every way a server can fail."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from assistant.answering import generative
from assistant.config import Settings
from assistant.errors import ConfigError, LLMError
from assistant.evaluation.scripted_llm import ScriptedLLM
from assistant.llm import MAX_RETRIES, ModelSpec, build_chat_model, describe_failure, parse_llm
from assistant.schemas import Passage, Sentence

AID = "The slow pace of Western aid has frustrated Kyiv."
PASSAGES = [
    Passage(
        passage_id="a:0",
        article_id="a",
        article_title="Aid",
        index=0,
        start=0,
        end=len(AID),
        text=AID,
        sentences=[Sentence(start=0, end=len(AID), text=AID)],
    )
]


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("extractive", None),
        (" Extractive ", None),
        ("openai:gpt-4o-mini", ModelSpec("openai", "gpt-4o-mini")),
        ("OpenAI: Qwen/Qwen2.5-7B-Instruct ", ModelSpec("openai", "Qwen/Qwen2.5-7B-Instruct")),
        ("ollama:llama3.2:3b", ModelSpec("ollama", "llama3.2:3b")),
    ],
)
def test_parse_llm(value: str, expected: ModelSpec | None) -> None:
    assert parse_llm(value) == expected


@pytest.mark.parametrize("value", ["gpt-4o", "openai:", "anthropic:claude", ":x", ""])
def test_parse_llm_refuses_unknown_answerers(value: str) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LLM"):
        parse_llm(value)


def test_the_openai_model_takes_its_server_timeout_and_retries_from_settings() -> None:
    model: Any = build_chat_model(
        settings(llm="openai:stub", llm_base_url="http://127.0.0.1:9/v1", llm_timeout_s=7.5)
    )
    assert model.model_name == "stub"
    assert model.openai_api_base == "http://127.0.0.1:9/v1"
    assert model.request_timeout == 7.5
    assert model.max_retries == MAX_RETRIES
    assert model.temperature == 0
    assert build_chat_model(settings()) is None


def test_the_openai_model_needs_a_server_or_a_key() -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_LLM_API_KEY"):
        build_chat_model(settings(llm="openai:gpt-4o-mini"))
    model: Any = build_chat_model(settings(llm="openai:gpt-4o-mini", llm_api_key="sk-test"))
    assert model.openai_api_key.get_secret_value() == "sk-test"


@pytest.mark.parametrize(
    ("extra", "module", "base_url"),
    [("ollama", "langchain_ollama", None), ("openai", "langchain_openai", "http://127.0.0.1:9/v1")],
)
def test_a_missing_extra_says_what_to_install(
    extra: str, module: str, base_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the dev extra installs both, so the import is made to fail as it would without them
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ConfigError, match=rf"pip install 'article-assistant\[{extra}\]'"):
        build_chat_model(settings(llm=f"{extra}:some-model", llm_base_url=base_url))


class APITimeoutError(Exception):
    """Named like the openai client's."""


class APIConnectionError(Exception):
    """Named like the openai client's."""


class APIStatusError(Exception):
    """Named like the openai client's."""


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (TimeoutError(), "the language model timed out"),
        (APITimeoutError(), "the language model timed out"),
        (ConnectionRefusedError(), "the language model could not be reached"),
        (APIConnectionError(), "the language model could not be reached"),
        (ValueError("Expecting value"), "the language model returned a malformed response"),
        (APIStatusError(), "the language model's server answered with an error"),
        (KeyError("choices"), "the language model failed (KeyError)"),
        (LLMError("as given"), "as given"),
    ],
)
def test_describe_failure(error: Exception, expected: str) -> None:
    assert describe_failure(error) == expected


# -- the real client against the scripted server ------------------------------------------


@pytest.fixture
def server() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(slow_s=2.0) as running:
        yield running


def model_for(base_url: str, timeout_s: float = 5.0) -> Any:
    return build_chat_model(
        settings(llm="openai:stub", llm_base_url=base_url, llm_timeout_s=timeout_s)
    )


def test_a_whole_answer_cites_the_passage(server: ScriptedLLM) -> None:
    draft = generative.generate(model_for(server.base_url), "What frustrated Kyiv?", PASSAGES)

    assert draft == f"{AID} [1]"
    request = server.requests[-1]
    assert request["model"] == "stub" and not request.get("stream")
    assert [m["role"] for m in request["messages"]] == ["system", "user"]


def test_a_streamed_answer_arrives_in_pieces(server: ScriptedLLM) -> None:
    stream = generative.DraftStream(model_for(server.base_url), "What frustrated Kyiv?", PASSAGES)
    pieces = list(stream)

    assert len(pieces) > 3
    assert "".join(pieces) == stream.text == f"{AID} [1]"
    assert server.requests[-1]["stream"] is True


def test_no_answer_is_held_back_from_the_stream(server: ScriptedLLM) -> None:
    stream = generative.DraftStream(model_for(server.base_url), "Who won the match?", PASSAGES)
    assert list(stream) == []
    assert generative.is_abstention(stream.text)


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("malformed", "malformed response"),
        ("empty", "empty answer"),
        ("error", "answered with an error"),
        ("slow", "timed out"),
    ],
)
@pytest.mark.parametrize("streaming", [False, True], ids=["whole", "streamed"])
def test_broken_servers_raise_llm_errors_with_a_reason(
    server: ScriptedLLM, behaviour: str, reason: str, streaming: bool
) -> None:
    server.default = behaviour  # retries get the same treatment
    model = model_for(server.base_url, timeout_s=0.5)
    with pytest.raises(LLMError, match=reason):
        if streaming:
            stream = generative.DraftStream(model, "What frustrated Kyiv?", PASSAGES)
            list(stream)
            generative.check_draft(stream.text)
        else:
            generative.generate(model, "What frustrated Kyiv?", PASSAGES)


def test_a_server_that_is_down_cannot_be_reached() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(LLMError, match="could not be reached"):
        generative.generate(model_for(f"http://127.0.0.1:{port}/v1"), "Why?", PASSAGES)
