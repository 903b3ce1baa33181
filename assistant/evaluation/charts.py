"""Inline SVG charts for the HTML report, drawn by hand so the page needs no JavaScript or CDN.

Every piece of text that ends up in a chart goes through ``html.escape``: question types
come from fixture files.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from assistant.evaluation.metrics import percentile

BAR = "#4a6fa5"
BAR_HIGHLIGHT = "#23395d"
INK = "#1d2430"
GRID = "#e3e6ea"


@dataclass(frozen=True)
class Bar:
    """One bar of a bar panel; ``value`` None draws "n/a"."""

    label: str
    value: float | None
    highlight: bool = False


def _num(x: float) -> str:
    return f"{x:.1f}"


def bar_panel(
    title: str,
    bars: Sequence[Bar],
    maximum: float,
    fmt: Callable[[float], str],
    note: str = "",
) -> str:
    """A titled horizontal bar chart, one row per bar, scaled to ``maximum``."""
    width, label_w, value_w, row_h, top = 340, 118, 58, 17, 30
    plot_w = width - label_w - value_w
    height = top + row_h * len(bars) + 6
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)} by question type">',
        f'<text x="0" y="14" class="title">{escape(title)}</text>',
    ]
    if note:
        parts.append(
            f'<text x="{width}" y="14" class="note" text-anchor="end">{escape(note)}</text>'
        )
    # faint gridlines at quarter steps make bars comparable across panels
    for step in range(5):
        x = label_w + plot_w * step / 4
        parts.append(
            f'<line x1="{_num(x)}" y1="{top - 4}" x2="{_num(x)}" y2="{height - 4}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
    scale = maximum if maximum > 0 else 1.0
    for i, bar in enumerate(bars):
        y = top + i * row_h
        label = bar.label if len(bar.label) <= 17 else bar.label[:16] + "…"
        weight = ' font-weight="600"' if bar.highlight else ""
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 11}" text-anchor="end" class="label"{weight}>'
            f"<title>{escape(bar.label)}</title>{escape(label)}</text>"
        )
        if bar.value is None:
            parts.append(f'<text x="{label_w + 2}" y="{y + 11}" class="na">n/a</text>')
            continue
        w = max(0.0, min(1.0, bar.value / scale)) * plot_w
        color = BAR_HIGHLIGHT if bar.highlight else BAR
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{_num(max(w, 1.0))}" height="{row_h - 5}" '
            f'rx="2" fill="{color}"><title>{escape(bar.label)}: {escape(fmt(bar.value))}</title>'
            "</rect>"
        )
        parts.append(
            f'<text x="{_num(label_w + w + 4)}" y="{y + 11}" class="value">'
            f"{escape(fmt(bar.value))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(span: float, target: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) giving about ``target`` bins."""
    raw = span / max(target, 1)
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _bins(values: Sequence[float]) -> tuple[float, list[int]]:
    """A round bin width for ``values`` and the count in each bin."""
    high = max(values)
    step = _nice_step(high, 16)
    bins = max(1, math.ceil(high / step + 1e-9))
    if high == bins * step:  # the maximum belongs in the last bin, not one past it
        bins += 1
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v // step))] += 1
    return step, counts


def _marker(x: float, label_y: float, bottom: float, width: int, label: str) -> str:
    """A dashed vertical line at ``x`` with its label in the band above the bars."""
    anchor = "end" if x > width - 110 else "start"
    return (
        f'<line x1="{_num(x)}" y1="{label_y + 3}" x2="{_num(x)}" y2="{bottom}" '
        f'stroke="#c0392b" stroke-dasharray="4 3"/>'
        f'<text x="{_num(x + (-4 if anchor == "end" else 4))}" y="{label_y}" '
        f'text-anchor="{anchor}" class="marker">{escape(label)}</text>'
    )


def histogram(
    values: Sequence[float], unit: str = "ms", markers: Mapping[str, float] | None = None
) -> str:
    """A histogram of ``values`` with labelled vertical lines at ``markers`` (e.g. p50, p95)."""
    marks = list((markers or {}).items())
    # marker labels get their own band above the bars, where they cannot cover them
    width, plot_h, left, right, bottom = 640, 180, 44, 16, 40
    top = 14 + 14 * len(marks)
    plot_w, height = width - left - right, top + plot_h + bottom
    if not values:
        return (
            f'<svg class="chart" viewBox="0 0 {width} 40" width="{width}" height="40">'
            '<text x="0" y="24" class="na">no cases</text></svg>'
        )
    step, counts = _bins(values)
    bins, top_count = len(counts), max(counts)
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="latency histogram">'
    ]
    for j in range(0, top_count + 1, max(1, math.ceil(top_count / 4))):
        y = top + plot_h - plot_h * j / top_count
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" '
            f'stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" text-anchor="end" class="axis">{j}</text>'
        )
    bar_w = plot_w / bins
    for i, count in enumerate(counts):
        if not count:
            continue
        h = plot_h * count / top_count
        lo, hi = i * step, (i + 1) * step
        parts.append(
            f'<rect x="{_num(left + i * bar_w + 1)}" y="{_num(top + plot_h - h)}" '
            f'width="{_num(bar_w - 2)}" height="{_num(h)}" fill="{BAR}">'
            f"<title>{lo:g}–{hi:g} {escape(unit)}: {count} case{'s' * (count != 1)}</title></rect>"
        )
    label_every = max(1, math.ceil(bins / 8))
    for i in range(0, bins + 1, label_every):
        x = left + i * bar_w
        parts.append(
            f'<text x="{_num(x)}" y="{top + plot_h + 16}" text-anchor="middle" class="axis">'
            f"{i * step:g}</text>"
        )
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
        f'stroke="{INK}"/>'
        f'<text x="{left + plot_w / 2}" y="{height - 4}" text-anchor="middle" class="axis">'
        f"{escape(unit)} per case ({len(values)} cases)</text>"
    )
    span = bins * step
    for k, (name, value) in enumerate(marks):
        x = left + plot_w * min(value, span) / span
        parts.append(_marker(x, 12 + 14 * k, top + plot_h, width, f"{name} {value:.1f} {unit}"))
    parts.append("</svg>")
    return "".join(parts)


def latency_histogram(latencies: Sequence[float]) -> str:
    """The latency histogram with p50 and p95 marked."""
    markers = {
        name: value
        for name, q in (("p50", 50), ("p95", 95))
        if (value := percentile(latencies, q)) is not None
    }
    return histogram(latencies, "ms", markers)
