"""Evaluation fixtures: JSONL files, one ``Case`` a line, checked before any question is asked.

A line is rejected (``FixtureError`` naming ``file:line``) when it is not JSON, misses a
field or has one of the wrong type, has a field the format does not know (a typo such as
``"artcle"`` would otherwise silently widen the scope), is an answerable case without
``key_facts``/``evidence``/``reference_answer``, an unanswerable one with key facts or
evidence, or reuses an id. Blank lines are skipped. Every problem of every file is
collected, so one run lists them all; the message shows the first few.

``check_evidence`` then looks for each evidence string in its article's text (both
normalised with ``assistant.text.normalize``), so a fixture that drifted from the
article fails loudly instead of scoring as a retrieval miss.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from assistant.errors import FixtureError
from assistant.schemas import Turn
from assistant.text import normalize

#: problems quoted in the error message; the rest are counted (all are on ``.problems``)
SHOWN_PROBLEMS = 3

NonBlank = Annotated[str, Field(min_length=1, pattern=r"\S")]


class Case(BaseModel):
    """One evaluation case, as written in a fixture line (see DESIGN.md)."""

    # strict: "answerable": "yes" or "id": 7 are mistakes to report, not values to coerce
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    id: NonBlank
    question: NonBlank
    history: list[Turn] = Field(default_factory=list)
    article: NonBlank | None = None
    answerable: bool
    reference_answer: str = ""
    key_facts: list[Annotated[list[NonBlank], Field(min_length=1)]] = Field(default_factory=list)
    evidence: list[NonBlank] = Field(default_factory=list)
    question_type: NonBlank

    _source: str = PrivateAttr(default="<memory>")
    _line: int = PrivateAttr(default=0)

    @model_validator(mode="after")
    def _consistent(self) -> Case:
        if self.answerable:
            missing = [
                name
                for name, value in (
                    ("key_facts", self.key_facts),
                    ("evidence", self.evidence),
                    ("reference_answer", self.reference_answer.strip()),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"answerable case without {' or '.join(missing)}")
        elif self.key_facts or self.evidence:
            raise ValueError("unanswerable case with non-empty key_facts or evidence")
        return self

    @property
    def where(self) -> str:
        """``file:line [id]``, the prefix of every message about this case."""
        return f"{self._source}:{self._line} [{self.id}]"

    def located(self, source: str, line: int) -> Case:
        """This case, remembering the file and line it came from."""
        self._source, self._line = source, line
        return self


def _describe(exc: ValidationError) -> str:
    """Pydantic's errors as one short phrase a fixture author can act on."""
    parts: list[str] = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        kind = error["type"]
        if kind == "missing":
            parts.append(f"missing field {field!r}")
        elif kind == "extra_forbidden":
            parts.append(f"unknown field {field!r}")
        elif not field:
            parts.append(str(error["msg"]).removeprefix("Value error, "))
        else:
            parts.append(f"field {field!r}: {error['msg']}")
    return "; ".join(parts)


def parse_line(text: str, source: str, line: int) -> Case:
    """One fixture line as a ``Case``; raises ``FixtureError`` naming ``source:line``."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FixtureError(
            f"{source}:{line}: not valid JSON ({exc.msg}, column {exc.colno})"
        ) from None
    except RecursionError:  # json.loads recurses once per "[" or "{"
        raise FixtureError(f"{source}:{line}: JSON nested too deeply to be a case") from None
    if not isinstance(data, dict):
        raise FixtureError(f"{source}:{line}: a case must be a JSON object")
    label = f" [{data['id']}]" if isinstance(data.get("id"), str) else ""
    try:
        case = Case.model_validate(data)
    except ValidationError as exc:
        raise FixtureError(f"{source}:{line}{label}: {_describe(exc)}") from None
    return case.located(source, line)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FixtureError(f"{path}: no such fixture file") from None
    except UnicodeDecodeError as exc:
        raise FixtureError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read the file ({exc.strerror or exc})") from None


class FixtureProblems(FixtureError):
    """Broken fixture lines: the message quotes the first few, ``problems`` holds them all."""

    def __init__(self, problems: Sequence[str]) -> None:
        more = len(problems) - SHOWN_PROBLEMS
        super().__init__(
            "; ".join(problems[:SHOWN_PROBLEMS])
            + (f" (and {more} more problems)" if more > 0 else "")
        )
        self.problems = list(problems)


def fail(problems: Sequence[str]) -> None:
    """Raise ``FixtureProblems`` when ``problems`` is not empty."""
    if problems:
        raise FixtureProblems(problems)


def load_cases(paths: Iterable[Path]) -> list[Case]:
    """Every case of the given JSONL files, in order; ``FixtureError`` if any line is broken."""
    cases: list[Case] = []
    problems: list[str] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        source = str(path)
        lines = 0
        # split on "\n" only: JSON strings may hold U+2028, which splitlines() would cut at
        for number, text in enumerate(_read(path).split("\n"), 1):
            if not text.strip():
                continue
            lines += 1
            try:
                case = parse_line(text, source, number)
            except FixtureError as exc:
                problems.append(str(exc))
                continue
            if case.id in first_seen:
                problems.append(f"{case.where}: duplicate id, first used at {first_seen[case.id]}")
                continue
            first_seen[case.id] = f"{source}:{number}"
            cases.append(case)
        if not lines:
            problems.append(f"{source}: no cases in the file")
    fail(problems)
    return cases


def check_evidence(cases: Iterable[Case], bodies: Mapping[str, str]) -> None:
    """Raise ``FixtureError`` unless each case's article exists and holds each evidence string.

    ``bodies`` maps article id to body text (the knowledge base the run will use). A case
    without an ``article`` scope may take its evidence from any article.
    """
    normalised = {article_id: normalize(body) for article_id, body in bodies.items()}
    known = ", ".join(sorted(normalised)) or "none"
    problems: list[str] = []
    unknown: dict[str, list[Case]] = {}
    for case in cases:
        if case.article is not None and case.article not in normalised:
            unknown.setdefault(case.article, []).append(case)
            continue
        scope = [normalised[case.article]] if case.article else list(normalised.values())
        for evidence in case.evidence:
            if not any(normalize(evidence) in text for text in scope):
                short = evidence if len(evidence) <= 80 else evidence[:77] + "..."
                where = f"article {case.article!r}" if case.article else "any article"
                problems.append(f"{case.where}: evidence not found in {where}: {short!r}")
    # one message per missing article: a whole file about it would repeat the same line
    missing: list[str] = []
    for article_id, users in unknown.items():
        where = users[0].where + (f" and {len(users) - 1} more cases" if len(users) > 1 else "")
        missing.append(
            f"{where}: unknown article {article_id!r} (the knowledge base has: {known}; "
            "add its folder with --articles DIR)"
        )
    fail(missing + problems)
