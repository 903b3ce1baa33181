"""Accessibility as a test: axe-core (from the npm registry, installed by ``npm ci`` from
``package-lock.json``, read from ``node_modules``; never fetched at run time) runs in the
Gradio page, the widget's chat page and a news page embedding the widget, before and after
an answer, at desktop and phone sizes. Any serious or critical violation fails; the
moderate and minor ones are counted in ``test-artifacts/axe.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ROOT, SEED_ID
from tests.test_widget import DESKTOP, ORBAN, PHONE, ask, browser, sites  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REPORT = ROOT / "test-artifacts" / "axe.json"
FAILING = ("serious", "critical")
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(
            f"{AXE.relative_to(ROOT)} is missing: run `npm ci --no-audit --no-fund` at the "
            "repository's root (CI does, from package-lock.json)"
        )
    return AXE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report() -> Iterator[dict[str, Any]]:
    """Every page and state's violations by impact, written out at the end."""
    found: dict[str, Any] = {}
    yield found
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(found, indent=2, sort_keys=True) + "\n", encoding="utf-8")


#: Gradio fades a component while an event updates it: audited after, as a reader sees it
SETTLED = """() => [...document.querySelectorAll('.block, .pending, .generating')].every(e => {
  for (let n = e; n; n = n.parentElement) { if (getComputedStyle(n).opacity !== '1') return false; }
  return true;
})"""


def audit(page: Any, axe_source: str, name: str, report: dict[str, Any]) -> None:
    """Run axe in ``page`` (its own document; frames are audited as pages of their own)."""
    page.wait_for_function(SETTLED, timeout=15_000)
    page.add_script_tag(content=axe_source)
    violations = page.evaluate(
        """async () => (await axe.run(document, {iframes: false, resultTypes: ['violations']}))
  .violations.map(v => ({id: v.id, impact: v.impact,
                         nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    report[name] = {
        impact: sorted(
            f"{v['id']} ({len(v['nodes'])})" for v in violations if v["impact"] == impact
        )
        for impact in ("critical", "serious", "moderate", "minor")
    }
    failing = [v for v in violations if v["impact"] in FAILING]
    assert failing == [], f"{name}: {json.dumps(failing, indent=1)}"


@pytest.mark.parametrize("size", SIZES)
def test_gradio_page(browser, sites, axe_source: str, report, size: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, app, _ = sites
    page = browser.new_page(viewport=SIZES[size])
    page.goto(app)
    box = page.get_by_placeholder("Ask a question about the article…")
    box.wait_for(timeout=30_000)
    page.locator("#suggestions button").first.wait_for(timeout=20_000)
    audit(page, axe_source, f"gradio {size}, empty", report)

    box.fill(ORBAN)
    box.press("Enter")
    page.locator("#chat a[href^='#passage-']").first.wait_for(timeout=30_000)
    page.locator("#chat a[href^='#passage-']").first.hover()
    audit(page, axe_source, f"gradio {size}, answered", report)

    box.fill("What did Emmanuel Macron say?")
    box.press("Enter")
    page.locator("#suggestions button").first.wait_for(timeout=30_000)
    audit(page, axe_source, f"gradio {size}, refused with suggestions", report)
    page.close()


@pytest.mark.parametrize("size", SIZES)
def test_widget_page(browser, sites, axe_source: str, report, size: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    _, app, _ = sites
    page = browser.new_page(viewport=SIZES[size])
    page.goto(f"{app}/widget?article={SEED_ID}")
    page.locator(".suggest button").first.wait_for(timeout=20_000)
    audit(page, axe_source, f"widget {size}, empty", report)

    ask(page, ORBAN)
    page.locator(".ref").first.hover()
    audit(page, axe_source, f"widget {size}, answered", report)

    ask(page, "What did Emmanuel Macron say?")
    page.locator(".suggest").last.wait_for()
    page.locator(".cite").first.click()  # not framed: the quote is shown in the chat
    page.locator(".notice").wait_for()
    audit(page, axe_source, f"widget {size}, refused, a source shown", report)
    page.close()


@pytest.mark.parametrize("size", SIZES)
def test_host_page(browser, sites, axe_source: str, report, size: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    news_url, _, _ = sites
    page = browser.new_page(viewport=SIZES[size])
    page.goto(news_url)
    launcher = page.get_by_role("button", name="Ask about this story")
    launcher.wait_for()
    audit(page, axe_source, f"host page {size}, closed", report)

    launcher.click()
    frame = page.frame_locator("iframe.aa-widget-frame")
    frame.locator("#q").wait_for()
    ask(frame, ORBAN)
    frame.locator(".ref").first.click()
    page.locator("mark.aa-widget-hit").first.wait_for(timeout=10_000)
    audit(page, axe_source, f"host page {size}, sentence highlighted", report)
    page.close()


def test_the_report_counts_every_page(report) -> None:  # type: ignore[no-untyped-def]
    """Runs last in the module: every page and state was audited, none serious."""
    assert len(report) == 16, sorted(report)
    assert all(not r["serious"] and not r["critical"] for r in report.values())
