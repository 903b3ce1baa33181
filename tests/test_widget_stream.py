"""The widget in a real browser (Debian's chromium) with a language model answering: the
draft streams in, then the verified answer with its citations; a failing model shows the
fallback note, not an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.chain import Assistant
from tests.conftest import SEED_ID
from tests.llm_server import ScriptedLLM
from tests.test_api import serve, variant
from tests.test_widget import CHROMIUM

pytestmark = pytest.mark.slow

QUESTION = "What has frustrated Kyiv?"


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM(chunk_delay_s=0.08) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless chromium, as in ``test_widget.py``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def app(assistant: Assistant, llm: ScriptedLLM) -> Iterator[str]:
    generative = variant(assistant, llm="openai:stub", llm_base_url=llm.base_url, llm_timeout_s=5)
    with serve(generative) as base:
        yield base


def ask(browser, app: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 420, "height": 640})
    page.goto(f"{app}/widget?article={SEED_ID}")
    page.fill("#q", QUESTION)
    page.press("#q", "Enter")
    return page


def test_the_draft_streams_then_the_verified_answer_replaces_it(  # type: ignore[no-untyped-def]
    browser, app: str, llm: ScriptedLLM
) -> None:
    llm.default = "good"
    page = ask(browser, app)

    page.locator(".msg.bot.draft").wait_for(timeout=15_000)  # pieces arrive one by one
    assert page.locator(".msg.typing").count() == 0  # the draft replaced the indicator
    page.locator(".msg.bot .cite").first.wait_for(timeout=15_000)
    assert page.locator(".msg.bot.draft").count() == 0
    answer = page.locator(".msg.bot").last
    assert "slow pace of Western aid" in answer.inner_text()
    # the answer is the quote: its source is a line, the quote is the inline [1]'s tooltip
    assert page.locator(".cite").first.inner_text() == "[1]Show this sentence in the article"
    assert "frustrated Kyiv" in page.locator(".tip").first.inner_text()
    assert page.locator(".note").count() == 0
    page.close()


def test_a_failing_model_shows_the_fallback_note(  # type: ignore[no-untyped-def]
    browser, app: str, llm: ScriptedLLM
) -> None:
    llm.default = "error"
    page = ask(browser, app)

    page.locator(".msg.bot .note").wait_for(timeout=15_000)
    assert page.locator(".error").count() == 0
    assert page.locator(".note").inner_text() == (
        "Answered from the article directly: the language model's server answered with an error."
    )
    assert page.locator(".msg.bot .cite").count() >= 1
    page.close()
