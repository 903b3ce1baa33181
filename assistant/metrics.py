"""What operators watch: Prometheus metrics of questions and HTTP responses, and one JSON log
line per question.

``QuestionMetrics`` counts what the app did (answers by mode, refusals and fallbacks by
reason, latency, error responses by route, 429s) and reads the index size when scraped.
Each app has a registry of its own, so several apps in one process (the tests) do not
collide. With ``ASSISTANT_METRICS_DIR`` the counts go to files in that folder instead
(prometheus-client's multiprocess mode), and a scrape of any worker sums every worker's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import Metric

    from assistant.chain import Assistant
    from assistant.schemas import Answer

#: the logger of the one line per question (JSON); the app shows it at INFO
QUESTION_LOG = "assistant.questions"
question_log = logging.getLogger(QUESTION_LOG)

#: seconds; answers take tens of milliseconds, a language model's seconds
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

#: a language model's failure, as ``llm.describe_failure`` words it, to a label (few values)
_FALLBACK_REASONS = (
    ("timed out", "timeout"),
    ("could not be reached", "unreachable"),
    ("malformed", "malformed"),
    ("answered with an error", "server_error"),
    ("support", "unsupported"),
)


def fallback_label(reason: str | None) -> str:
    """A short label for why a language model's answer was replaced by the extractive one."""
    text = (reason or "").lower()
    return next((label for words, label in _FALLBACK_REASONS if words in text), "other")


def refusal_label(answer: Answer) -> str | None:
    """Why an answer is a refusal (``None``: it answers): nothing close in the article, or
    only the closest sentence offered."""
    if not answer.abstained:
        return None
    return "closest_only" if answer.citations else "no_answer"


def use_multiprocess_dir(folder: Path) -> None:
    """Send this process's counts to ``folder`` (prometheus-client's multiprocess mode).

    prometheus-client reads ``PROMETHEUS_MULTIPROC_DIR`` when it is imported; the value
    class is chosen again here so a setting read after that import still takes effect.
    """
    from prometheus_client import values

    from assistant.config import hand_metrics_dir_to_prometheus

    folder.mkdir(parents=True, exist_ok=True)
    hand_metrics_dir_to_prometheus(folder)

    values.ValueClass = values.get_value_class()


def clear_multiprocess_dir(folder: Path) -> None:
    """Remove the counts of earlier runs (before the workers start, as prometheus asks)."""
    for path in folder.glob("*.db"):
        path.unlink(missing_ok=True)


class QuestionMetrics:
    """The app's counters, histogram and index gauges, and the text a scrape returns."""

    def __init__(self, assistant: Assistant, multiprocess_dir: Path | None = None) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.assistant = assistant
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None:
            use_multiprocess_dir(multiprocess_dir)
        self.registry = CollectorRegistry()
        kw: dict[str, Any] = {"registry": self.registry}
        self.answered = Counter(
            "assistant_questions_answered", "questions answered, by answer mode", ["mode"], **kw
        )
        self.refused = Counter(
            "assistant_questions_refused",
            "answers that are refusals, by reason: no_answer (nothing close in the article) "
            "or closest_only (the closest sentence offered); questions refused before "
            "answering are 4xx responses of assistant_http_errors",
            ["reason"],
            **kw,
        )
        self.fallbacks = Counter(
            "assistant_answers_fallen_back",
            "language-model answers replaced by the extractive one, by reason",
            ["reason"],
            **kw,
        )
        self.latency = Histogram(
            "assistant_answer_latency_seconds",
            "seconds from question to answer",
            buckets=LATENCY_BUCKETS,
            **kw,
        )
        self.errors = Counter(
            "assistant_http_errors",
            "4xx and 5xx responses, by route and status",
            ["route", "status"],
            **kw,
        )
        self.rate_limited = Counter(
            "assistant_rate_limited", "requests refused with 429, by route", ["route"], **kw
        )

    def observe(self, answer: Answer) -> None:
        """Count one finished answer and write its log line."""
        self.answered.labels(mode=answer.mode).inc()
        refusal = refusal_label(answer)
        if refusal:
            self.refused.labels(reason=refusal).inc()
        if answer.mode == "extractive-fallback":
            self.fallbacks.labels(reason=fallback_label(answer.fallback_reason)).inc()
        self.latency.observe(answer.latency_ms / 1000)
        log_question(answer, with_text=self.assistant.settings.log_questions)

    def response(self, route: str, status: int) -> None:
        """Count a response: 4xx and 5xx by route and status, 429s by route as well."""
        if status >= 400:
            self.errors.labels(route=route, status=str(status)).inc()
        if status == 429:
            self.rate_limited.labels(route=route).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (summed over workers when shared)."""
        from prometheus_client import generate_latest

        return generate_latest(self._scrape_registry())

    def _scrape_registry(self) -> CollectorRegistry:
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry()
        if self.multiprocess_dir is not None:
            from prometheus_client.multiprocess import MultiProcessCollector

            MultiProcessCollector(registry, path=str(self.multiprocess_dir))
        else:
            registry.register(_Delegate(self.registry.collect))
        registry.register(_Delegate(self._index_size))
        return registry

    def _index_size(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily

        snapshot = self.assistant.knowledge.snapshot
        yield GaugeMetricFamily(
            "assistant_index_articles", "articles in the index", value=len(snapshot.catalog)
        )
        passages = sum(info.passages for info in snapshot.catalog.values())
        yield GaugeMetricFamily("assistant_index_passages", "passages in the index", value=passages)


class _Delegate:
    """A collector whose metrics come from a function (registries take objects)."""

    def __init__(self, collect: Callable[[], Any]) -> None:
        self.collect = collect


#: the routes named in labels as they are; an article's id is left out, every other path
#: is "/api/other" or "/ui", so no request can add labels of its own making
ROUTES = frozenset(
    {
        "/api/ask",
        "/api/ask/stream",
        "/api/articles",
        "/api/health",
        "/metrics",
        "/widget",
        "/widget.js",
    }
)


def route_label(path: str) -> str:
    """The route of a request path, as a metric label with a bounded set of values."""
    if path in ROUTES:
        return path
    if path.startswith("/api/articles/"):
        return "/api/articles/{id}"
    return "/api/other" if path.startswith("/api/") else "/ui"


def log_question(answer: Answer, with_text: bool = False) -> None:
    """One JSON line for one answered question (the question's text only ``with_text``)."""
    if not question_log.isEnabledFor(logging.INFO):
        return
    cited = sorted({c.article_id for c in answer.citations})
    record: dict[str, Any] = {
        "event": "question",
        "article": cited[0] if len(cited) == 1 else (cited or None),
        "mode": answer.mode,
        "abstained": answer.abstained,
        "latency_ms": answer.latency_ms,
        "citations": len(answer.citations),
    }
    if answer.fallback_reason:
        record["fallback"] = fallback_label(answer.fallback_reason)
    if with_text:
        record["question"] = answer.question
    question_log.info(json.dumps(record, ensure_ascii=False))
