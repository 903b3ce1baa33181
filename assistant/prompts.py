"""Load the text templates of the prompts and refusals, and check the variables they take.

The defaults ship inside the package (``assistant/templates/``), so an installed wheel
starts with no checkout around it. ``ASSISTANT_PROMPTS_DIR`` names a folder whose files
replace the defaults file by file: the top-level ``prompts/`` holds a copy of every
default, the one to edit.
"""

from __future__ import annotations

import string
from functools import cache
from pathlib import Path

from assistant.errors import PromptError

#: the packaged defaults
DEFAULTS_DIR = Path(__file__).resolve().parent / "templates"
#: the old name, for callers that copy the defaults to start a folder of their own
PROMPTS_DIR = DEFAULTS_DIR

#: every template the code uses, with the variables it fills in
TEMPLATES: dict[str, frozenset[str]] = {
    "refusal_no_match": frozenset({"covers"}),
    "refusal_unknown_names": frozenset({"names", "covers"}),
    # a weak match shown for what it is: the closest sentences, cited, with this lead-in
    "closest_match": frozenset({"quotes"}),
    # the language model answerer (answering/generative.py): rules in the system message,
    # the passages and the question only as data in the user message
    "answer_system": frozenset(),
    "answer_user": frozenset({"passages", "question"}),
    "rewrite_system": frozenset(),
    "rewrite_user": frozenset({"history", "question"}),
}

#: the folder ``use`` chose (``Settings.prompts_dir``); ``None``: the packaged defaults.
#: One per process, as the settings are: set at start, before any question.
_folder: Path | None = None


def template_path(name: str, folder: Path | None = None) -> Path:
    """Where template ``name`` is read from: ``folder/NAME.txt`` when that file exists
    (``folder`` defaults to the one ``use`` chose), else the packaged default."""
    folder = _folder if folder is None else folder
    if folder is not None and (folder / f"{name}.txt").exists():
        return folder / f"{name}.txt"
    return DEFAULTS_DIR / f"{name}.txt"


def load_template(name: str, folder: Path | None = None) -> str:
    """The text of template ``name``; a ``PromptError`` names the file when it is unusable."""
    return _read(name, template_path(name, folder))


@cache
def _read(name: str, path: Path) -> str:
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
    """Fill in template ``name`` (from the folder ``use`` chose, or the defaults)."""
    return load_template(name).format(**values)


def check_all(folder: Path | None = None) -> None:
    """Load every template once, so a broken one fails at start, not on some question."""
    if folder is not None and not folder.is_dir():
        raise PromptError(f"ASSISTANT_PROMPTS_DIR={str(folder)!r} is not a folder")
    for name in TEMPLATES:
        load_template(name, folder)


def use(folder: Path | None) -> None:
    """Check the templates ``folder`` gives (``None``: the defaults), then answer with them."""
    global _folder
    check_all(DEFAULTS_DIR if folder is None else folder)
    _folder = folder
