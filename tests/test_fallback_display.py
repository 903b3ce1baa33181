"""How each front end tells a reader that an answer came from the fallback, or lost sentences."""

from __future__ import annotations

import pytest

from assistant.cli import render_answer as render_terminal
from assistant.schemas import Answer
from assistant.web.ui import render_answer, render_note
from tests.conftest import ROOT

TEXT = "The slow pace of Western aid has frustrated Kyiv. [1]"


def answer(**fields: object) -> Answer:
    return Answer(question="What has frustrated Kyiv?", answer=TEXT, abstained=False, **fields)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, ""),
        ({"mode": "generative", "supported_sentence_rate": 1.0}, ""),
        (
            {"mode": "extractive-fallback", "fallback_reason": "the language model timed out"},
            "*Answered from the article directly: the language model timed out.*",
        ),
        (
            {"mode": "generative", "removed_sentences": ["Olaf Scholz came.", "It rained."]},
            "*2 sentences of the model's answer the article does not support left out.*",
        ),
    ],
)
def test_the_ui_notes_fallbacks_and_removed_sentences(
    fields: dict[str, object], expected: str
) -> None:
    assert render_note(answer(**fields)) == expected
    rendered = render_answer(answer(**fields))
    assert rendered.startswith("The slow pace") and (expected in rendered)


def test_a_reason_cannot_inject_markdown() -> None:
    note = render_note(answer(mode="extractive-fallback", fallback_reason="[x](http://evil)"))
    assert "\\[x\\]" in note


def test_the_terminal_notes_the_fallback() -> None:
    shown = render_terminal(
        answer(mode="extractive-fallback", fallback_reason="the language model timed out")
    )
    assert (
        shown.splitlines()[1]
        == "(Answered from the article directly: the language model timed out.)"
    )


def test_every_front_end_shows_the_answer_s_one_note() -> None:
    """The note is worded once (``Answer.note``); the terminal, the UI and the widget
    (which reads ``note`` from the answer JSON) only frame it."""
    for fields in (
        {"mode": "extractive-fallback", "fallback_reason": "no route to the model"},
        {"mode": "generative", "removed_sentences": ["It rained."]},
    ):
        shown = answer(**fields)
        assert shown.note and f"({shown.note})" in render_terminal(shown)
        assert render_note(shown) == f"*{shown.note}*"
    widget = (ROOT / "assistant" / "web" / "static" / "widget.html").read_text(encoding="utf-8")
    assert "answer.note" in widget and "Answered from" not in widget
