"""The metrics of DESIGN.md's table, one small function each, computed from cases and answers.

All text matching uses the shared normalisation (``assistant.text.normalize``) and ignores
``[n]`` citation markers; answers are read with the product's citation grammar
(``assistant.citations``: markers and answer sentences), so an answer is scored as the
product wrote it. A metric that has nothing to measure (no answerable case, no
citation, no answered sentence) is ``None``, written as ``null`` in the JSON report: a
0 would read as a failure and a 1 as a success, and it is neither.

Definitions (the docstrings repeat them where they are computed):

- ``key_fact_recall``: answerable cases; per case the share of its facts covered (a fact
  is covered when any of its alternatives occurs in the answer), 0 when it abstained; mean.
- ``answer_words_mean``: answerable cases, abstentions included (their words are read
  too); words in the answer, markers excluded; mean.
- ``token_f1``: answerable cases; SQuAD token F1 against ``reference_answer``, 0 when it
  abstained (a refusal that shares words with the reference is not partly right); mean.
- ``evidence_recall_at_k``: answerable cases; share of evidence strings contained in one of
  the top-k passages; mean.
- ``mrr``: answerable cases; 1/rank of the first top-k passage containing any evidence
  string, 0 when none does; mean.
- ``citation_precision``: all citations of answerable, non-abstained cases; share whose
  quote overlaps some evidence string of its case (see ``overlaps``). Pooled.
- ``citation_recall``: all evidence strings of answerable, non-abstained cases; share
  overlapped by some citation quote of its case. Pooled.
- ``supported_sentence_rate``: all sentences of non-abstained answers (unanswerable cases
  answered anyway included: grounding is measured, not the decision to answer); share
  supported by the citations they mark (see ``sentence_supported``). Pooled. ``None``
  when nothing was answered.
- ``answer_rate``: share of answerable cases not abstained.
- ``abstention_rate``: share of unanswerable cases abstained.
- ``latency_ms_p50``/``latency_ms_p95``: percentiles (``numpy.percentile``, linear
  interpolation) of ``Answer.latency_ms`` over all cases.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from assistant.citations import cited_sentences, strip_markers, word_count
from assistant.text import normalize, terms

if TYPE_CHECKING:
    from assistant.evaluation.fixtures import Case
    from assistant.schemas import Answer

#: the ``metrics`` keys of the JSON report, in DESIGN.md's order
METRIC_KEYS: tuple[str, ...] = (
    "key_fact_recall",
    "answer_words_mean",
    "token_f1",
    "evidence_recall_at_k",
    "mrr",
    "citation_precision",
    "citation_recall",
    "supported_sentence_rate",
    "answer_rate",
    "abstention_rate",
    "latency_ms_p50",
    "latency_ms_p95",
)

#: one line per metric, for report readers
METRIC_DESCRIPTIONS: dict[str, str] = {
    "key_fact_recall": "answerable: share of key facts in the answer (0 if abstained)",
    "answer_words_mean": "answerable: words per answer, [n] markers excluded",
    "token_f1": "answerable: SQuAD token F1 against the reference answer",
    "evidence_recall_at_k": "answerable: share of evidence found in the top-k passages",
    "mrr": "answerable: 1/rank of the first passage holding evidence",
    "citation_precision": "cited quotes that overlap the evidence",
    "citation_recall": "evidence strings overlapped by a cited quote",
    "supported_sentence_rate": "answer sentences supported by what they cite",
    "answer_rate": "answerable cases answered, not abstained",
    "abstention_rate": "unanswerable cases abstained",
    "latency_ms_p50": "median time per case",
    "latency_ms_p95": "95th-percentile time per case",
}

#: metrics where a smaller value is the better one (all others: larger is better)
LOWER_IS_BETTER = frozenset({"answer_words_mean", "latency_ms_p50", "latency_ms_p95"})

#: a quote overlaps an evidence string when their longest common run of consecutive
#: words covers this share of the evidence's words (or one text contains the other)
OVERLAP_SHARE = 0.6

#: a sentence is supported when this share of its content words occurs in what it cites
SUPPORT_SHARE = 0.8

_WORD_TOKEN = re.compile(r"\w+")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
_ARTICLES = re.compile(r"\b(?:a|an|the)\b")


@dataclass(frozen=True)
class Outcome:
    """One case and the answer the pipeline gave it."""

    case: Case
    answer: Answer


# -- per-case building blocks ---------------------------------------------------------------


def facts_covered(case: Case, answer: Answer) -> list[bool]:
    """For each key fact: does one of its alternatives occur in the answer? (no, if abstained)"""
    if answer.abstained:
        return [False] * len(case.key_facts)
    text = normalize(strip_markers(answer.answer))
    return [any(normalize(alt) in text for alt in fact) for fact in case.key_facts]


def passed(case: Case, answer: Answer) -> bool:
    """Answerable: answered and every key fact covered; unanswerable: abstained."""
    if not case.answerable:
        return answer.abstained
    return not answer.abstained and all(facts_covered(case, answer))


def squad_tokens(text: str) -> list[str]:
    """SQuAD's answer normalisation (after ours): no punctuation, no a/an/the, split on spaces."""
    text = normalize(strip_markers(text)).translate(_PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def f1(prediction: str, reference: str) -> float:
    """SQuAD-style token F1 of one answer against one reference."""
    predicted, expected = squad_tokens(prediction), squad_tokens(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def top_passages(answer: Answer, k: int | None) -> list[str]:
    """Normalised texts of the first ``k`` retrieved passages (all when ``k`` is None)."""
    return [normalize(p.text) for p in answer.passages[:k]]


def evidence_found(case: Case, answer: Answer, k: int | None) -> list[bool]:
    """For each evidence string: is it contained in one of the top-k passages?"""
    passages = top_passages(answer, k)
    return [any(normalize(ev) in p for p in passages) for ev in case.evidence]


def reciprocal_rank(case: Case, answer: Answer, k: int | None) -> float:
    """1/rank of the first top-k passage containing any evidence string; 0 when none does."""
    wanted = [normalize(ev) for ev in case.evidence]
    for rank, passage in enumerate(top_passages(answer, k), 1):
        if any(ev in passage for ev in wanted):
            return 1.0 / rank
    return 0.0


def _words(text: str) -> list[str]:
    return _WORD_TOKEN.findall(normalize(text))


def longest_common_run(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest run of consecutive tokens that ``a`` and ``b`` share."""
    best = 0
    previous = [0] * (len(b) + 1)
    for token in a:
        current = [0] * (len(b) + 1)
        for j, other in enumerate(b, 1):
            if token == other:
                current[j] = previous[j - 1] + 1
                best = max(best, current[j])
        previous = current
    return best


def overlaps(quote: str, evidence: str) -> bool:
    """Does a cited quote overlap an evidence string?

    Yes when, after normalisation, one contains the other, or their longest common run of
    consecutive words covers at least ``OVERLAP_SHARE`` (60%) of the evidence's words. A
    quote sharing only a few scattered words ("Zelensky", "said") does not count.
    """
    q, e = normalize(quote), normalize(evidence)
    if not q or not e:
        return False
    if e in q or q in e:
        return True
    evidence_words = _words(e)
    run = longest_common_run(_words(q), evidence_words)
    return bool(evidence_words) and run >= OVERLAP_SHARE * len(evidence_words)


def cited_sources(answer: Answer, numbers: Iterable[int]) -> list[str]:
    """Quotes of the citations numbered ``numbers`` and the texts of their passages."""
    passages = {p.passage_id: p.text for p in answer.passages}
    sources: list[str] = []
    for citation in answer.citations:
        if citation.n in numbers:
            sources.append(citation.quote)
            if citation.passage_id in passages:
                sources.append(passages[citation.passage_id])
    return sources


def sentence_supported(sentence: str, sources: Sequence[str]) -> bool | None:
    """Is an answer sentence supported by the texts it cites? ``None``: nothing to support.

    Supported when its normalised text (end punctuation trimmed) is contained in a source,
    or at least ``SUPPORT_SHARE`` (80%) of its distinct content words (stemmed, stopwords
    dropped: ``assistant.text.terms``) occur in the sources. A sentence that cites nothing
    is unsupported; a fragment without content words (a stray "." after a marker) is
    ``None`` and not counted.
    """
    needed = set(terms(sentence))
    if not needed:
        return None
    if not sources:
        return False
    text = normalize(sentence).strip(" .!?;:")
    if any(text in normalize(source) for source in sources):
        return True
    available = {t for source in sources for t in terms(source)}
    return len(needed & available) >= SUPPORT_SHARE * len(needed)


def supported_sentences(answer: Answer) -> tuple[int, int]:
    """(supported, counted) sentences of one answer; (0, 0) when it abstained."""
    if answer.abstained:
        return 0, 0
    supported = counted = 0
    for sentence in cited_sentences(answer.answer):
        verdict = sentence_supported(sentence.text, cited_sources(answer, sentence.cites))
        if verdict is not None:
            counted += 1
            supported += verdict
    return supported, counted


# -- the metrics ------------------------------------------------------------------------------


def _mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return sum(items) / len(items) if items else None


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def _answerable(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.case.answerable]


def _answered(outcomes: Iterable[Outcome]) -> list[Outcome]:
    return [o for o in outcomes if o.case.answerable and not o.answer.abstained]


def key_fact_recall(outcomes: Sequence[Outcome]) -> float | None:
    """Answerable cases: mean share of key facts the answer covers (0 when it abstained)."""
    return _mean(
        sum(covered) / len(covered)
        for o in _answerable(outcomes)
        if (covered := facts_covered(o.case, o.answer))
    )


def answer_words_mean(outcomes: Sequence[Outcome]) -> float | None:
    """Answerable cases: mean words per answer, ``[n]`` markers excluded."""
    return _mean(word_count(o.answer.answer) for o in _answerable(outcomes))


def token_f1(outcomes: Sequence[Outcome]) -> float | None:
    """Answerable cases: mean SQuAD token F1 against ``reference_answer`` (0 when abstained)."""
    return _mean(
        0.0 if o.answer.abstained else f1(o.answer.answer, o.case.reference_answer)
        for o in _answerable(outcomes)
    )


def evidence_recall_at_k(outcomes: Sequence[Outcome], k: int | None = None) -> float | None:
    """Answerable cases: mean share of evidence strings found in the top-k passages."""
    return _mean(
        sum(found) / len(found)
        for o in _answerable(outcomes)
        if (found := evidence_found(o.case, o.answer, k))
    )


def mrr(outcomes: Sequence[Outcome], k: int | None = None) -> float | None:
    """Answerable cases: mean reciprocal rank of the first passage holding evidence (0 if none)."""
    return _mean(reciprocal_rank(o.case, o.answer, k) for o in _answerable(outcomes))


def citation_precision(outcomes: Sequence[Outcome]) -> float | None:
    """Citations of answered answerable cases: share overlapping some evidence string."""
    hits = total = 0
    for o in _answered(outcomes):
        for citation in o.answer.citations:
            total += 1
            hits += any(overlaps(citation.quote, ev) for ev in o.case.evidence)
    return _share(hits, total)


def citation_recall(outcomes: Sequence[Outcome]) -> float | None:
    """Evidence strings of answered answerable cases: share overlapped by some citation quote."""
    hits = total = 0
    for o in _answered(outcomes):
        for evidence in o.case.evidence:
            total += 1
            hits += any(overlaps(c.quote, evidence) for c in o.answer.citations)
    return _share(hits, total)


def supported_sentence_rate(outcomes: Sequence[Outcome]) -> float | None:
    """Sentences of non-abstained answers: share supported by what they cite (None: none)."""
    supported = counted = 0
    for o in outcomes:
        s, c = supported_sentences(o.answer)
        supported, counted = supported + s, counted + c
    return _share(supported, counted)


def answer_rate(outcomes: Sequence[Outcome]) -> float | None:
    """Share of answerable cases that were answered (not abstained)."""
    cases = _answerable(outcomes)
    return _share(sum(not o.answer.abstained for o in cases), len(cases))


def abstention_rate(outcomes: Sequence[Outcome]) -> float | None:
    """Share of unanswerable cases where the pipeline abstained."""
    cases = [o for o in outcomes if not o.case.answerable]
    return _share(sum(o.answer.abstained for o in cases), len(cases))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) of ``values``, ``None`` when there are none."""
    return float(np.percentile(values, q)) if len(values) else None


def latency_ms_p50(outcomes: Sequence[Outcome]) -> float | None:
    """Median end-to-end latency of a case, in milliseconds."""
    return percentile([o.answer.latency_ms for o in outcomes], 50)


def latency_ms_p95(outcomes: Sequence[Outcome]) -> float | None:
    """95th-percentile end-to-end latency of a case, in milliseconds."""
    return percentile([o.answer.latency_ms for o in outcomes], 95)


Metric = Callable[[Sequence[Outcome]], float | None]


def metric_functions(k: int | None) -> dict[str, Metric]:
    """Every metric by its report key, retrieval metrics cut at the top ``k`` passages."""
    return {
        "key_fact_recall": key_fact_recall,
        "answer_words_mean": answer_words_mean,
        "token_f1": token_f1,
        "evidence_recall_at_k": partial(evidence_recall_at_k, k=k),
        "mrr": partial(mrr, k=k),
        "citation_precision": citation_precision,
        "citation_recall": citation_recall,
        "supported_sentence_rate": supported_sentence_rate,
        "answer_rate": answer_rate,
        "abstention_rate": abstention_rate,
        "latency_ms_p50": latency_ms_p50,
        "latency_ms_p95": latency_ms_p95,
    }


def compute_metrics(outcomes: Sequence[Outcome], k: int | None = None) -> dict[str, float | None]:
    """The report's ``metrics`` object: every key of ``METRIC_KEYS``, rounded for stable diffs."""
    functions = metric_functions(k)
    result: dict[str, float | None] = {}
    for key in METRIC_KEYS:
        value = functions[key](outcomes)
        result[key] = None if value is None else round(value, 4)
    return result


def metrics_by_article(
    outcomes: Sequence[Outcome], k: int | None = None
) -> dict[str, dict[str, float | None]]:
    """``compute_metrics`` for each article a case is scoped to ("" for unscoped cases)."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.case.article or "", []).append(o)
    return {name: compute_metrics(groups[name], k) for name in sorted(groups)}


def metrics_by_type(
    outcomes: Sequence[Outcome], k: int | None = None
) -> dict[str, dict[str, float | None]]:
    """``compute_metrics`` for each ``question_type``, types in alphabetical order."""
    groups: dict[str, list[Outcome]] = {}
    for o in outcomes:
        groups.setdefault(o.case.question_type, []).append(o)
    return {name: compute_metrics(groups[name], k) for name in sorted(groups)}
