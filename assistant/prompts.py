"""Load the text templates in ``prompts/`` and check they take the variables the code fills in."""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from assistant.errors import PromptError

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"

#: every template the code uses, with the variables it fills in
TEMPLATES: dict[str, frozenset[str]] = {
    "refusal_no_match": frozenset({"covers"}),
    "refusal_unknown_names": frozenset({"names", "covers"}),
    "refusal_not_quoted": frozenset({"names", "covers"}),
    # the language model answerer (answering/generative.py): rules in the system message,
    # the passages and the question only as data in the user message
    "answer_system": frozenset(),
    "answer_user": frozenset({"passages", "question"}),
    "rewrite_system": frozenset(),
    "rewrite_user": frozenset({"history", "question"}),
}


@cache
def load_template(name: str, folder: Path = PROMPTS_DIR) -> str:
    """The template ``folder/NAME.txt``; a ``PromptError`` names the file when it is unusable."""
    path = folder / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot read the prompt template ({exc})") from exc
    try:
        used = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    except ValueError as exc:
        raise PromptError(f"{path}: malformed template ({exc})") from exc
    expected = TEMPLATES.get(name, frozenset())
    if used != expected:
        raise PromptError(
            f"{path}: the template must use exactly {{{', '.join(sorted(expected))}}}, "
            f"it uses {{{', '.join(sorted(used))}}}"
        )
    return text


def render(name: str, **values: str) -> str:
    """Fill in a template from ``prompts/``."""
    return load_template(name).format(**values)


def check_all(folder: Path = PROMPTS_DIR) -> None:
    """Load every template once, so a broken one fails at start, not on some question."""
    for name in TEMPLATES:
        load_template(name, folder)
