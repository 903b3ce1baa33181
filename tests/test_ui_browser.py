"""The Gradio page in a real browser (Debian's chromium), at desktop and phone sizes: the
cited sentence is in view beside (or under) the answer, an inline "[n]" shows its quote on
hover and focus and marks its sentence when chosen, and a refusal offers questions the
article answers. Screenshots go to ``test-artifacts/screenshots/``."""

# ruff: noqa: F811, E501  (pytest fixtures shared by import; JavaScript written out in full)

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_widget import DESKTOP, INDEXED, ORBAN, PHONE, browser, shots, sites  # noqa: F401

pytestmark = pytest.mark.slow

SIZES = {"desktop": DESKTOP, "phone": PHONE}


def open_app(browser: Any, app: str, size: str) -> tuple[Any, Any]:  # noqa: F811
    page = browser.new_page(viewport=SIZES[size])
    page.goto(app)
    box = page.get_by_placeholder("Ask a question about the article…")
    box.wait_for(timeout=30_000)
    return page, box


def ask(page: Any, box: Any, question: str) -> Any:
    box.fill(question)
    box.press("Enter")
    page.get_by_text("Sources").last.wait_for(timeout=30_000)
    return page.locator("#chat a[title], #chat a.cite-ref").last


def visible_in(page: Any, inner: str, outer: str | None = None) -> bool:
    """Whether ``inner`` is on screen (and inside ``outer``'s visible box when given)."""
    return bool(
        page.evaluate(
            """([inner, outer]) => {
  const r = document.querySelector(inner).getBoundingClientRect();
  const o = outer ? document.querySelector(outer).getBoundingClientRect()
                  : {top: 0, bottom: innerHeight, left: 0, right: innerWidth};
  return r.top >= Math.max(0, o.top) && r.bottom <= Math.min(innerHeight, o.bottom) && r.height > 0;
}""",
            [inner, outer],
        )
    )


@pytest.mark.parametrize("size", SIZES)
def test_the_cited_sentence_is_in_view_with_the_answer(
    browser, sites, shots: Path, size: str
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, app, _ = sites
    page, box = open_app(browser, app, size)
    ref = ask(page, box, ORBAN)
    answer = page.locator("#chat .message-content").last
    # shown once: the answer is the quote, so its source is a line, not the quote again
    assert answer.inner_text().count("urged talks with Russia") == 1

    if size == "desktop":  # the panel beside the chat, scrolled to the marked sentence
        assert visible_in(page, "#article-panel mark", "#article-panel .article-view")
        assert visible_in(page, "#chat .message-content p")
    else:  # under the answer: its paragraph, opened by choosing [1]
        ref.click()
        page.locator("#chat details.source-context[open] mark").last.wait_for()
        assert visible_in(page, "#chat details.source-context[open] mark", "#chat")
        # the article follows the conversation, not the questions under it
        order = page.evaluate(
            "['#chat', '#question', '#article-panel'].map(s => document.querySelector(s).getBoundingClientRect().top)"
        )
        assert order == sorted(order)
    page.screenshot(path=str(shots / f"gradio-{size}-answer-with-sentence.png"))
    page.close()


@pytest.mark.parametrize("size", SIZES)
def test_an_inline_citation_shows_its_quote_and_marks_it(
    browser, sites, shots: Path, size: str
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, app, _ = sites
    page, box = open_app(browser, app, size)
    ref = ask(page, box, ORBAN)

    ref.hover()
    tip = page.locator("#cite-tip")
    tip.wait_for(state="visible")
    assert tip.inner_text() == f"“{INDEXED}”"
    page.screenshot(path=str(shots / f"gradio-{size}-hovered-citation.png"))
    page.mouse.move(0, 0)
    tip.wait_for(state="hidden")
    ref.focus()  # the keyboard gets it too
    tip.wait_for(state="visible")
    assert ref.get_attribute("aria-describedby") == "cite-tip"

    ref.click()
    page.locator("#article-panel mark.flash").wait_for()
    assert page.locator("#article-panel mark.flash").inner_text() == INDEXED
    page.close()


@pytest.mark.parametrize("size", SIZES)
def test_a_refusal_offers_questions_the_article_answers(
    browser, sites, shots: Path, size: str
) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, app, _ = sites
    page, box = open_app(browser, app, size)
    offered = page.locator("#suggestions button")
    offered.first.wait_for(timeout=20_000)  # on the empty chat
    box.fill(ORBAN)
    box.press("Enter")
    page.get_by_text("Sources").last.wait_for(timeout=30_000)
    offered.first.wait_for(state="hidden")  # not after an answer

    box.fill("What did Emmanuel Macron say?")
    box.press("Enter")
    offered.first.wait_for(timeout=30_000)
    assert 2 <= offered.count() <= 3
    page.locator("#suggestions").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / f"gradio-{size}-suggestions-under-refusal.png"))

    question = offered.first.inner_text()
    offered.first.click()
    page.locator("#chat").get_by_text(question).wait_for(timeout=30_000)
    page.get_by_text("Sources").nth(1).wait_for(timeout=30_000)  # answered, with sources
    page.close()
