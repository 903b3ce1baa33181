"""The package stays easy to read: no class over 200 lines, no function over 60."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "assistant"
MAX_CLASS_LINES = 200
MAX_FUNCTION_LINES = 60


def oversized() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            lines = (
                (node.end_lineno or node.lineno) - node.lineno + 1 if hasattr(node, "lineno") else 0
            )
            if isinstance(node, ast.ClassDef) and lines > MAX_CLASS_LINES:
                found.append(
                    f"{path.relative_to(PACKAGE.parent)}: class {node.name}, {lines} lines"
                )
            if (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                and lines > MAX_FUNCTION_LINES
            ):
                found.append(f"{path.relative_to(PACKAGE.parent)}: {node.name}(), {lines} lines")
    return found


def test_no_class_or_function_is_too_long() -> None:
    assert oversized() == []
