"""Gradio's own routes under the API's rules: the origin allowlist, the question limit shared
with ``/api/ask``, the body limit, no uploads, feedback limited, and nothing reachable that
the UI's page does not use. The real app runs under uvicorn on loopback; the requests are
real, and so is the browser of the last test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.chain import Assistant
from assistant.web.limits import MAX_BODY
from tests.conftest import SEED_ID
from tests.gradio_page import Page
from tests.test_api import serve, variant
from tests.test_widget import _site, browser  # noqa: F401 - browser is a fixture

pytestmark = pytest.mark.slow

QUESTION = "What did Orban say?"
#: the issue's case: Gradio's own CORS layer granted any origin when the Host was public
PUBLIC_HOST = "assistant.example.org"
CORS_GRANTS = ("access-control-allow-origin", "access-control-allow-credentials")


@pytest.fixture(scope="module")
def base(assistant: Assistant) -> Iterator[str]:
    """The app with the default settings (no origin allowed) and a limit never reached."""
    with serve(variant(assistant, rate_limit="1000/minute")) as url:
        yield url


def assert_refused(response: httpx.Response, status: int, code: str, message: str = "") -> None:
    """The API's error JSON, with the ``detail`` Gradio's page shows."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    assert message in body["error"]["message"]
    assert body["detail"] == body["error"]["message"]


@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://localhost:5173"])
def test_a_foreign_origin_gets_no_cors_grant_on_gradio_routes(
    assistant: Assistant, base: str, origin: str
) -> None:
    headers = {"Origin": origin, "Host": PUBLIC_HOST}
    with httpx.Client(headers=headers, timeout=30) as client:
        page = Page(base, client)
        responses = {
            "event": page.join("on_load", [""]),
            "page": client.get(f"{base}/"),
            "preflight": client.options(
                f"{base}/gradio_api/queue/join",
                headers={"Access-Control-Request-Method": "POST"},
            ),
        }
    assert responses["event"].status_code == 200 and responses["page"].status_code == 200
    for name, response in responses.items():
        granted = {h: response.headers[h] for h in CORS_GRANTS if h in response.headers}
        assert not granted, f"{name}: {granted}"

    # an allowed origin gets in on Gradio's routes as on the API's, without credentials
    allowed = "https://news.example.org"
    with serve(variant(assistant, allowed_origins=allowed)) as other:
        with httpx.Client(headers={"Origin": allowed, "Host": PUBLIC_HOST}) as client:
            joined = Page(other, client).join("on_load", [""])
    assert joined.status_code == 200
    assert joined.headers["access-control-allow-origin"] == allowed
    assert "access-control-allow-credentials" not in joined.headers


def test_questions_through_the_page_share_the_api_limit(assistant: Assistant) -> None:
    with serve(variant(assistant, rate_limit="3/minute")) as url:
        for _ in range(2):
            assert httpx.post(f"{url}/api/ask", json={"question": QUESTION}).status_code == 200
        page = Page(url)
        answered = page.run("respond", [QUESTION, None, ""])

        refused = page.join("respond", [QUESTION, None, ""])
        api_refused = httpx.post(f"{url}/api/ask", json={"question": QUESTION})
        panel = page.join("on_load", [""])
        # another address has its own allowance (all of 127.0.0.0/8 is this machine)
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(transport=transport, timeout=60) as client:
            elsewhere = Page(url, client).join("respond", [QUESTION, None, ""])

    assert answered.success and "frightening" in json.dumps(answered.data)
    assert_refused(refused, 429, "rate_limited", "3/minute")
    # a moving window: the oldest of the three questions leaves it within the minute
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert api_refused.status_code == 429
    assert panel.status_code == 200  # only questions count
    assert elsewhere.status_code == 200


def _event_body(size: int) -> bytes:
    body = {"data": ["x" * size, None, ""], "fn_index": 1, "session_hash": "abc"}
    return json.dumps(body).encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_an_oversized_body_is_refused(base: str, chunked: bool) -> None:
    body = _event_body(MAX_BODY + 1)
    content: Any = iter([body[:1000], body[1000:]]) if chunked else body

    response = httpx.post(
        f"{base}/gradio_api/queue/join",
        content=content,
        headers={"content-type": "application/json"},
    )

    assert_refused(response, 413, "body_too_large", "64 KiB")


def test_uploads_are_refused(base: str, tmp_path: Path) -> None:
    from gradio.utils import get_upload_folder

    folder = Path(get_upload_folder())
    before = set(folder.rglob("*")) if folder.exists() else set()
    foreign = {"Origin": "https://evil.example", "Host": PUBLIC_HOST}

    uploads = [
        httpx.post(
            f"{base}/gradio_api/upload",
            files={"files": ("note.txt", b"x" * size, "text/plain")},
            headers=foreign,
        )
        for size in (1000, 1_000_000)
    ]
    served = httpx.get(f"{base}/gradio_api/file={tmp_path}/note.txt")

    assert_refused(uploads[0], 404, "not_found")
    assert_refused(uploads[1], 413, "body_too_large")  # refused before it is read
    assert_refused(served, 404, "not_found")
    after = set(folder.rglob("*")) if folder.exists() else set()
    assert after == before


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/gradio_api/info"),
        ("POST", "/gradio_api/call/ask"),
        ("POST", "/gradio_api/call/v2/ask"),
        ("POST", "/gradio_api/run/respond"),
        ("POST", "/gradio_api/api/respond"),
        ("GET", "/gradio_api/openapi.json"),
        ("GET", "/gradio_api/upload_progress"),
        ("GET", "/gradio_api/startup-events"),
        ("POST", "/gradio_api/reset"),
        ("GET", "/gradio_api/runs"),
        ("POST", "/gradio_api/vibe-edit"),
        ("POST", "/login"),
        ("GET", "/monitoring"),
        ("POST", "/widget"),  # a route of the app's for GET only: Gradio's mount takes it
    ],
)
def test_only_the_pages_routes_are_reachable(base: str, method: str, path: str) -> None:
    response = httpx.request(method, f"{base}{path}", json={"data": [QUESTION, ""]})

    assert_refused(response, 404, "not_found", path)
    for used in ("/", "/config", "/theme.css"):  # what the page itself loads
        assert httpx.get(f"{base}{used}").status_code == 200


def test_feedback_is_limited_per_client(assistant: Assistant, tmp_path: Path) -> None:
    feedback = tmp_path / "feedback.jsonl"
    with serve(variant(assistant, rate_limit="5/minute", feedback_file=feedback)) as url:
        page = Page(url)
        assert page.ask(QUESTION).success
        vote = {"index": 1, "value": "the answer", "liked": True}
        statuses = [page.join("on_like", [None], vote).status_code for _ in range(30)]
        last = page.join("on_like", [None], vote)
        # every vote taken is written (the queue has run the last one once it answers)
        assert page.run("on_load", [""]).success

    assert statuses.count(200) == 5 and statuses.count(429) == 25
    assert_refused(last, 429, "rate_limited", "5/minute")
    lines = feedback.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5
    assert {json.loads(line)["question"] for line in lines} == {QUESTION}


def test_the_pages_other_events_are_limited_per_client(assistant: Assistant) -> None:
    from assistant.web.server import PAGE_EVENTS_PER_QUESTION

    allowed = 2 * PAGE_EVENTS_PER_QUESTION  # for a limit of 2 questions a minute
    with serve(variant(assistant, rate_limit="2/minute")) as url:
        page = Page(url)
        statuses = [page.join("on_load", [""]).status_code for _ in range(allowed + 3)]
        last = page.join("on_load", [""])
        question = page.join("respond", [QUESTION, None, ""])  # questions count apart

    assert statuses == [200] * allowed + [429] * 3
    assert_refused(last, 429, "rate_limited", f"page requests (the limit is {allowed}/minute")
    assert question.status_code == 200


EVENT = {"data": [QUESTION, None, ""], "event": "check", "session_hash": "a-page"}


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("queue/join", b'{"data": [', 422, "invalid_request"),
        ("queue/join", b'["What did Orban say?"]', 422, "invalid_request"),
        ("queue/join", {**EVENT, "fn_index": 999, "event": None}, 404, "unknown_event"),
        ("queue/join", {**EVENT, "fn_index": -1, "event": None}, 404, "unknown_event"),
        ("queue/join", {**EVENT, "fn_index": "1", "event": None}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "fn_index": True, "event": None}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "session_hash": "../a"}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "session_hash": None}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "batched": True}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "data": "What did Orban say?"}, 422, "invalid_request"),
        ("queue/join", {**EVENT, "data": ["\ud800", None, ""]}, 422, "invalid_request"),
        # an event of the page that runs outside the queue, asked through it; and back
        ("queue/join", {**EVENT, "data": [0], "event": "load_example"}, 404, "unknown_event"),
        ("run/predict", EVENT, 404, "unknown_event"),
    ],
)
def test_event_bodies_are_checked_before_gradio_reads_them(
    base: str, path: str, body: bytes | dict[str, Any], status: int, code: str
) -> None:
    if isinstance(body, dict):
        fields = dict(body)
        event = fields.pop("event", None)
        if event:
            fields["fn_index"] = Page(base).events[event]
        body = json.dumps(fields).encode("utf-8", "surrogatepass")

    response = httpx.post(
        f"{base}/gradio_api/{path}", content=body, headers={"content-type": "application/json"}
    )

    assert_refused(response, status, code)


def test_a_foreign_page_cannot_read_answers_through_gradio(browser, base: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    site, site_url = _site()  # another port of this machine: a foreign origin
    respond = Page(base).events["respond"]
    join = json.dumps({"data": [QUESTION, None, ""], "fn_index": respond, "session_hash": "evil"})
    site.page = f"""<!doctype html><p id="result">pending</p><script>
const out = document.getElementById("result");
fetch("{base}/gradio_api/queue/join", {{method: "POST", credentials: "include",
  headers: {{"Content-Type": "application/json"}}, body: {json.dumps(join)}}})
  .then(r => r.json()).then(d => {{ out.textContent = "read: " + JSON.stringify(d); }})
  .catch(() => {{ out.textContent = "blocked"; }});
</script>"""
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/")
        page.wait_for_function(
            "document.getElementById('result').textContent !== 'pending'", timeout=10_000
        )
        assert page.locator("#result").inner_text() == "blocked"
    finally:
        page.close()
        site.shutdown()


def test_the_seed_article_still_answers_through_the_page(base: str) -> None:
    result = Page(base).ask(QUESTION, SEED_ID)

    assert result.success
    assert "frightening" in json.dumps(result.data)
