"""The plain cosine pipeline (``assistant eval --pipeline cosine``): the floor to beat."""

from __future__ import annotations

import pytest

from assistant.errors import UnknownArticleError
from assistant.evaluation.cosine import CosinePipeline
from assistant.schemas import Article

BODIES = {
    "harbour": (
        "The harbour bridge will close for repairs next month.\n\n"
        "Engineers found cracks in two of its steel cables during an inspection in May. "
        "The repairs will cost 4 million euros and take about six weeks.\n\n"
        "Ferries will run every twenty minutes while the bridge is closed."
    ),
    "bakery": (
        "A bakery on Mill Street won the regional bread prize on Sunday.\n\n"
        "Its sourdough loaf beat 140 entries from across the county."
    ),
}


@pytest.fixture(scope="module")
def pipeline(embeddings) -> CosinePipeline:  # type: ignore[no-untyped-def]
    articles = [Article(id=k, title=k.title(), body=v) for k, v in BODIES.items()]
    return CosinePipeline.build(articles, embeddings)


def test_answer_is_the_two_closest_sentences_in_reading_order(pipeline: CosinePipeline) -> None:
    answer = pipeline.ask("How much will the bridge repairs cost?", article="harbour")
    assert answer.mode == "cosine" and not answer.abstained
    assert [c.n for c in answer.citations] == [1, 2]
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)
    body = BODIES["harbour"]
    for c in answer.citations:
        assert body[c.start : c.end] == c.quote
    assert any("4 million euros" in c.quote for c in answer.citations)
    assert answer.answer.endswith("[2]")


def test_scope_limits_the_sentences_searched(pipeline: CosinePipeline) -> None:
    answer = pipeline.ask("How much will the bridge repairs cost?", article="bakery")
    assert {c.article_id for c in answer.citations} == {"bakery"}
    unscoped = pipeline.ask("Which bakery won the bread prize?")
    assert unscoped.citations[0].article_id == "bakery"
    assert len(unscoped.passages) == 4


def test_unknown_article_is_refused(pipeline: CosinePipeline) -> None:
    with pytest.raises(UnknownArticleError):
        pipeline.ask("What happened?", article="nowhere")
