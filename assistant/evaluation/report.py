"""Showing an ``EvalReport``: rich tables on the terminal, and the JSON and Markdown files.

The HTML page lives in ``html_report``. All writers raise ``EvaluationError`` when the
file cannot be written, so the CLI shows one line instead of a traceback.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.evaluation import EvaluationError
from assistant.evaluation.metrics import METRIC_DESCRIPTIONS, METRIC_KEYS
from assistant.evaluation.results import (
    CaseItem,
    EvalReport,
    better_direction,
    format_delta,
    format_value,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

#: short column headings for the per-type tables (the full key is in the JSON)
SHORT_NAMES = {
    "key_fact_recall": "facts",
    "answer_words_mean": "words",
    "token_f1": "F1",
    "evidence_recall_at_k": "ev@k",
    "mrr": "MRR",
    "citation_precision": "cite P",
    "citation_recall": "cite R",
    "supported_sentence_rate": "supported",
    "answer_rate": "answered",
    "abstention_rate": "abstained",
    "latency_ms_p50": "p50 ms",
    "latency_ms_p95": "p95 ms",
}


def summary_line(report: EvalReport) -> str:
    """``45 cases: 38 passed, 7 failed``."""
    total, failed = len(report.items), len(report.failed)
    return f"{total} cases: {total - failed} passed, {failed} failed"


def config_lines(report: EvalReport) -> list[tuple[str, str]]:
    """The run's config as (name, value) pairs for people."""
    lines: list[tuple[str, str]] = []
    for key, value in report.config.items():
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        lines.append((key, "—" if value is None else str(value)))
    return lines


def _short_value(key: str, value: float | None) -> str:
    return format_value(key, value).removesuffix(" ms")


def _one_line(text: str, limit: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- terminal ---------------------------------------------------------------------------------


def print_report(report: EvalReport, console: Console) -> None:
    """The metrics (with baseline changes), the per-type table and the failed cases."""
    from rich.markup import escape as rich_escape
    from rich.table import Table

    pipeline = rich_escape(str(report.config.get("pipeline", "?")))
    console.print(f"[bold]Evaluation: {pipeline} pipeline[/] — {summary_line(report)}")
    metrics = Table()
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    metrics.add_column("better", justify="center", style="dim")
    delta = report.baseline_delta
    if delta is not None:
        metrics.add_column("baseline", justify="right")
        metrics.add_column("change", justify="right")
    for key in METRIC_KEYS:
        row = [key, format_value(key, report.metrics.get(key)), better_direction(key)]
        if delta is not None:
            d = delta[key]
            style = {"worse": "bold red", "better": "green"}.get(d.change, "dim")
            mark = " ▼ regression" if d.regression else " ▲" if d.change == "better" else ""
            row += [
                format_value(key, d.baseline),
                f"[{style}]{rich_escape(format_delta(key, d))}{mark}[/]",
            ]
        metrics.add_row(*row)
    console.print(metrics)

    types = Table(title="By question type", title_justify="left")
    types.add_column("type")
    types.add_column("passed", justify="right")
    for key in METRIC_KEYS:
        types.add_column(SHORT_NAMES[key], justify="right")
    counts = report.counts_by_type()
    for name, values in report.by_type.items():
        passed, total = counts.get(name, (0, 0))
        style = "red" if passed < total else ""
        types.add_row(
            rich_escape(name),
            f"[{style}]{passed}/{total}[/]" if style else f"{passed}/{total}",
            *(_short_value(key, values.get(key)) for key in METRIC_KEYS),
        )
    console.print(types)
    if len(report.by_article) > 1:
        console.print(_article_table(report))

    if report.failed:
        console.print(f"[bold red]Failed ({len(report.failed)}):[/]")
        for item in report.failed:
            why = failure_reason(item)
            console.print(
                f"  [red]FAIL[/] {rich_escape(item.id)} ({rich_escape(item.question_type)}): "
                f"{rich_escape(why)} — {rich_escape(_one_line(item.answer, 90))}",
                soft_wrap=True,
            )


#: the per-article table's columns: what moves when an answerer meets a new article
ARTICLE_COLUMNS = (
    "key_fact_recall",
    "answer_words_mean",
    "citation_precision",
    "answer_rate",
    "abstention_rate",
)


def _article_table(report: EvalReport) -> Table:
    """Metrics per article, so a rule that only works on one article shows."""
    from rich.markup import escape as rich_escape
    from rich.table import Table

    table = Table(title="By article", title_justify="left")
    table.add_column("article")
    table.add_column("cases", justify="right")
    for key in ARTICLE_COLUMNS:
        table.add_column(SHORT_NAMES[key], justify="right")
    cases: dict[str, int] = {}
    for item in report.items:
        cases[item.article or ""] = cases.get(item.article or "", 0) + 1
    for name, values in report.by_article.items():
        table.add_row(
            rich_escape(name or "(all articles)"),
            str(cases.get(name, 0)),
            *(_short_value(key, values.get(key)) for key in ARTICLE_COLUMNS),
        )
    return table


def failure_reason(item: CaseItem) -> str:
    """Why a case failed, in a few words."""
    if not item.answerable:
        return "answered an unanswerable question"
    if item.abstained:
        return "abstained"
    missing = [
        " / ".join(fact)
        for fact, ok in zip(item.key_facts, item.facts_covered, strict=True)
        if not ok
    ]
    return "missing " + "; ".join(f"“{m}”" for m in missing)


# -- files ------------------------------------------------------------------------------------


def write_text(path: Path, text: str) -> None:
    """Write a report file (creating its folder); ``EvaluationError`` when that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EvaluationError(f"cannot write {path}: {exc.strerror or exc}") from exc


def json_text(report: EvalReport) -> str:
    """The ``--json`` report."""
    return json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n"


def write_json(report: EvalReport, path: Path) -> None:
    """Write the ``--json`` report."""
    write_text(path, json_text(report))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#])")


def md(text: str) -> str:
    """Text from fixtures or answers, safe inside a Markdown table cell or paragraph.

    HTML is escaped (many Markdown viewers render raw HTML), Markdown syntax is
    backslash-escaped, and newlines fold into spaces so a table row stays one line.
    """
    return _MD_SPECIAL.sub(r"\\\1", escape(" ".join(text.split()), quote=False))


def markdown(report: EvalReport) -> str:
    """The ``--report`` Markdown: config, metrics, per-type table, then every failed case."""
    out = [f"# Evaluation report: {md(str(report.config.get('pipeline', '?')))} pipeline", ""]
    out += [f"**{summary_line(report)}**", ""]
    out += [f"- {md(name)}: {md(value)}" for name, value in config_lines(report)]
    out.append("")

    delta = report.baseline_delta
    out += ["## Metrics", ""]
    if delta is None:
        out += ["| metric | value | better | meaning |", "|---|---:|:---:|---|"]
    else:
        out += [
            "| metric | value | better | baseline | change | meaning |",
            "|---|---:|:---:|---:|---|---|",
        ]
    for key in METRIC_KEYS:
        row = [f"`{key}`", format_value(key, report.metrics.get(key)), better_direction(key)]
        if delta is not None:
            d = delta[key]
            mark = " **▼ regression**" if d.regression else " ▲" if d.change == "better" else ""
            row += [format_value(key, d.baseline), format_delta(key, d) + mark]
        row.append(md(METRIC_DESCRIPTIONS[key]))
        out.append("| " + " | ".join(row) + " |")
    out.append("")

    out += ["## By question type", ""]
    out.append("| type | passed | " + " | ".join(SHORT_NAMES[k] for k in METRIC_KEYS) + " |")
    out.append("|---|---:|" + "---:|" * len(METRIC_KEYS))
    counts = report.counts_by_type()
    for name, values in report.by_type.items():
        passed, total = counts.get(name, (0, 0))
        cells = [_short_value(k, values.get(k)) for k in METRIC_KEYS]
        out.append(f"| {md(name)} | {passed}/{total} | " + " | ".join(cells) + " |")
    out += ["", f"Column keys: {', '.join(f'{v} = `{k}`' for k, v in SHORT_NAMES.items())}.", ""]

    out += [f"## Failed cases ({len(report.failed)})", ""]
    if not report.failed:
        out += ["None.", ""]
    for item in report.failed:
        out += [
            f"### FAIL {md(item.id)} ({md(item.question_type)})",
            "",
            f"- **Why:** {md(failure_reason(item))}",
            f"- **Question:** {md(item.question)}",
            f"- **Answer:** {md(item.answer)}",
        ]
        out += [f"  - [{c.n}] “{md(c.quote)}” ({c.start}–{c.end})" for c in item.citations]
        out.append("")
    return "\n".join(out)


def write_markdown(report: EvalReport, path: Path) -> None:
    """Write the ``--report`` Markdown file."""
    write_text(path, markdown(report))
