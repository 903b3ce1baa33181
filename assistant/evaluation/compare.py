"""Comparing a run with a baseline report, and the ``--fail-under``/``--fail-over`` gates."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from assistant.evaluation import EvaluationError
from assistant.evaluation.metrics import LOWER_IS_BETTER, METRIC_KEYS
from assistant.evaluation.results import MetricDelta, MetricValues, format_value

#: changes smaller than this are rounding noise, not a move either way
EPSILON = 1e-9


@dataclass(frozen=True)
class Gate:
    """One threshold: ``under`` fails when the metric is below it, ``over`` when above."""

    metric: str
    kind: Literal["under", "over"]
    threshold: float

    @property
    def flag(self) -> str:
        """How the gate was written on the command line."""
        return f"--fail-{self.kind} {self.metric}={self.threshold:g}"

    def failure(self, metrics: Mapping[str, float | None]) -> str | None:
        """Why this gate fails on ``metrics``, or ``None`` when it passes."""
        value = metrics.get(self.metric)
        if value is None:
            return f"{self.metric} has no value (nothing to measure) ({self.flag})"
        if self.kind == "under" and value < self.threshold:
            shown = format_value(self.metric, value)
            return f"{self.metric} = {shown} is below {self.threshold:g} ({self.flag})"
        if self.kind == "over" and value > self.threshold:
            shown = format_value(self.metric, value)
            return f"{self.metric} = {shown} is above {self.threshold:g} ({self.flag})"
        return None


def parse_gate(text: str, kind: Literal["under", "over"]) -> Gate:
    """``METRIC=VALUE`` as a ``Gate``; unknown metrics and non-numbers are errors."""
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    if not sep or not metric or not value.strip():
        raise EvaluationError(f"--fail-{kind} {text!r}: write it as METRIC=VALUE")
    if metric not in METRIC_KEYS:
        raise EvaluationError(
            f"--fail-{kind} {text!r}: unknown metric {metric!r}; known: {', '.join(METRIC_KEYS)}"
        )
    try:
        threshold = float(value)
    except ValueError:
        raise EvaluationError(
            f"--fail-{kind} {text!r}: {value.strip()!r} is not a number"
        ) from None
    if not math.isfinite(threshold):
        raise EvaluationError(f"--fail-{kind} {text!r}: the threshold must be a finite number")
    return Gate(metric, kind, threshold)


def parse_gates(under: Iterable[str] = (), over: Iterable[str] = ()) -> list[Gate]:
    """All gates of a run, ``--fail-under`` ones first."""
    return [parse_gate(t, "under") for t in under] + [parse_gate(t, "over") for t in over]


def check_gates(gates: Iterable[Gate], metrics: Mapping[str, float | None]) -> list[str]:
    """One message per failing gate (empty when all pass)."""
    return [message for gate in gates if (message := gate.failure(metrics)) is not None]


def load_baseline(path: Path) -> MetricValues:
    """The ``metrics`` of an earlier ``--json`` report; ``EvaluationError`` if unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EvaluationError(f"--baseline {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EvaluationError(f"--baseline {path}: cannot read the file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise EvaluationError(
            f"--baseline {path}: not JSON ({exc.msg}, line {exc.lineno})"
        ) from None
    found = data.get("metrics") if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise EvaluationError(
            f'--baseline {path}: no "metrics" object; pass a report written by --json'
        )
    values: MetricValues = {}
    for key, value in found.items():
        # bool is an int: a true/false here is a broken file, not a score of 1 or 0
        if isinstance(value, bool) or not isinstance(value, int | float | None):
            raise EvaluationError(f"--baseline {path}: metric {key!r} is not a number")
        values[str(key)] = None if value is None else float(value)
    return values


def delta(key: str, baseline: float | None, current: float | None) -> MetricDelta:
    """The move of one metric, judged by its direction (lower is better for words and latency)."""
    if baseline is None or current is None:
        return MetricDelta(
            baseline=baseline, current=current, delta=None, change="n/a", regression=False
        )
    moved = current - baseline
    if abs(moved) <= EPSILON:
        change: Literal["better", "worse", "same"] = "same"
    else:
        improved = moved < 0 if key in LOWER_IS_BETTER else moved > 0
        change = "better" if improved else "worse"
    return MetricDelta(
        baseline=baseline,
        current=current,
        delta=round(moved, 4),
        change=change,
        regression=change == "worse",
    )


def baseline_delta(
    baseline: Mapping[str, float | None], current: Mapping[str, float | None]
) -> dict[str, MetricDelta]:
    """Every metric of ``METRIC_KEYS`` against the baseline (``n/a`` where either lacks it)."""
    return {key: delta(key, baseline.get(key), current.get(key)) for key in METRIC_KEYS}
