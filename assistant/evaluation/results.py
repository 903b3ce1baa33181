"""The evaluation report as typed objects: what ``--json`` writes and ``--baseline`` reads back.

``{"metrics": {...}, "by_type": {"TYPE": {...}}, "items": [...], "config": {...}}`` plus
``"baseline_delta"`` when the run was compared with a baseline.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from assistant.evaluation.metrics import LOWER_IS_BETTER

MetricValues = dict[str, float | None]


class CitedQuote(BaseModel):
    """A citation as the report shows it."""

    n: int
    quote: str
    start: int
    end: int


class CaseItem(BaseModel):
    """One case's result: what was asked, what came back, and how it scored."""

    id: str
    question: str
    question_type: str
    answerable: bool
    article: str | None = None
    history: list[dict[str, str]] = Field(default_factory=list)
    answer: str
    abstained: bool
    citations: list[CitedQuote] = Field(default_factory=list)
    key_facts: list[list[str]] = Field(default_factory=list)
    facts_covered: list[bool] = Field(default_factory=list)
    passed: bool
    latency_ms: float
    #: per-case values behind the metrics (reciprocal_rank, token_f1, ...)
    scores: MetricValues = Field(default_factory=dict)


class MetricDelta(BaseModel):
    """How one metric moved against the baseline; ``regression`` knows which way is better."""

    baseline: float | None
    current: float | None
    delta: float | None
    change: Literal["better", "worse", "same", "n/a"]
    regression: bool


class EvalReport(BaseModel):
    """A whole evaluation run."""

    metrics: MetricValues
    by_type: dict[str, MetricValues]
    items: list[CaseItem]
    config: dict[str, Any]
    baseline_delta: dict[str, MetricDelta] | None = None
    #: metrics per article the cases are scoped to: new articles are where rules that
    #: fit one article fail (an addition to the contract's report; absent in old ones)
    by_article: dict[str, MetricValues] = {}

    @property
    def failed(self) -> list[CaseItem]:
        """The cases that did not pass."""
        return [item for item in self.items if not item.passed]

    def counts_by_type(self) -> dict[str, tuple[int, int]]:
        """(passed, cases) for each question type, in ``by_type`` order."""
        counts = {name: [0, 0] for name in self.by_type}
        for item in self.items:
            pair = counts.setdefault(item.question_type, [0, 0])
            pair[0] += item.passed
            pair[1] += 1
        return {name: (p, n) for name, (p, n) in counts.items()}

    def to_json(self) -> dict[str, Any]:
        """The JSON object of ``--json`` (``baseline_delta`` only when there is one)."""
        data = self.model_dump(mode="json")
        if self.baseline_delta is None:
            del data["baseline_delta"]
        return data


def format_value(key: str, value: float | None) -> str:
    """A metric for people: milliseconds and words with one decimal, rates with three."""
    if value is None:
        return "n/a"
    if key.startswith("latency_ms"):
        return f"{value:.1f} ms"
    if key == "answer_words_mean":
        return f"{value:.1f}"
    return f"{value:.3f}"


def format_delta(key: str, delta: MetricDelta) -> str:
    """A signed change, e.g. ``+0.042`` or ``-3.1 ms``, or ``n/a``."""
    if delta.delta is None:
        return "n/a"
    text = format_value(key, abs(delta.delta))
    sign = "+" if delta.delta > 0 else "-" if delta.delta < 0 else "±"
    return sign + text


def better_direction(key: str) -> str:
    """'lower' or 'higher': which way this metric improves."""
    return "lower" if key in LOWER_IS_BETTER else "higher"
