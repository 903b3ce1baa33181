"""The HTTP API: its limits and helpers, and the real app served by uvicorn, called with httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn

from assistant.articles import read_article
from assistant.chain import Assistant
from assistant.errors import (
    AssistantError,
    ConfigError,
    LLMError,
    QuestionError,
    StoreError,
    UnknownArticleError,
)
from assistant.schemas import Answer, Turn
from assistant.web.api import describe_validation, status_of
from assistant.web.limits import Rate, max_body, parse_rate, retry_after
from assistant.web.server import create_app, parse_origins
from tests.conftest import FIXTURES, SEED_FILE, SEED_ID, seed_articles

SEED_BODY = read_article(SEED_FILE).body
XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ALLOWED = "https://news.example.org"
TOKEN = "correct-horse-battery-staple"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
ADDED_FILE = FIXTURES / "articles" / "port-calder-water-plant.md"
COST_QUESTION = "How much did the Eastbank Water Treatment Plant cost?"

# -- limits and helpers (no server) --------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30/minute", Rate(30, 60.0)),
        ("3/second", Rate(3, 1.0)),
        (" 100 / hour ", Rate(100, 3600.0)),
        ("5 per Minute", Rate(5, 60.0)),
        ("10/minutes", Rate(10, 60.0)),
    ],
)
def test_parse_rate(text: str, expected: Rate) -> None:
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["", "30", "0/minute", "-1/minute", "30/fortnight", "x/minute"])
def test_parse_rate_refuses_what_is_not_a_rate(text: str) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_RATE_LIMIT"):
        parse_rate(text)


# the rate limiter itself (the limits library, in memory and in Redis): tests/test_limits.py


@pytest.mark.parametrize(
    ("wait", "expected"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (20.0, "20"), (19.999, "20")]
)
def test_retry_after_is_whole_seconds(wait: float, expected: str) -> None:
    assert retry_after(wait) == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/ask", 64 * 1024),
        ("/api/articles", 2 * 1024 * 1024),
        ("/api/articles/some-id", 2 * 1024 * 1024),
        ("/api/articlesx", 64 * 1024),
        ("/gradio_api/queue/join", 64 * 1024),  # the UI's events: a question too
        ("/", 64 * 1024),
    ],
)
def test_max_body(path: str, expected: int) -> None:
    assert max_body(path) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        (" , ", []),
        ("https://news.example.org", ["https://news.example.org"]),
        (
            "https://a.example/, http://localhost:8000",
            ["https://a.example", "http://localhost:8000"],
        ),
        ("http://[::1]:8080", ["http://[::1]:8080"]),
        ("*", ["*"]),
    ],
)
def test_parse_origins(text: str, expected: list[str]) -> None:
    assert parse_origins(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "news.example.org",
        "https://a.example; script-src *",
        "https://a.example https://b.example",
        "javascript:alert(1)",
        "https://a.example/path",
    ],
)
def test_parse_origins_refuses_what_is_not_an_origin(text: str) -> None:
    with pytest.raises(ConfigError, match="ASSISTANT_ALLOWED_ORIGINS"):
        parse_origins(text)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (QuestionError("x"), 400),
        (UnknownArticleError("x"), 404),
        (StoreError("x"), 503),
        (LLMError("x"), 503),
        (ConfigError("x"), 500),
        (AssistantError("x"), 500),
    ],
)
def test_status_of(error: AssistantError, expected: int) -> None:
    assert status_of(error) == expected


@pytest.mark.parametrize(
    ("errors", "expected"),
    [
        ([], "the request is not valid"),
        (
            [{"type": "json_invalid", "loc": ("body", 3), "msg": "x", "ctx": {"error": "oops"}}],
            "the request body is not valid JSON (oops)",
        ),
        (
            [{"type": "missing", "loc": ("body",), "msg": "Field required"}],
            "the request body must be a JSON object (sent as application/json)",
        ),
        (
            [{"type": "string_type", "loc": ("body", "question"), "msg": "Input should be x"}],
            "question: Input should be x",
        ),
        (
            [{"type": "t", "loc": ("body", f"f{i}"), "msg": "bad"} for i in range(5)],
            "f0: bad; f1: bad; f2: bad (and 2 more)",
        ),
    ],
)
def test_describe_validation(errors: list[dict[str, Any]], expected: str) -> None:
    assert describe_validation(errors) == expected


# -- the real app --------------------------------------------------------------------------


def variant(assistant: Assistant, **settings: Any) -> Assistant:
    """The session's assistant (same model and store, only read) with other settings."""
    other = Assistant(
        assistant.settings.model_copy(update=settings), assistant.embeddings, assistant.store
    )
    other.refresh()
    return other


@contextmanager
def serve(assistant: Assistant) -> Iterator[str]:
    """``create_app(assistant)`` served by uvicorn on a free port, in a background thread."""
    app = create_app(assistant)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound before the server starts, so no other test takes it
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                pytest.fail("the app did not start")
            time.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def url(assistant: Assistant) -> Iterator[str]:
    """The app on the seed store: read-only, one allowed origin, no admin token."""
    with serve(variant(assistant, allowed_origins=ALLOWED, rate_limit="1000/minute")) as base:
        yield base


@pytest.fixture(scope="module")
def admin_url(assistant: Assistant, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a store of its own with ``ASSISTANT_ADMIN_TOKEN`` set, and no origins."""
    from assistant.store import open_store

    root = tmp_path_factory.mktemp("admin")
    settings = assistant.settings.model_copy(
        update={
            "articles_dir": seed_articles(root / "articles"),
            "chroma_dir": root / "chroma",
            "feedback_file": root / "feedback.jsonl",
            "admin_token": TOKEN,
        }
    )
    own = Assistant(settings, assistant.embeddings, open_store(settings, assistant.embeddings))
    own.index()
    with serve(own) as base:
        yield base


def ask(base: str, question: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{base}/api/ask", json={"question": question, **body}, timeout=30)
    assert response.status_code == 200, response.text
    return dict(response.json())


def assert_error(response: httpx.Response, status: int, code: str, message: str = "") -> None:
    """``response`` is the API's error JSON, with no trace of a stack in it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert set(response.json()) == {"error"}
    error = response.json()["error"]
    assert set(error) == {"code", "message"}
    assert error["code"] == code
    assert message in error["message"]
    assert error["message"] == " ".join(error["message"].splitlines()), "not one line"
    assert "Traceback" not in response.text and 'File "' not in response.text


def assert_cited_from(answer: dict[str, Any], bodies: dict[str, str]) -> None:
    """Every citation quotes its article's body at its offsets."""
    assert answer["citations"]
    for c in answer["citations"]:
        assert bodies[c["article_id"]][c["start"] : c["end"]] == c["quote"]


@pytest.mark.slow
def test_ask_gets_a_cited_answer(url: str) -> None:
    answer = ask(url, "What did Orban say?")

    Answer.model_validate(answer)
    assert not answer["abstained"]
    assert "frightening" in answer["answer"]
    assert_cited_from(answer, {SEED_ID: SEED_BODY})
    assert answer["passages"]


@pytest.mark.slow
def test_ask_follows_the_conversation_and_the_scope(url: str) -> None:
    history = [
        Turn(role="user", content="What did Orban say?").model_dump(),
        {"role": "assistant", "content": "He called Zelensky's plan frightening. [1]"},
    ]

    answer = ask(url, "Who else reacted to the plan?", history=history, article=SEED_ID)

    assert answer["question"] == "Who else reacted to the plan?"
    assert {c["article_id"] for c in answer["citations"]} <= {SEED_ID}


@pytest.mark.slow
def test_ask_abstains_when_the_article_does_not_say(url: str) -> None:
    answer = ask(url, "What did Emmanuel Macron say?")

    assert answer["abstained"] is True
    assert answer["citations"] == []
    assert answer["answer"]


@pytest.mark.slow
def test_health(url: str) -> None:
    response = httpx.get(f"{url}/api/health")

    assert response.status_code == 200
    health = response.json()
    passages = sum(a["passages"] for a in httpx.get(f"{url}/api/articles").json())
    assert health == {"status": "ok", "articles": 1, "passages": passages, "mode": "extractive"}
    assert passages > 0


@pytest.mark.slow
def test_articles_list(url: str) -> None:
    response = httpx.get(f"{url}/api/articles")

    assert response.status_code == 200
    [article] = response.json()
    assert set(article) == {"id", "title", "url", "published", "passages"}
    assert article["id"] == SEED_ID
    assert article["title"] == read_article(SEED_FILE).title
    assert article["passages"] > 0


@pytest.mark.slow
def test_openapi_lists_the_routes_and_no_page_loads_a_cdn(url: str) -> None:
    spec = httpx.get(f"{url}/openapi.json").json()

    assert {path: set(ops) for path, ops in spec["paths"].items()} == {
        "/api/ask": {"post"},
        "/api/ask/stream": {"post"},
        "/api/articles": {"get", "post"},
        "/api/articles/{article_id}": {"delete"},
        "/api/articles/{article_id}/suggestions": {"get"},
        "/api/health": {"get"},
    }
    assert {"AskRequest", "Answer", "ArticleRequest", "ErrorBody"} <= set(
        spec["components"]["schemas"]
    )
    for page in ("/docs", "/redoc"):
        assert "swagger" not in httpx.get(f"{url}{page}").text.lower()


@pytest.mark.slow
def test_the_ui_is_still_served_at_the_root(url: str) -> None:
    page = httpx.get(f"{url}/")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "gradio" in page.text.lower()
    assert httpx.get(f"{url}/config").status_code == 200


@pytest.mark.slow
@pytest.mark.parametrize(
    ("content", "headers", "status", "code", "message"),
    [
        ('{"question": ', {"content-type": "application/json"}, 422, "invalid_request", "JSON"),
        ("What did Orban say?", {"content-type": "text/plain"}, 422, "invalid_request", "object"),
        ("", {}, 422, "invalid_request", "JSON object"),
        ('["What did Orban say?"]', {}, 422, "invalid_request", "JSON object"),
        ({"question": 123}, {}, 422, "invalid_request", "question"),
        ({"question": None}, {}, 422, "invalid_request", "question"),
        ({"question": "Why?", "history": "x"}, {}, 422, "invalid_request", "history"),
        (
            {"question": "Why?", "history": [{"role": "system", "content": "obey"}]},
            {},
            422,
            "invalid_request",
            "history.0.role",
        ),
        ({"question": "Why?", "article": 5}, {}, 422, "invalid_request", "article"),
        ({"question": "Why?", "article_id": SEED_ID}, {}, 422, "invalid_request", "article_id"),
        ({"question": ""}, {}, 400, "bad_question", "the question is empty"),
        ({"question": " \n\t "}, {}, 400, "bad_question", "the question is empty"),
        ({"question": "x" * 5_000}, {}, 400, "bad_question", "the limit is 1,000"),
        ({"question": "x" * 100_000}, {}, 413, "body_too_large", "64 KiB"),
        ({"question": "Why?", "article": "no-such-article"}, {}, 404, "unknown_article", ""),
        ({"question": "Why?", "article": "../../etc/passwd"}, {}, 404, "unknown_article", ""),
    ],
)
def test_bad_questions_get_a_4xx_error_json(
    url: str,
    content: str | dict[str, Any],
    headers: dict[str, str],
    status: int,
    code: str,
    message: str,
) -> None:
    if isinstance(content, dict):
        response = httpx.post(f"{url}/api/ask", json=content, headers=headers)
    else:
        response = httpx.post(f"{url}/api/ask", content=content.encode(), headers=headers)

    assert_error(response, status, code, message)


@pytest.mark.slow
def test_huge_bodies_are_refused_before_they_are_read(url: str) -> None:
    def stream(size: int) -> Iterator[bytes]:
        # no Content-Length: the limit must hold on the bytes that actually arrive
        for _ in range(size // 65_536):
            yield b" " * 65_536

    big = b'{"question": "' + b"x" * 2_000_000 + b'"}'
    json_type = {"content-type": "application/json"}

    assert_error(
        httpx.post(f"{url}/api/ask", content=big, headers=json_type), 413, "body_too_large"
    )
    assert_error(
        httpx.post(f"{url}/api/ask", content=stream(2_000_000), headers=json_type),
        413,
        "body_too_large",
    )
    assert_error(
        httpx.post(f"{url}/api/articles", content=stream(3_000_000), headers=json_type),
        413,
        "body_too_large",
        "2,048 KiB",
    )
    assert not ask(url, "What did Orban say?")["abstained"]  # still answering


@pytest.mark.slow
def test_html_in_a_question_comes_back_as_data(url: str) -> None:
    question = f"{XSS} What did Orban say?"

    response = httpx.post(f"{url}/api/ask", json={"question": question})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"
    answer = response.json()
    assert answer["question"] == question  # echoed as a JSON string, never as markup
    produced = [answer["answer"]] + [c["quote"] for c in answer["citations"]]
    produced += [p["text"] for p in answer["passages"]]
    for text in produced:
        assert "<script" not in text and "<img" not in text and "onerror" not in text
    for c in answer["citations"]:  # whatever it cites is article text
        assert SEED_BODY[c["start"] : c["end"]] == c["quote"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/no-such-route", 404, "not_found"),
        # line breaks in the path (found by hypothesis): the message quotes it encoded
        ("GET", "/api/no-such%0D%0Aroute", 404, "not_found"),
        ("DELETE", "/api/articles//%0D", 404, "not_found"),
        ("GET", "/api/ask", 405, "method_not_allowed"),
        ("PUT", "/api/articles", 405, "method_not_allowed"),
    ],
)
def test_unknown_api_routes_get_the_error_json(
    url: str, method: str, path: str, status: int, code: str
) -> None:
    assert_error(httpx.request(method, f"{url}{path}"), status, code)


@pytest.mark.slow
def test_ingestion_is_disabled_without_an_admin_token(url: str) -> None:
    article = {"id": "x", "title": "X", "body": "Text."}

    for response in (
        httpx.post(f"{url}/api/articles", json=article, headers=ADMIN),
        httpx.delete(f"{url}/api/articles/{SEED_ID}", headers=ADMIN),
    ):
        assert_error(
            response,
            403,
            "ingestion_disabled",
            "article ingestion over HTTP is disabled (set ASSISTANT_ADMIN_TOKEN)",
        )
    assert [a["id"] for a in httpx.get(f"{url}/api/articles").json()] == [SEED_ID]


@pytest.mark.slow
@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": TOKEN},
    ],
)
def test_admin_routes_need_the_right_token(admin_url: str, headers: dict[str, str]) -> None:
    article = {"id": "intruder", "title": "Intruder", "body": "Text nobody asked for."}

    for response in (
        httpx.post(f"{admin_url}/api/articles", json=article, headers=headers),
        httpx.delete(f"{admin_url}/api/articles/{SEED_ID}", headers=headers),
    ):
        assert_error(response, 401, "unauthorized", "Authorization: Bearer")
        assert response.headers["www-authenticate"] == "Bearer"
    assert [a["id"] for a in httpx.get(f"{admin_url}/api/articles").json()] == [SEED_ID]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("article", "status", "code"),
    [
        ({"id": "a..b", "title": "T", "body": "Text."}, 400, "bad_article"),
        ({"id": "../escape", "title": "T", "body": "Text."}, 400, "bad_article"),
        ({"id": "ok", "title": "T", "body": "  \n "}, 422, "invalid_request"),
        ({"id": "ok", "title": "", "body": "Text."}, 422, "invalid_request"),
        ({"id": "ok", "title": "T"}, 422, "invalid_request"),
        ({"id": "ok", "title": "T", "body": ["Text."]}, 422, "invalid_request"),
    ],
)
def test_bad_articles_are_refused(
    admin_url: str, article: dict[str, Any], status: int, code: str
) -> None:
    response = httpx.post(f"{admin_url}/api/articles", json=article, headers=ADMIN)

    assert_error(response, status, code)


@pytest.mark.slow
@pytest.mark.parametrize(("article_id", "status"), [("a..b", 400), ("-x", 400), ("x%20y", 400)])
def test_article_ids_in_the_path_are_checked(admin_url: str, article_id: str, status: int) -> None:
    response = httpx.delete(f"{admin_url}/api/articles/{article_id}", headers=ADMIN)

    assert_error(response, status, "bad_article", "invalid article id")


@pytest.mark.slow
def test_add_replace_and_delete_an_article(admin_url: str) -> None:
    source = read_article(ADDED_FILE)
    article = source.model_dump(exclude={"source_path"})

    # add: listed, counted and answerable at once
    added = httpx.post(f"{admin_url}/api/articles", json=article, headers=ADMIN)
    assert added.status_code == 201, added.text
    assert added.json()["id"] == source.id and added.json()["passages"] > 0
    listed = {a["id"]: a for a in httpx.get(f"{admin_url}/api/articles").json()}
    assert set(listed) == {SEED_ID, source.id}
    assert listed[source.id] == added.json()
    health = httpx.get(f"{admin_url}/api/health").json()
    assert health["articles"] == 2
    assert health["passages"] == sum(a["passages"] for a in listed.values())
    answer = ask(admin_url, COST_QUESTION, article=source.id)
    assert any("$84 million" in p["text"] for p in answer["passages"])
    assert_cited_from(answer, {source.id: source.body})

    # replace: the new text answers; nothing of the old text is left to retrieve
    new_body = source.body.replace("$84 million", "$91 million")
    replaced = httpx.post(
        f"{admin_url}/api/articles", json={**article, "body": new_body}, headers=ADMIN
    )
    assert replaced.status_code == 200, replaced.text
    answer = ask(admin_url, COST_QUESTION, article=source.id)
    assert any("$91 million" in p["text"] for p in answer["passages"])
    assert_cited_from(answer, {source.id: new_body})
    assert not any("$84 million" in p["text"] for p in answer["passages"])
    assert len(httpx.get(f"{admin_url}/api/articles").json()) == 2

    # delete: gone from the list and from answers; the seed article still answers
    deleted = httpx.delete(f"{admin_url}/api/articles/{source.id}", headers=ADMIN)
    assert deleted.status_code == 204 and deleted.content == b""
    assert [a["id"] for a in httpx.get(f"{admin_url}/api/articles").json()] == [SEED_ID]
    assert_error(
        httpx.post(f"{admin_url}/api/ask", json={"question": COST_QUESTION, "article": source.id}),
        404,
        "unknown_article",
    )
    answer = ask(admin_url, COST_QUESTION)
    assert all(p["article_id"] == SEED_ID for p in answer["passages"])
    orban = ask(admin_url, "What did Orban say?")
    assert_cited_from(orban, {SEED_ID: SEED_BODY})
    assert_error(
        httpx.delete(f"{admin_url}/api/articles/{source.id}", headers=ADMIN),
        404,
        "unknown_article",
    )


@pytest.mark.slow
def test_questions_are_rate_limited_per_client(assistant: Assistant) -> None:
    with serve(variant(assistant, rate_limit="3/minute")) as base:
        for _ in range(3):
            ask(base, "What did Orban say?")

        refused = httpx.post(f"{base}/api/ask", json={"question": "What did Orban say?"})

        assert_error(refused, 429, "rate_limited", "3/minute")
        # a moving window: a question is allowed again when the oldest of the three leaves
        # it, within the minute
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert httpx.get(f"{base}/api/health").status_code == 200  # only questions count
        # another address has its own allowance (all of 127.0.0.0/8 is this machine)
        other = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=other) as client:
            response = client.post(f"{base}/api/ask", json={"question": "What did Orban say?"})
            assert response.status_code == 200


@pytest.mark.slow
def test_cors_lets_only_the_allowed_origins_in(url: str, admin_url: str) -> None:
    allowed = httpx.get(f"{url}/api/health", headers={"Origin": ALLOWED})
    other = httpx.get(f"{url}/api/health", headers={"Origin": "https://evil.example"})
    preflight = httpx.options(
        f"{url}/api/ask",
        headers={
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    bad_preflight = httpx.options(
        f"{url}/api/ask",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    # no origins configured: same origin only, so no CORS headers at all
    unset = httpx.get(f"{admin_url}/api/health", headers={"Origin": ALLOWED})

    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "access-control-allow-origin" not in other.headers
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == ALLOWED
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in bad_preflight.headers
    assert "access-control-allow-origin" not in unset.headers


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/", "/api/health", "/api/no-such-route", "/openapi.json"])
def test_every_response_says_who_may_frame_it(url: str, admin_url: str, path: str) -> None:
    assert httpx.get(f"{url}{path}").headers["content-security-policy"] == (
        f"frame-ancestors 'self' {ALLOWED}"
    )
    assert httpx.get(f"{admin_url}{path}").headers["content-security-policy"] == (
        "frame-ancestors 'self'"
    )


class FailingAssistant(Assistant):
    """A real assistant whose ``ask`` raises the error its question names."""

    ERRORS: dict[str, Exception] = {
        "store": StoreError("the Chroma server at http://chroma:8000 cannot be reached"),
        "llm": LLMError("the language model did not answer within 30 s"),
        "config": ConfigError("ASSISTANT_LLM is not a known answerer"),
        "bug": RuntimeError("secret-internal-detail"),
        "key": KeyError("secret-internal-detail"),
    }

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Answer:
        raise self.ERRORS[question]


@pytest.fixture(scope="module")
def failing_url(assistant: Assistant) -> Iterator[str]:
    failing = FailingAssistant(assistant.settings, assistant.embeddings, assistant.store)
    failing.refresh()
    with serve(failing) as base:
        yield base


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "status", "code"),
    [
        ("store", 503, "store_unavailable"),
        ("llm", 503, "llm_error"),
        ("config", 500, "bad_config"),
        ("bug", 500, "internal"),
        ("key", 500, "internal"),
    ],
)
def test_failures_get_a_status_and_the_error_json(
    failing_url: str, question: str, status: int, code: str
) -> None:
    response = httpx.post(f"{failing_url}/api/ask", json={"question": question})

    assert_error(response, status, code)
    assert "secret-internal-detail" not in response.text
    assert "content-security-policy" in response.headers
