"""Streaming answers over HTTP (server-sent events), the app served by uvicorn and answering
through the scripted OpenAI-compatible server; and the fallback seen over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from assistant.chain import Assistant
from tests.conftest import SEED_FILE, SEED_ID
from tests.llm_server import ScriptedLLM
from tests.test_api import assert_error, serve, variant

pytestmark = pytest.mark.slow

BODY = SEED_FILE.read_text(encoding="utf-8").split("\n", 1)[1].strip()
QUESTION = {"question": "What has frustrated Kyiv?", "article": SEED_ID}
STREAM = {"Accept": "text/event-stream"}


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(slow_s=2.5) as server:
        yield server


@pytest.fixture(scope="module")
def url(assistant: Assistant, llm: ScriptedLLM) -> Iterator[str]:
    generative = variant(
        assistant,
        llm="openai:stub",
        llm_base_url=llm.base_url,
        llm_timeout_s=0.5,
        rate_limit="1000/minute",
    )
    with serve(generative) as base:
        yield base


@pytest.fixture(autouse=True)
def _good(llm: ScriptedLLM) -> None:
    llm.default = "good"
    llm.script.clear()


def events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (event, data) pairs of a server-sent event stream."""
    found = []
    for block in response.text.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


def stream(base: str, path: str = "/api/ask", **body: Any) -> httpx.Response:
    response = httpx.post(f"{base}{path}", json={**QUESTION, **body}, headers=STREAM, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return response


@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_the_answer_streams_with_its_citations(url: str, path: str) -> None:
    found = events(stream(url, path))

    names = [name for name, _ in found]
    assert names[-1] == "answer" and names.count("answer") == 1
    assert names.count("delta") > 3 and set(names) == {"delta", "answer"}
    draft = "".join(data["text"] for name, data in found if name == "delta")
    answer = found[-1][1]
    assert "slow pace of Western aid" in draft
    assert answer["mode"] == "generative" and answer["supported_sentence_rate"] == 1.0
    assert answer["citations"], "the citations travel in the stream"
    for c in answer["citations"]:
        assert BODY[c["start"] : c["end"]] == c["quote"]


def test_without_the_accept_header_the_answer_is_json(url: str) -> None:
    response = httpx.post(f"{url}/api/ask", json=QUESTION, timeout=30)
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["mode"] == "generative"


@pytest.mark.parametrize(
    ("behaviour", "reason"),
    [
        ("slow", "the language model timed out"),
        ("malformed", "the language model returned a malformed response"),
        ("empty", "the language model returned an empty answer"),
        ("error", "the language model's server answered with an error"),
    ],
)
def test_a_broken_model_server_never_breaks_the_conversation(
    url: str, llm: ScriptedLLM, behaviour: str, reason: str
) -> None:
    llm.default = behaviour
    streamed = events(stream(url))
    plain = httpx.post(f"{url}/api/ask", json=QUESTION, timeout=30)

    assert [name for name, _ in streamed] == ["answer"]
    for answer in (streamed[0][1], plain.json()):
        assert answer["mode"] == "extractive-fallback"
        assert answer["fallback_reason"] == reason
        assert answer["citations"] and not answer["abstained"]


def test_errors_before_the_stream_keep_their_status_and_json(url: str) -> None:
    empty = httpx.post(f"{url}/api/ask", json={"question": " "}, headers=STREAM, timeout=30)
    assert_error(empty, 400, "bad_question", "empty")
    unknown = httpx.post(
        f"{url}/api/ask/stream", json={"question": "Why?", "article": "nope"}, timeout=30
    )
    assert_error(unknown, 404, "unknown_article")
    huge = httpx.post(
        f"{url}/api/ask/stream", content=b'{"question": "' + b"x" * 70_000 + b'"}', timeout=30
    )
    assert_error(huge, 413, "body_too_large")


def test_the_stream_route_is_rate_limited(assistant: Assistant) -> None:
    with serve(variant(assistant, rate_limit="2/minute")) as base:
        statuses = [
            httpx.post(f"{base}{path}", json=QUESTION, headers=STREAM, timeout=30).status_code
            for path in ("/api/ask/stream", "/api/ask", "/api/ask/stream")
        ]
    assert statuses == [200, 200, 429]


def test_health_shows_the_configured_answerer(url: str) -> None:
    assert httpx.get(f"{url}/api/health", timeout=30).json()["mode"] == "openai:stub"
