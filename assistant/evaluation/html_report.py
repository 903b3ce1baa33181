"""The ``--html`` report: one self-contained page (inline CSS and SVG, no JavaScript).

Every string that comes from a fixture or an answer is passed through ``html.escape``;
a Content-Security-Policy that forbids scripts and remote loads backs that up, so a
question like ``<script>...`` can neither run nor fetch anything.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from assistant.evaluation.charts import Bar, bar_panel, latency_histogram
from assistant.evaluation.metrics import LOWER_IS_BETTER, METRIC_DESCRIPTIONS, METRIC_KEYS
from assistant.evaluation.report import config_lines, failure_reason, summary_line, write_text
from assistant.evaluation.results import (
    CaseItem,
    EvalReport,
    better_direction,
    format_delta,
    format_value,
)

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = """
:root { --ink:#1d2430; --muted:#5f6773; --line:#dde1e6; --fail:#b42318; --fail-bg:#fdf0ef;
  --pass:#1e7b34; --pass-bg:#eef8f0; --accent:#23395d; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; color: var(--ink); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 32px 0 10px; padding-bottom: 4px;
  border-bottom: 1px solid var(--line); }
.meta { color: var(--muted); margin: 0 0 16px; }
.meta code { font-size: 12px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; min-width: 130px; }
.card b { display: block; font-size: 22px; }
.card span { color: var(--muted); font-size: 12px; }
.card.bad { border-color: var(--fail); background: var(--fail-bg); }
.card.bad b { color: var(--fail); }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.worse { color: var(--fail); font-weight: 600; }
.better { color: var(--pass); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(350px, 1fr));
  gap: 18px 24px; }
svg.chart { font-size: 11px; overflow: visible; }
svg .title { font-size: 12.5px; font-weight: 600; fill: var(--ink); }
svg .note, svg .na, svg .axis { fill: #6b7280; }
svg .label, svg .value { fill: var(--ink); }
svg .marker { fill: #c0392b; font-weight: 600; }
.failures a { white-space: nowrap; }
table.cases { width: 100%; table-layout: fixed; }
table.cases td { word-wrap: break-word; overflow-wrap: anywhere; }
table.cases col.c-status { width: 6%; } table.cases col.c-case { width: 23%; }
table.cases col.c-answer { width: 45%; } table.cases col.c-facts { width: 19%; }
table.cases col.c-latency { width: 7%; }
tr.fail td { background: var(--fail-bg); }
tr.fail td:first-child { box-shadow: inset 4px 0 0 var(--fail); }
.badge { display: inline-block; font-size: 11px; font-weight: 700; letter-spacing: .04em;
  padding: 2px 7px; border-radius: 4px; }
.badge.fail { background: var(--fail); color: #fff; }
.badge.pass { background: var(--pass-bg); color: var(--pass); border: 1px solid #b7dfc0; }
.case-id { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.type { display: inline-block; font-size: 11px; color: var(--accent); background: #eef2f8;
  border-radius: 3px; padding: 0 5px; margin-top: 2px; }
.question { margin-top: 4px; font-weight: 600; }
.history { color: var(--muted); font-size: 12px; margin-top: 4px; }
.why { color: var(--fail); font-size: 12px; font-weight: 600; margin-top: 4px; }
.abstained { color: var(--muted); font-style: italic; }
blockquote { margin: 6px 0 0; padding: 3px 8px; border-left: 3px solid #c8d1dc; color: #39424e;
  font-size: 12.5px; background: #f7f8fa; }
blockquote .where { color: var(--muted); font-size: 11px; }
blockquote summary { cursor: pointer; }
blockquote details[open] summary { color: var(--muted); }
ul.facts { margin: 0; padding: 0; list-style: none; font-size: 12.5px; }
ul.facts li.ok::before { content: "✓ "; color: var(--pass); font-weight: 700; }
ul.facts li.miss::before { content: "✗ "; color: var(--fail); font-weight: 700; }
ul.facts li.miss { color: var(--fail); }
.dim { color: var(--muted); }
"""

#: quotes longer than this (in characters) are folded into a <details> element
LONG_QUOTE = 240
_ANCHOR = re.compile(r"[^A-Za-z0-9_-]+")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _anchor(case_id: str) -> str:
    # ids come from fixtures: keep only characters safe in a fragment and an attribute
    return "case-" + _ANCHOR.sub("-", case_id)


def _metrics_table(report: EvalReport) -> str:
    delta = report.baseline_delta
    head = "<tr><th>metric</th><th>value</th><th>better</th>"
    if delta is not None:
        head += "<th>baseline</th><th>change</th>"
    rows = [head + "<th>meaning</th></tr>"]
    for key in METRIC_KEYS:
        cells = (
            f"<td><code>{key}</code></td><td class='num'>"
            f"{_e(format_value(key, report.metrics.get(key)))}</td>"
            f"<td class='dim'>{better_direction(key)}</td>"
        )
        if delta is not None:
            d = delta[key]
            mark = " ▼ regression" if d.regression else " ▲" if d.change == "better" else ""
            cells += (
                f"<td class='num'>{_e(format_value(key, d.baseline))}</td>"
                f"<td class='num {d.change}'>{_e(format_delta(key, d) + mark)}</td>"
            )
        cells += f"<td class='dim'>{_e(METRIC_DESCRIPTIONS[key])}</td>"
        rows.append(f"<tr>{cells}</tr>")
    return "<table class='metrics'>" + "".join(rows) + "</table>"


def _type_charts(report: EvalReport) -> str:
    panels = []
    types = list(report.by_type)
    for key in METRIC_KEYS:
        values = [report.by_type[t].get(key) for t in types]
        overall = report.metrics.get(key)
        bars = [Bar("all cases", overall, highlight=True)] + [
            Bar(t, v) for t, v in zip(types, values, strict=True)
        ]
        if key in LOWER_IS_BETTER:
            present = [v for v in [overall, *values] if v is not None]
            maximum = max(present, default=1.0)
            note = "lower is better"
        else:
            maximum, note = 1.0, ""

        def fmt(value: float, key: str = key) -> str:
            return format_value(key, value)

        panels.append(bar_panel(key, bars, maximum, fmt, note))
    return "<div class='charts'>" + "".join(panels) + "</div>"


def _quote(n: int, quote: str, start: int, end: int) -> str:
    where = f"<span class='where'>({start}–{end})</span>"
    if len(quote) <= LONG_QUOTE:
        return f"<blockquote>[{n}] {_e(quote)} {where}</blockquote>"
    # a whole chunk (the tutorial cites 1000 characters) would bury the table: fold it
    head = quote[:LONG_QUOTE].rsplit(" ", 1)[0]
    return (
        f"<blockquote><details><summary>[{n}] {_e(head)}… {where}</summary>"
        f"{_e(quote)}</details></blockquote>"
    )


def _case_row(item: CaseItem) -> str:
    status = "fail" if not item.passed else "pass"
    badge = f"<span class='badge {status}'>{status.upper()}</span>"
    history = "".join(
        f"<div class='history'>{_e(turn.get('role', ''))}: {_e(turn.get('content', ''))}</div>"
        for turn in item.history
    )
    why = "" if item.passed else f"<div class='why'>{_e(failure_reason(item))}</div>"
    unanswerable = "" if item.answerable else " <span class='dim'>unanswerable</span>"
    case_cell = (
        f"<div class='case-id'>{_e(item.id)}</div>"
        f"<span class='type'>{_e(item.question_type)}</span>{unanswerable}"
        f"{history}<div class='question'>{_e(item.question)}</div>{why}"
    )
    answer_class = " class='abstained'" if item.abstained else ""
    quotes = "".join(_quote(c.n, c.quote, c.start, c.end) for c in item.citations)
    answer_cell = f"<div{answer_class}>{_e(item.answer)}</div>{quotes}"
    if item.key_facts:
        facts = "".join(
            f"<li class='{'ok' if ok else 'miss'}'>{_e(' / '.join(fact))}</li>"
            for fact, ok in zip(item.key_facts, item.facts_covered, strict=True)
        )
        facts_cell = f"<ul class='facts'>{facts}</ul>"
    else:
        facts_cell = "<span class='dim'>should abstain</span>"
    return (
        f"<tr id='{_anchor(item.id)}' class='{status}'>"
        f"<td>{badge}</td><td>{case_cell}</td><td>{answer_cell}</td>"
        f"<td>{facts_cell}</td><td class='num'>{item.latency_ms:.1f} ms</td></tr>"
    )


def html_page(report: EvalReport) -> str:
    """The whole report as one HTML document."""
    config = report.config
    pipeline = str(config.get("pipeline", "?"))
    total, failed = len(report.items), len(report.failed)
    meta = " · ".join(
        f"{_e(name)} <code>{_e(value)}</code>" for name, value in config_lines(report)
    )
    cards = [
        ("cases", str(total), False),
        ("passed", str(total - failed), False),
        ("failed", str(failed), failed > 0),
    ] + [
        (key, format_value(key, report.metrics.get(key)), False)
        for key in ("key_fact_recall", "answer_rate", "abstention_rate", "latency_ms_p50")
    ]
    cards_html = "".join(
        f"<div class='card{' bad' if bad else ''}'><b>{_e(value)}</b><span>{_e(name)}</span></div>"
        for name, value, bad in cards
    )
    # " · " between links: nowrap links need a break opportunity between them
    failure_links = " · ".join(
        f"<a href='#{_anchor(item.id)}'>{_e(item.id)}</a>" for item in report.failed
    )
    rows = "".join(_case_row(item) for item in report.items)
    latencies = [item.latency_ms for item in report.items]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evaluation report: {_e(pipeline)} — {_e(summary_line(report))}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>Evaluation report: {_e(pipeline)} pipeline</h1>
<p class="meta">{meta}</p>
<div class="cards">{cards_html}</div>
{f"<p class='failures'><b class='worse'>Failed:</b> {failure_links}</p>" if failed else ""}
<h2>Metrics</h2>
{_metrics_table(report)}
<h2>Metrics by question type</h2>
{_type_charts(report)}
<h2>Latency</h2>
{latency_histogram(latencies)}
<h2>Cases</h2>
<table class="cases">
<colgroup><col class="c-status"><col class="c-case"><col class="c-answer"><col class="c-facts">
<col class="c-latency"></colgroup>
<tr><th>result</th><th>case</th><th>answer and cited quotes</th><th>key facts</th>
<th>latency</th></tr>
{rows}
</table>
</body>
</html>
"""


def write_html(report: EvalReport, path: Path) -> None:
    """Write the ``--html`` page."""
    write_text(path, html_page(report))
