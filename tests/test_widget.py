"""The embeddable widget in a real browser (Debian's chromium driven by Playwright).

A test news page on one localhost port embeds the widget from the app on another; the
reader asks, sees a cited answer, clicks the citation, and the quoted sentence in the news
page is highlighted. A page on an origin that is not allowed can neither call the API nor
frame the widget. Screenshots go to ``test-artifacts/widget/`` (printed at the end).
"""

# ruff: noqa: E501  (the test pages are HTML and JavaScript written out in full)

from __future__ import annotations

import html
import http.server
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.articles import read_article
from assistant.chain import Assistant
from tests.conftest import ROOT, SEED_FILE, SEED_ID
from tests.test_api import serve, variant

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "test-artifacts" / "widget"


class Pages(http.server.ThreadingHTTPServer):
    """Serves one HTML page at ``/``, set after the app's address is known."""

    page = "<!doctype html><title>empty</title>"


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        body = self.server.page.encode("utf-8")  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _site() -> tuple[Pages, str]:
    server = Pages(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def news_page(app: str) -> str:
    """A news article page, as a site would have it, with the one-line embed snippet."""
    article = read_article(SEED_FILE)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.body.split("\n") if p.strip())
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>{html.escape(article.title)}</title>
<style>body{{font:18px Georgia,serif;max-width:720px;margin:40px auto;line-height:1.6}}
p{{margin:0 0 1em}} a{{color:red}}</style></head>
<body><h1>{html.escape(article.title)}</h1><article>{paragraphs}</article>
<script src="{app}/widget.js" data-article="{SEED_ID}" data-title="Ask about this story" async></script>
</body></html>"""


def evil_page(app: str) -> str:
    """A page on an origin that is not allowed: it tries the API and frames the widget."""
    return f"""<!doctype html><html><body><p id="result">pending</p>
<iframe id="framed" src="{app}/widget?article={SEED_ID}" width="400" height="300"></iframe>
<script>
fetch("{app}/api/ask", {{method: "POST", headers: {{"Content-Type": "application/json"}},
  body: JSON.stringify({{question: "What did Orban say?"}})}})
  .then(r => r.json()).then(d => {{ document.getElementById("result").textContent = "read: " + d.answer; }})
  .catch(() => {{ document.getElementById("result").textContent = "blocked"; }});
</script></body></html>"""


@pytest.fixture(scope="module")
def sites(assistant: Assistant) -> Iterator[tuple[str, str, str]]:
    """(news page URL, app URL, disallowed page URL)."""
    news, news_url = _site()
    evil, evil_url = _site()
    allowed = variant(assistant, allowed_origins=news_url, rate_limit="1000/minute")
    with serve(allowed) as app:
        news.page = news_page(app)
        evil.page = evil_page(app)
        yield f"{news_url}/", app, f"{evil_url}/"
    news.shutdown()
    evil.shutdown()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots() -> Path:
    """Where screenshots go; the run's summary prints the folder (see conftest)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def test_ask_cite_and_highlight(browser, sites, shots: Path) -> None:  # type: ignore[no-untyped-def]
    news_url, _, _ = sites
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(news_url)
    launcher = page.get_by_role("button", name="Ask about this story")
    launcher.wait_for()
    page.screenshot(path=str(shots / "1-closed.png"))

    launcher.click()
    frame = page.frame_locator("iframe.aa-widget-frame")
    frame.locator("#q").fill("What did Orban say?")
    frame.locator("#q").press("Enter")
    cite = frame.locator("button.cite").first
    cite.wait_for(timeout=20_000)
    assert "frightening" in frame.locator(".msg.bot").last.inner_text()
    assert frame.locator("#title").inner_text() == "Ask about this story"  # data-title
    page.screenshot(path=str(shots / "2-open-with-answer.png"))

    cite.click()
    mark = page.locator("mark.aa-widget-hit").first
    mark.wait_for(timeout=10_000)
    highlighted = " ".join(page.locator("mark.aa-widget-hit").all_inner_texts())
    assert "Viktor Orban called Zelensky" in highlighted and "frightening" in highlighted
    # the page scrolls to the sentence
    page.wait_for_function(
        "(() => { const r = document.querySelector('mark.aa-widget-hit').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= window.innerHeight; })()",
        timeout=5_000,
    )
    page.wait_for_timeout(800)  # let the smooth scroll settle for the picture
    page.screenshot(path=str(shots / "3-highlighted-in-page.png"))

    # the conversation stays while the page does: close and reopen
    page.keyboard.press("Escape")
    launcher.click()
    assert frame.locator(".msg.user").count() == 1
    page.close()


def test_phone_sized_screen(browser, sites, shots: Path) -> None:  # type: ignore[no-untyped-def]
    news_url, _, _ = sites
    page = browser.new_page(viewport={"width": 390, "height": 760})
    page.goto(news_url)
    page.get_by_role("button", name="Ask about this story").click()
    box = page.locator("iframe.aa-widget-frame").bounding_box()
    assert box is not None and box["width"] >= 380  # fills the phone's width
    page.frame_locator("iframe.aa-widget-frame").locator("#q").wait_for()
    page.screenshot(path=str(shots / "4-phone.png"))
    page.close()


def test_keyboard_only(browser, sites) -> None:  # type: ignore[no-untyped-def]
    news_url, _, _ = sites
    page = browser.new_page()
    page.goto(news_url)
    page.get_by_role("button", name="Ask about this story").focus()
    page.keyboard.press("Enter")
    assert (
        page.get_by_role("button", name="Ask about this story").get_attribute("aria-expanded")
        == "true"
    )
    page.close()


def test_disallowed_origin_can_neither_call_nor_frame(browser, sites) -> None:  # type: ignore[no-untyped-def]
    _, _, evil_url = sites
    page = browser.new_page()
    page.goto(evil_url)
    page.wait_for_function(
        "document.getElementById('result').textContent !== 'pending'", timeout=10_000
    )
    assert page.locator("#result").inner_text() == "blocked"
    framed = page.frame_locator("#framed")
    with pytest.raises(Exception):  # noqa: B017 - the frame is refused, so #q never appears
        framed.locator("#q").wait_for(timeout=3_000)
    page.close()


def test_widget_script_is_small_and_self_contained(sites) -> None:  # type: ignore[no-untyped-def]
    import httpx

    _, app, _ = sites
    script = httpx.get(f"{app}/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert len(script.content) < 15_000
    assert "http://" not in script.text and "https://" not in script.text.replace(
        "https://assistant.example.org", ""
    )  # no CDN: everything comes from the app's own origin
    page = httpx.get(f"{app}/widget?article={SEED_ID}")
    assert page.status_code == 200 and "/api/ask" in page.text and "gradio" not in page.text.lower()
