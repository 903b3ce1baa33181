"""What operators watch: /metrics (Prometheus text, behind the admin token by default) counts
answers, refusals, error responses and 429s; one JSON log line per question; and the API
answers before the UI is mounted, while ``/`` says it is starting."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from assistant.chain import Assistant
from assistant.metrics import QUESTION_LOG, fallback_label, route_label
from assistant.web.server import create_app
from tests.test_api import variant

ORBAN = {"question": "What did Orban say?"}
OFF_TOPIC = {"question": "How long should sourdough bread rise before baking?"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, by name and labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def client(assistant: Assistant, **settings: Any) -> TestClient:
    # not entered as a context manager: no lifespan, so the UI is never built
    return TestClient(create_app(variant(assistant, **settings), ui="later"))


@pytest.mark.parametrize(
    ("settings", "headers", "expected"),
    [
        ({}, {}, 404),  # the default: behind the admin token, and there is none
        ({"admin_token": "s3cret"}, {}, 401),
        ({"admin_token": "s3cret"}, {"Authorization": "Bearer wrong"}, 401),
        ({"admin_token": "s3cret"}, {"Authorization": "Bearer s3cret"}, 200),
        ({"metrics": "open"}, {}, 200),
        ({"metrics": "off", "admin_token": "s3cret"}, {"Authorization": "Bearer s3cret"}, 404),
    ],
)
def test_metrics_are_not_public_by_default(
    assistant: Assistant, settings: dict[str, Any], headers: dict[str, str], expected: int
) -> None:
    response = client(assistant, **settings).get("/metrics", headers=headers)
    assert response.status_code == expected
    if expected != 200:
        assert "error" in response.json()


def test_metrics_count_answers_refusals_errors_and_429s(assistant: Assistant) -> None:
    web = client(assistant, metrics="open", rate_limit="3/minute")
    assert web.post("/api/ask", json=ORBAN).status_code == 200
    refused = web.post("/api/ask", json=OFF_TOPIC)
    assert refused.status_code == 200 and refused.json()["abstained"]
    assert web.post("/api/ask", json={"question": "  "}).status_code == 400
    assert web.post("/api/ask", json=ORBAN).status_code == 429  # the 4th of 3 a minute
    assert web.get("/api/articles/nope").status_code == 404

    found = samples(web.get("/metrics").text)
    assert found[("assistant_questions_answered_total", (("mode", "extractive"),))] == 2
    assert found[("assistant_questions_refused_total", (("reason", "no_answer"),))] == 1
    assert found[("assistant_answer_latency_seconds_count", ())] == 2
    errors = "assistant_http_errors_total"
    assert found[(errors, (("route", "/api/ask"), ("status", "400")))] == 1
    assert found[(errors, (("route", "/api/ask"), ("status", "429")))] == 1
    assert found[(errors, (("route", "/api/articles/{id}"), ("status", "404")))] == 1
    assert found[("assistant_rate_limited_total", (("route", "/api/ask"),))] == 1
    assert found[("assistant_index_articles", ())] == len(assistant.catalog)
    passages = sum(info.passages for info in assistant.catalog.values())
    assert found[("assistant_index_passages", ())] == passages > 0


def test_one_json_log_line_per_question_without_its_text(
    assistant: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    web = client(assistant)
    with caplog.at_level(logging.INFO, logger=QUESTION_LOG):
        web.post("/api/ask", json=ORBAN)
    (line,) = [json.loads(r.getMessage()) for r in caplog.records if r.name == QUESTION_LOG]
    assert line["article"] == "north-korean-troops-in-ukraine"
    assert line["mode"] == "extractive" and line["abstained"] is False
    assert line["latency_ms"] > 0
    assert "question" not in line and "Orban" not in json.dumps(line)

    caplog.clear()
    with caplog.at_level(logging.INFO, logger=QUESTION_LOG):
        client(assistant, log_questions=True).post("/api/ask", json=ORBAN)
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == QUESTION_LOG]
    assert lines[-1]["question"] == ORBAN["question"]


def test_the_api_answers_before_the_ui_and_the_page_says_starting(assistant: Assistant) -> None:
    web = client(assistant)  # the UI is built by the lifespan, which never runs here
    assert web.get("/api/health").status_code == 200
    assert web.post("/api/ask", json=ORBAN).status_code == 200
    page = web.get("/")
    assert page.status_code == 503 and "starting" in page.text
    assert page.headers["Retry-After"] == "2"
    assert web.get("/api/nothing-here").status_code == 404  # the API's own 404, as before


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/ask", "/api/ask"),
        ("/api/articles/some-id", "/api/articles/{id}"),
        ("/api/anything/else", "/api/other"),
        ("/gradio_api/queue/join", "/ui"),
        ("/metrics", "/metrics"),
    ],
)
def test_route_labels_are_few(path: str, expected: str) -> None:
    assert route_label(path) == expected


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("the language model timed out", "timeout"),
        ("the language model could not be reached", "unreachable"),
        ("the language model returned a malformed response", "malformed"),
        (None, "other"),
    ],
)
def test_fallback_reasons_become_labels(reason: str | None, expected: str) -> None:
    assert fallback_label(reason) == expected
