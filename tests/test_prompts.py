"""Prompt templates: packaged defaults, a folder of one's own that replaces them file by file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import prompts
from assistant.errors import PromptError
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _defaults_again() -> Iterator[None]:
    """Each test starts and ends with the packaged defaults (the choice is per process)."""
    prompts.use(None)
    yield
    prompts.use(None)


def test_the_defaults_live_in_the_package() -> None:
    assert prompts.DEFAULTS_DIR == ROOT / "assistant" / "templates"
    assert prompts.template_path("answer_system") == prompts.DEFAULTS_DIR / "answer_system.txt"
    assert prompts.render("refusal_no_match", covers="X").startswith("The article does not say.")


def test_a_folder_replaces_the_defaults_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "refusal_no_match.txt").write_text("Nothing on that; see {covers}.\n")
    prompts.use(tmp_path)
    assert prompts.render("refusal_no_match", covers="X") == "Nothing on that; see X."
    # a template the folder lacks keeps its default
    assert prompts.template_path("answer_system") == prompts.DEFAULTS_DIR / "answer_system.txt"
    prompts.use(None)
    assert prompts.render("refusal_no_match", covers="X").startswith("The article does not say.")


def test_a_broken_file_is_named_and_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "refusal_no_match.txt").write_text("Nothing on {topic}.\n")
    with pytest.raises(PromptError, match=r"refusal_no_match\.txt.*covers"):
        prompts.use(tmp_path)
    assert prompts.render("refusal_no_match", covers="X").startswith("The article does not say.")


def test_a_missing_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(PromptError, match="ASSISTANT_PROMPTS_DIR='.*nowhere' is not a folder"):
        prompts.use(tmp_path / "nowhere")


def test_the_top_level_folder_works_as_a_setting() -> None:
    prompts.use(ROOT / "prompts")
    assert prompts.template_path("answer_user") == ROOT / "prompts" / "answer_user.txt"


@pytest.mark.slow
def test_the_setting_reaches_the_answers(assistant: Any, tmp_path: Path) -> None:
    """``ASSISTANT_PROMPTS_DIR`` at the edge: a refusal comes in the folder's words."""
    from assistant import Assistant

    folder = tmp_path / "prompts"
    shutil.copytree(ROOT / "prompts", folder)
    for name in ("refusal_no_match", "refusal_unknown_names"):
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        (folder / f"{name}.txt").write_text("OUR WORDS. " + text, encoding="utf-8")
    custom = Assistant.from_settings(assistant.settings.model_copy(update={"prompts_dir": folder}))
    answer = custom.ask("What is the capital of Spain?")
    assert answer.abstained and answer.answer.startswith("OUR WORDS. ")
