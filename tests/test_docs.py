"""The README a newcomer reads in five minutes, and docs/ that stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.config import settings_markdown
from benchmarks.__main__ import NAMES, replace_generated, tables_markdown
from benchmarks.stats import RESULTS_DIR
from tests.conftest import ROOT

DOCS = ROOT / "docs"
PAGES = ("architecture", "settings", "api", "llm", "operations", "evaluation", "performance")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def generated(document: str, maker: str) -> str:
    """The part of ``document`` between the lines that name ``maker`` (begin and end)."""
    line = f"<!-- made by `{maker}`: " + "{}" + " -->"
    begin, end = (re.escape(line.format(word)) for word in ("begin", "end"))
    match = re.search(rf"{begin}\n(.*?){end}", document, re.S)
    assert match, f"no generated part made by {maker}"
    return match[1]


def test_the_readme_is_short_and_links_every_page() -> None:
    readme = read(ROOT / "README.md")
    assert len(readme.encode("utf-8")) <= 8 * 1024
    linked = set(re.findall(r"\]\(docs/([\w-]+)\.md\)", readme))
    assert linked == set(PAGES)


def test_the_readme_starts_with_the_two_commands() -> None:
    readme = read(ROOT / "README.md")
    first, second = re.findall(r"```bash\n(.*?)```", readme, re.S)[:2]
    assert first.strip().endswith("&& .venv/bin/python app.py")
    assert second.strip() == ".venv/bin/python -m pytest"
    # before anything else a newcomer would have to scroll past
    assert readme.index(second) < readme.index("## ")


@pytest.mark.parametrize("page", PAGES)
def test_links_between_pages_lead_somewhere(page: str) -> None:
    text = read(DOCS / f"{page}.md")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if not re.match(r"https?://", target):
            assert (DOCS / target).exists(), f"docs/{page}.md links to missing {target}"


def test_the_settings_table_is_the_one_the_code_makes() -> None:
    """Regenerate with ``.venv/bin/python -m assistant.config`` when this fails."""
    assert generated(read(DOCS / "settings.md"), "python -m assistant.config") == (
        settings_markdown()
    )


def test_the_performance_tables_are_the_saved_results() -> None:
    """Regenerate with ``.venv/bin/python -m benchmarks tables --write docs/performance.md``."""
    document = read(DOCS / "performance.md")
    assert replace_generated(document, tables_markdown(RESULTS_DIR, NAMES)) == document
    assert "| Assistant.ask (end to end) |" in document


def test_the_module_map_names_every_module() -> None:
    """A newcomer finds each file of the package in docs/architecture.md's map."""
    text = read(DOCS / "architecture.md")
    package = ROOT / "assistant"
    modules = [
        path.relative_to(ROOT).as_posix()
        for path in sorted(package.rglob("*.py"))
        if path.name != "__init__.py" or path.parent == package
    ]
    missing = [m for m in modules if f"`{m}`" not in text]
    assert missing == []
    for place in ("chunked", "refused", "citation is built"):
        assert place in text
