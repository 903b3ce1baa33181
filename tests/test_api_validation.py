"""The API's error paths found by a careless or hostile caller: each a 4xx with one line,
never a 500; the token checked before anything of the body; article files by exact id.

The real app served by uvicorn, called with httpx, on a store of its own.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.articles import load_articles
from assistant.chain import Assistant
from assistant.store import open_store
from tests.conftest import SEED_ID, seed_articles
from tests.test_api import ADMIN, TOKEN, assert_error, serve

pytestmark = pytest.mark.slow

BIDI = "\u202e\u2066\u200f"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("validation")


@pytest.fixture(scope="module")
def app(assistant: Assistant, root: Path) -> Iterator[str]:
    """The app with ingestion on (``ASSISTANT_ADMIN_TOKEN``), on a store of its own."""
    settings = assistant.settings.model_copy(
        update={
            "articles_dir": seed_articles(root / "articles"),
            "chroma_dir": root / "chroma",
            "admin_token": TOKEN,
            "rate_limit": "100000/minute",
        }
    )
    own = Assistant(settings, assistant.embeddings, open_store(settings, assistant.embeddings))
    own.index()
    with serve(own) as base:
        yield base


def post_json(url: str, body: dict[str, Any]) -> httpx.Response:
    """A POST of ``body`` as JSON with ASCII escapes (how a lone surrogate travels)."""
    content = json.dumps(body).encode()
    return httpx.post(url, content=content, headers={"content-type": "application/json"})


def listed(app: str) -> list[str]:
    return sorted(a["id"] for a in httpx.get(f"{app}/api/articles", timeout=30).json())


# -- the token first, then the body --------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b'{"id": "x", "title": "T"}',
        b'{"id": "x", "title": "T", "body": ["a list"]}',
        b'{"id": "x", "title": "T", "body": "NUL \\u0000 here"}',
        b"[]",
        b"",
    ],
    ids=["bad-json", "no-body-field", "wrong-type", "nul", "not-an-object", "empty"],
)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}], ids=["none", "wrong"])
def test_anonymous_callers_learn_nothing_about_the_body(
    app: str, content: bytes, headers: dict[str, str]
) -> None:
    response = httpx.post(
        f"{app}/api/articles",
        content=content,
        headers={"content-type": "application/json", **headers},
    )
    assert_error(response, 401, "unauthorized", "Authorization: Bearer")
    assert listed(app) == [SEED_ID]


def test_a_missing_field_is_named(app: str) -> None:
    response = httpx.post(
        f"{app}/api/articles", json={"id": "x", "title": "T"}, headers=ADMIN, timeout=60
    )
    assert_error(response, 422, "invalid_request", "body: Field required")


@pytest.mark.parametrize(
    ("article", "message"),
    [
        ({"body": "Text with a NUL \x00 in it."}, "body: holds U+0000"),
        ({"body": "Text with \x1b[31m colour."}, "body: holds U+001B"),
        ({"title": "Title\x00"}, "title: holds U+0000"),
        ({"url": "javascript:alert(document.cookie)"}, "url: must be an http:// or https://"),
        ({"url": "data:text/html,<script>x</script>"}, "url: must be an http:// or https://"),
        ({"url": "/relative/path"}, "url: must be an http:// or https://"),
    ],
)
def test_what_the_folder_would_refuse_is_refused_at_once(
    app: str, article: dict[str, str], message: str
) -> None:
    body = {"id": "bad", "title": "T", "body": "Text.", **article}
    response = httpx.post(f"{app}/api/articles", json=body, headers=ADMIN, timeout=60)
    assert_error(response, 422, "invalid_request", message)
    assert listed(app) == [SEED_ID]


def test_a_web_link_is_kept(app: str) -> None:
    body = {"id": "linked", "title": "Linked", "body": "It rained.", "url": "https://x.org/a"}
    added = httpx.post(f"{app}/api/articles", json=body, headers=ADMIN, timeout=60)
    assert added.status_code == 201, added.text
    try:
        assert added.json()["url"] == "https://x.org/a"
    finally:
        httpx.delete(f"{app}/api/articles/linked", headers=ADMIN, timeout=60)


# -- sizes ---------------------------------------------------------------------------------


def one_line(chars: int) -> str:
    sentences = (
        f"Item {i} of the council's list cost ${i * 37:,}, Mr. Okafor said." for i in range(chars)
    )
    text = ""
    for sentence in sentences:
        text += sentence + " "
        if len(text) >= chars:
            return text[:chars].strip()
    return text.strip()


def test_a_2_mb_one_line_article_is_refused_in_seconds(app: str) -> None:
    """Over ASSISTANT_MAX_ARTICLE_CHARS (500,000 by default): 413 with the sizes, at once
    (it used to be accepted, then sentence-split for most of an hour)."""
    article = {"id": "huge", "title": "Huge", "body": one_line(2_000_000)}
    started = time.monotonic()
    response = httpx.post(f"{app}/api/articles", json=article, headers=ADMIN, timeout=120)
    assert time.monotonic() - started < 20
    assert_error(response, 413, "article_too_large", "2,000,000 characters long; the limit is 500")
    assert "ASSISTANT_MAX_ARTICLE_CHARS" in response.json()["error"]["message"]
    assert listed(app) == [SEED_ID]


def test_a_long_one_line_article_under_the_limit_is_indexed(app: str) -> None:
    article = {"id": "long-line", "title": "Long line", "body": one_line(100_000)}
    started = time.monotonic()
    response = httpx.post(f"{app}/api/articles", json=article, headers=ADMIN, timeout=300)
    try:
        assert response.status_code == 201, response.text
        assert time.monotonic() - started < 240
        answer = httpx.post(
            f"{app}/api/ask",
            json={"question": "How much did item 1200 cost?", "article": "long-line"},
            timeout=60,
        ).json()
        assert "$44,400" in answer["answer"], answer["answer"]
    finally:
        httpx.delete(f"{app}/api/articles/long-line", headers=ADMIN, timeout=60)


# -- text that is not text -----------------------------------------------------------------


@pytest.mark.parametrize("route", ["/api/ask", "/api/ask/stream"])
@pytest.mark.parametrize(
    "body",
    [
        {"question": "What did Orban say? \ud800"},
        {"question": "What did \udfffOrban say?"},
        {"question": "What did Orban say?", "history": [{"role": "user", "content": "\ud800"}]},
    ],
    ids=["end", "inside", "history"],
)
def test_a_lone_surrogate_is_dropped_not_a_500(app: str, route: str, body: dict[str, Any]) -> None:
    response = post_json(f"{app}{route}", body)
    assert response.status_code == 200, response.text
    text = response.text
    assert "frightening" in text and "\\ud800" not in text and "\\udfff" not in text
    if route == "/api/ask":
        assert response.json()["question"] == "What did Orban say?"


def test_a_question_of_surrogates_only_is_empty(app: str) -> None:
    response = post_json(f"{app}/api/ask", {"question": "\udfff \ud800"})
    assert_error(response, 400, "bad_question", "the question is empty")


def test_bidirectional_controls_are_not_echoed(app: str) -> None:
    question = f"Who is {BIDI}Raskolnikov{BIDI} Smith?"
    answer = httpx.post(f"{app}/api/ask", json={"question": question}, timeout=60).json()
    assert answer["abstained"]
    for text in (answer["question"], answer["answer"]):
        assert not set(text) & set(BIDI), text
    assert "Raskolnikov" in answer["answer"]
    unknown = httpx.post(
        f"{app}/api/ask", json={"question": "Why?", "article": f"x{BIDI}y"}, timeout=60
    )
    assert_error(unknown, 404, "unknown_article")
    assert not set(unknown.json()["error"]["message"]) & set(BIDI)


# -- files by exact id ---------------------------------------------------------------------


def test_saving_and_deleting_x_leaves_x_v2(app: str, root: Path) -> None:
    """``budget`` used to match ``budget.v2.md`` (``budget.*``): saving or deleting it
    deleted the other's file, which the next `assistant index` then dropped."""

    def article(article_id: str) -> dict[str, str]:
        return {"id": article_id, "title": f"Budget {article_id}", "body": "The budget passed."}

    def in_folder() -> list[str]:
        return sorted(a.id for a in load_articles(root / "articles").articles)

    for article_id in ("budget.v2", "budget"):
        saved = httpx.post(f"{app}/api/articles", json=article(article_id), headers=ADMIN)
        assert saved.status_code == 201, saved.text
    assert listed(app) == in_folder() == ["budget", "budget.v2", SEED_ID]

    deleted = httpx.delete(f"{app}/api/articles/budget", headers=ADMIN, timeout=60)
    assert deleted.status_code == 204
    assert listed(app) == in_folder() == ["budget.v2", SEED_ID]
    httpx.delete(f"{app}/api/articles/budget.v2", headers=ADMIN, timeout=60)
    assert listed(app) == in_folder() == [SEED_ID]
    # only article files: no partial file left by the atomic writes
    assert sorted(p.name for p in (root / "articles").iterdir()) == [f"{SEED_ID}.txt"]
