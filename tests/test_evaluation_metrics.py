"""Metrics on hand-made cases and answers: no model, no store."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.evaluation import metrics
from assistant.evaluation.fixtures import Case
from assistant.evaluation.metrics import METRIC_KEYS, Outcome
from assistant.schemas import Answer, Citation, RetrievedPassage

ORBAN = (
    "Hungarian Prime Minister Viktor Orban called Zelensky’s plan “frightening” and urged "
    "talks with Russia to find a way out of the conflict."
)
WARY = "Meanwhile, some EU members are wary of escalation."
KYIV = "The slow pace of Western aid has frustrated Kyiv."


def case(**fields: Any) -> Case:
    """An answerable case about Orban unless ``fields`` say otherwise."""
    data: dict[str, Any] = {
        "id": "orban-1",
        "question": "What did Orban say?",
        "answerable": True,
        "reference_answer": "He called Zelensky's plan frightening and urged talks with Russia.",
        "key_facts": [["frightening"], ["talks with Russia", "negotiations with Russia"]],
        "evidence": ["called Zelensky’s plan “frightening”"],
        "question_type": "quote",
    }
    data.update(fields)
    if not data["answerable"]:
        data.update(key_facts=[], evidence=[], reference_answer="")
    return Case.model_validate(data)


def unanswerable(**fields: Any) -> Case:
    return case(
        id="macron", question="What did Macron say?", answerable=False, question_type="unanswerable"
    ).model_copy(update=fields)


def passage(text: str, pid: str = "a:1") -> RetrievedPassage:
    return RetrievedPassage(passage_id=pid, article_id="a", text=text, score=0.5)


def cite(n: int, quote: str, pid: str = "a:1") -> Citation:
    return Citation(
        n=n, article_id="a", article_title="A", passage_id=pid, quote=quote, start=0, end=1, score=1
    )


def answer(
    text: str = f"{ORBAN} [1]",
    citations: list[Citation] | None = None,
    passages: list[RetrievedPassage] | None = None,
    abstained: bool = False,
    latency_ms: float = 10.0,
) -> Answer:
    """An answer; by default the perfect one (Orban's sentence, cited, its passage first)."""
    if citations is None:
        citations = [] if abstained else [cite(1, ORBAN)]
    if passages is None:
        passages = [passage(f"{WARY} {ORBAN}", "a:1"), passage(KYIV, "a:2")]
    return Answer(
        question="q",
        answer=text,
        abstained=abstained,
        citations=citations,
        passages=passages,
        latency_ms=latency_ms,
    )


ABSTAINED = "The article does not say."


def test_perfect_answer_scores_one_everywhere() -> None:
    result = metrics.compute_metrics([Outcome(case(), answer())], k=4)
    assert list(result) == list(METRIC_KEYS)
    for key in (
        "key_fact_recall",
        "evidence_recall_at_k",
        "mrr",
        "citation_precision",
        "citation_recall",
        "supported_sentence_rate",
        "answer_rate",
    ):
        assert result[key] == 1.0, key
    assert result["abstention_rate"] is None  # no unanswerable case to measure
    assert result["answer_words_mean"] == 22  # the marker is not a word
    assert result["latency_ms_p50"] == 10.0


# -- key facts and pass/fail -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "abstained", "expected"),
    [
        (f"{ORBAN} [1]", False, [True, True]),
        ("He called it “frightening”. [1]", False, [True, False]),  # typographic quotes fold
        ("He wants NEGOTIATIONS   with Russia.", False, [False, True]),  # case, whitespace
        ("talks with [1] Russia", False, [False, True]),  # a marker does not break a phrase
        (f"{ORBAN} [1]", True, [False, False]),  # an abstention covers nothing
    ],
)
def test_facts_covered(text: str, abstained: bool, expected: list[bool]) -> None:
    assert metrics.facts_covered(case(), answer(text, abstained=abstained)) == expected


@pytest.mark.parametrize(
    ("the_case", "the_answer", "expected"),
    [
        (case(), answer(), True),
        (case(), answer("He called it frightening. [1]"), False),  # one fact missing
        (case(), answer(ABSTAINED, abstained=True), False),  # abstained on an answerable case
        (unanswerable(), answer(ABSTAINED, abstained=True), True),
        (unanswerable(), answer(), False),  # answered an unanswerable case anyway
    ],
)
def test_passed(the_case: Case, the_answer: Answer, expected: bool) -> None:
    assert metrics.passed(the_case, the_answer) is expected


def test_key_fact_recall_counts_an_abstention_as_zero_and_skips_unanswerable() -> None:
    outcomes = [
        Outcome(case(), answer("It was “frightening”. [1]")),  # 1 of 2 facts
        Outcome(case(id="b"), answer(ABSTAINED, abstained=True)),  # 0
        Outcome(unanswerable(), answer()),  # not counted
    ]
    assert metrics.key_fact_recall(outcomes) == pytest.approx(0.25)
    assert metrics.key_fact_recall([Outcome(unanswerable(), answer())]) is None


def test_answer_words_mean_excludes_markers_and_unanswerable_cases() -> None:
    outcomes = [
        Outcome(case(), answer("one two three [1] [2]")),
        Outcome(case(id="b"), answer("one [1]")),
        Outcome(unanswerable(), answer("many many many many many words here")),
    ]
    assert metrics.answer_words_mean(outcomes) == 2.0


# -- token F1 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prediction", "reference", "expected"),
    [
        ("The slow pace of aid.", "slow pace of aid", 1.0),  # articles and punctuation go
        ("slow pace [1]", "slow pace of aid", 2 * (1.0 * 0.5) / 1.5),  # P=1, R=2/4
        ("nothing shared", "slow pace", 0.0),
        ("", "", 1.0),
        ("", "slow", 0.0),
        ("Zelensky’s plan", "Zelensky's plan", 1.0),  # the shared normalisation first
    ],
)
def test_f1(prediction: str, reference: str, expected: float) -> None:
    assert metrics.f1(prediction, reference) == pytest.approx(expected)


def test_token_f1_is_zero_when_abstained() -> None:
    reference = "The article does not say."
    outcomes = [Outcome(case(reference_answer=reference), answer(reference, abstained=True))]
    assert metrics.token_f1(outcomes) == 0.0


# -- retrieval ---------------------------------------------------------------------------------


def test_evidence_recall_at_k_counts_each_evidence_string_and_respects_k() -> None:
    two = case(evidence=["called Zelensky’s plan “frightening”", "frustrated Kyiv"])
    ranked = [passage(ORBAN, "a:1"), passage("unrelated", "a:9"), passage(KYIV, "a:2")]
    outcome = Outcome(two, answer(passages=ranked))
    assert metrics.evidence_recall_at_k([outcome], k=3) == 1.0
    assert metrics.evidence_recall_at_k([outcome], k=2) == 0.5
    assert metrics.evidence_recall_at_k([outcome], k=None) == 1.0


@pytest.mark.parametrize(
    ("ranked", "expected"),
    [
        ([ORBAN, KYIV], 1.0),
        ([KYIV, WARY, ORBAN], 1 / 3),
        ([KYIV, WARY], 0.0),  # no passage holds the evidence
        ([], 0.0),
    ],
)
def test_reciprocal_rank(ranked: list[str], expected: float) -> None:
    passages = [passage(text, f"a:{i}") for i, text in enumerate(ranked)]
    assert metrics.reciprocal_rank(case(), answer(passages=passages), k=4) == pytest.approx(
        expected
    )


def test_mrr_averages_over_answerable_cases_only() -> None:
    outcomes = [
        Outcome(case(), answer(passages=[passage(KYIV, "a:2"), passage(ORBAN)])),  # 0.5
        Outcome(case(id="b"), answer(passages=[passage(KYIV, "a:2")])),  # 0
        Outcome(unanswerable(), answer(passages=[])),  # skipped
    ]
    assert metrics.mrr(outcomes, k=4) == pytest.approx(0.25)


# -- citations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quote", "evidence", "expected"),
    [
        (ORBAN, "called Zelensky’s plan “frightening”", True),  # quote contains evidence
        ("Zelensky's plan", "called Zelensky’s plan “frightening”", True),  # evidence contains it
        # 7 of the evidence's 10 words in one run (70% >= 60%)
        (
            "Orban urged talks with Russia to find a way, he said.",
            "urged talks with Russia to find a way out of",
            True,
        ),
        # 4 of 10 in one run: not enough
        (
            "He urged talks with Russia yesterday.",
            "urged talks with Russia to find a way out of",
            False,
        ),
        ("Zelensky said Russia and Orban.", ORBAN, False),  # scattered shared words
        (KYIV, ORBAN, False),
        ("", ORBAN, False),
    ],
)
def test_overlaps(quote: str, evidence: str, expected: bool) -> None:
    assert metrics.overlaps(quote, evidence) is expected


def test_citation_precision_and_recall_count_a_citation_without_evidence() -> None:
    two_citations = answer(f"{ORBAN} [1] {KYIV} [2]", citations=[cite(1, ORBAN), cite(2, KYIV)])
    outcomes = [
        Outcome(case(evidence=["called Zelensky’s plan", "some EU members"]), two_citations)
    ]
    assert metrics.citation_precision(outcomes) == 0.5  # the Kyiv quote supports nothing
    assert metrics.citation_recall(outcomes) == 0.5  # "some EU members" never cited


def test_citation_metrics_skip_abstained_and_unanswerable_cases() -> None:
    outcomes = [
        Outcome(case(), answer()),  # 1/1 and 1/1
        Outcome(case(id="b"), answer(ABSTAINED, abstained=True)),  # skipped
        Outcome(unanswerable(), answer(citations=[cite(1, KYIV)])),  # answered anyway: skipped
    ]
    assert metrics.citation_precision(outcomes) == 1.0
    assert metrics.citation_recall(outcomes) == 1.0
    uncited = [Outcome(case(), answer("No citations.", citations=[]))]
    assert metrics.citation_precision(uncited) is None  # no citation to judge
    assert metrics.citation_recall(uncited) == 0.0


# -- supported sentences -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "sources", "expected"),
    [
        ("Meanwhile, some EU members are wary of escalation.", [WARY], True),  # contained
        ("Some EU members are wary of escalation.", [WARY], True),  # contained, case folded
        ("EU members were wary of the escalation.", [WARY], True),  # content words (stems)
        ("EU members were wary of Chinese drones.", [WARY], False),  # 3 of 5 content words
        ("Some EU members are wary of escalation.", [], False),  # cites nothing
        (".", [WARY], None),  # no content: not counted
    ],
)
def test_sentence_supported(sentence: str, sources: list[str], expected: bool | None) -> None:
    assert metrics.sentence_supported(sentence, sources) is expected


def test_supported_sentence_rate_checks_each_sentence_against_its_own_citations() -> None:
    text = f"{ORBAN} [1] The war ends next week. [2] Kyiv is frustrated by slow aid."
    mixed = answer(text, citations=[cite(1, ORBAN), cite(2, KYIV, "a:2")])
    # 1: supported; 2: cites Kyiv's sentence but says something else; 3: cites nothing
    assert metrics.supported_sentences(mixed) == (1, 3)
    # a marker that names no citation supports nothing
    assert metrics.supported_sentences(answer(f"{ORBAN} [7]")) == (0, 1)
    # the cited passage counts too, not only the quote
    assert metrics.supported_sentences(answer(f"{WARY} [1]")) == (1, 1)


def test_supported_sentences_read_markers_as_the_product_writes_them() -> None:
    """Verification accepts "[1, 2]" and "A [1]."; the metrics read them the same way."""
    both = [cite(1, ORBAN), cite(2, KYIV, "a:2")]
    assert metrics.supported_sentences(answer(f"{ORBAN} [1, 2]", citations=both)) == (1, 1)
    assert metrics.supported_sentences(answer(f"{ORBAN[:-1]} [1].", citations=both)) == (1, 1)
    assert metrics.answer_words_mean([Outcome(case(), answer("Two words [1, 2]"))]) == 2


def test_supported_sentence_rate_includes_unanswerable_cases_answered_anyway() -> None:
    outcomes = [
        Outcome(unanswerable(), answer("Macron praised the plan. [1]")),  # unsupported
        Outcome(case(), answer()),  # supported
        Outcome(case(id="b"), answer(ABSTAINED, abstained=True)),  # skipped
    ]
    assert metrics.supported_sentence_rate(outcomes) == 0.5


def test_supported_sentence_rate_is_none_when_nothing_was_answered() -> None:
    outcomes = [Outcome(unanswerable(), answer(ABSTAINED, abstained=True))]
    assert metrics.supported_sentence_rate(outcomes) is None


# -- rates and latency -------------------------------------------------------------------------


def test_answer_and_abstention_rates() -> None:
    outcomes = [
        Outcome(case(), answer()),
        Outcome(case(id="b"), answer(ABSTAINED, abstained=True)),
        Outcome(unanswerable(), answer(ABSTAINED, abstained=True)),
        Outcome(unanswerable(id="c"), answer()),
        Outcome(unanswerable(id="d"), answer()),
    ]
    assert metrics.answer_rate(outcomes) == 0.5
    assert metrics.abstention_rate(outcomes) == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([10.0], 50, 10.0),
        ([10.0, 20.0], 50, 15.0),
        ([4.0, 1.0, 3.0, 2.0], 50, 2.5),
        ([float(v) for v in range(1, 101)], 95, 95.05),
        ([], 50, None),
    ],
)
def test_percentile(values: list[float], q: float, expected: float | None) -> None:
    result = metrics.percentile(values, q)
    assert result == (None if expected is None else pytest.approx(expected))


def test_latency_percentiles_use_every_case() -> None:
    outcomes = [
        Outcome(case(id=str(i)), answer(latency_ms=float(ms)))
        for i, ms in enumerate([5, 10, 20, 40, 1000])
    ]
    assert metrics.latency_ms_p50(outcomes) == 20.0
    assert metrics.latency_ms_p95(outcomes) == pytest.approx(808.0)


# -- aggregation -------------------------------------------------------------------------------


def test_metrics_by_type_groups_cases_and_keeps_every_key() -> None:
    outcomes = [
        Outcome(case(), answer()),
        Outcome(unanswerable(), answer(ABSTAINED, abstained=True)),
        Outcome(unanswerable(id="x", question_type="off_topic"), answer()),
    ]
    by_type = metrics.metrics_by_type(outcomes, k=4)
    assert list(by_type) == ["off_topic", "quote", "unanswerable"]
    assert all(list(values) == list(METRIC_KEYS) for values in by_type.values())
    assert by_type["quote"]["key_fact_recall"] == 1.0
    assert by_type["unanswerable"]["abstention_rate"] == 1.0
    assert by_type["unanswerable"]["key_fact_recall"] is None
    assert by_type["off_topic"]["abstention_rate"] == 0.0


def test_empty_run_has_every_key_and_no_values() -> None:
    assert metrics.compute_metrics([]) == dict.fromkeys(METRIC_KEYS)
