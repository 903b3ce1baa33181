"""Ask every case through a pipeline and turn the answers into an ``EvalReport``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from assistant.errors import AssistantError, FixtureError, QuestionError, UnknownArticleError
from assistant.evaluation import metrics
from assistant.evaluation.fixtures import Case, fail
from assistant.evaluation.metrics import Outcome
from assistant.evaluation.results import CaseItem, CitedQuote, EvalReport
from assistant.schemas import Answer, Turn


class Pipeline(Protocol):
    """Anything that answers like ``Assistant.ask`` (our assistant, the tutorial pipeline)."""

    def ask(
        self,
        question: str,
        history: Sequence[Turn | dict[str, Any]] | None = None,
        article: str | None = None,
    ) -> Answer: ...


def preflight(pipeline: Pipeline, cases: Sequence[Case]) -> None:
    """Let the pipeline refuse bad cases (too long, unknown article) before any is asked.

    Only pipelines with ``Assistant.check``'s signature can; the others are asked as is.
    """
    check: Callable[..., object] | None = getattr(pipeline, "check", None)
    if check is None:
        return
    problems: list[str] = []
    for case in cases:
        try:
            check(case.question, case.history, case.article)
        except AssistantError as exc:
            problems.append(f"{case.where}: {exc}")
    fail(problems)


#: asked once, unscored, before the cases: the first question of a process pays for lazy
#: set-up (tokenizer, query plans) and would otherwise dominate p95 on a small fixture set
WARM_UP_QUESTION = "What is this article about?"


def warm_up(pipeline: Pipeline) -> None:
    """Ask one throwaway question so that the cases' latencies are steady-state ones."""
    try:
        pipeline.ask(WARM_UP_QUESTION)
    except AssistantError:
        pass  # a pipeline that refuses it is warm all the same


def run_cases(
    pipeline: Pipeline,
    cases: Sequence[Case],
    on_answer: Callable[[Case, Answer], None] | None = None,
) -> list[Outcome]:
    """Ask each case in order; ``on_answer`` is called after each one (for progress)."""
    outcomes: list[Outcome] = []
    for case in cases:
        try:
            answer = pipeline.ask(case.question, history=case.history, article=case.article)
        except (QuestionError, UnknownArticleError) as exc:
            # the case's fault, not the pipeline's: say which line to fix
            raise FixtureError(f"{case.where}: {exc}") from exc
        outcomes.append(Outcome(case, answer))
        if on_answer is not None:
            on_answer(case, answer)
    return outcomes


def case_scores(outcome: Outcome, k: int | None) -> dict[str, float | None]:
    """The per-case values behind the metrics (``None`` where a metric skips the case)."""
    case, answer = outcome.case, outcome.answer
    supported, counted = metrics.supported_sentences(answer)
    scores: dict[str, float | None] = {
        "key_fact_recall": None,
        "token_f1": None,
        "evidence_recall_at_k": None,
        "reciprocal_rank": None,
        "supported_sentence_rate": supported / counted if counted else None,
    }
    if case.answerable:
        covered = metrics.facts_covered(case, answer)
        found = metrics.evidence_found(case, answer, k)
        scores["key_fact_recall"] = sum(covered) / len(covered)
        scores["token_f1"] = (
            0.0 if answer.abstained else metrics.f1(answer.answer, case.reference_answer)
        )
        scores["evidence_recall_at_k"] = sum(found) / len(found)
        scores["reciprocal_rank"] = metrics.reciprocal_rank(case, answer, k)
    return {key: None if v is None else round(v, 4) for key, v in scores.items()}


def case_item(outcome: Outcome, k: int | None) -> CaseItem:
    """One case's entry of the report's ``items``."""
    case, answer = outcome.case, outcome.answer
    return CaseItem(
        id=case.id,
        question=case.question,
        question_type=case.question_type,
        answerable=case.answerable,
        article=case.article,
        history=[turn.model_dump() for turn in case.history],
        answer=answer.answer,
        abstained=answer.abstained,
        citations=[
            CitedQuote(n=c.n, quote=c.quote, start=c.start, end=c.end) for c in answer.citations
        ],
        key_facts=[list(fact) for fact in case.key_facts],
        facts_covered=metrics.facts_covered(case, answer),
        passed=metrics.passed(case, answer),
        latency_ms=round(answer.latency_ms, 2),
        scores=case_scores(outcome, k),
    )


def build_report(outcomes: Sequence[Outcome], config: dict[str, Any], k: int | None) -> EvalReport:
    """Metrics overall and per question type, every case's item, and the run's config."""
    return EvalReport(
        metrics=metrics.compute_metrics(outcomes, k),
        by_type=metrics.metrics_by_type(outcomes, k),
        by_article=metrics.metrics_by_article(outcomes, k),
        items=[case_item(o, k) for o in outcomes],
        config=config,
    )
