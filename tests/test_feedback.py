"""Feedback lines: one JSON object per vote, appended, never lost."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from assistant.feedback import record_feedback
from assistant.schemas import Answer, Citation

QUOTE = "Hungarian Prime Minister Viktor Orban called Zelensky’s plan “frightening”."


def orban_answer() -> Answer:
    return Answer(
        question="What did Orban say?",
        answer=f"{QUOTE} [1]",
        abstained=False,
        citations=[
            Citation(
                n=1,
                article_id="north-korean-troops-in-ukraine",
                article_title="North Korean Troops in Ukraine",
                passage_id="north-korean-troops-in-ukraine:6",
                quote=QUOTE,
                start=1607,
                end=1681,
                score=0.77,
            )
        ],
    )


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_writes_one_line_with_every_field_and_creates_folders(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "feedback.jsonl"

    record_feedback(
        path,
        question="What did Orban say?",
        answer=orban_answer(),
        rating="up",
        article="north-korean-troops-in-ukraine",
        comment="spot on",
    )

    [line] = read_lines(path)
    assert line["question"] == "What did Orban say?"
    assert line["answer"] == f"{QUOTE} [1]"
    assert line["citations"] == [QUOTE]
    assert line["abstained"] is False
    assert line["rating"] == "up"
    assert line["article"] == "north-korean-troops-in-ukraine"
    assert line["comment"] == "spot on"
    assert str(line["timestamp"]).endswith("+00:00")  # UTC, ISO 8601
    # typographic quotes stay readable in the file
    assert "“frightening”" in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("answer", "expected_citations", "expected_abstained"),
    [
        (orban_answer().model_dump(), [QUOTE], False),
        ({"answer": "The article does not say.", "abstained": True, "citations": []}, [], True),
        ({"answer": "no citations key", "abstained": False}, [], False),
    ],
)
def test_accepts_the_answer_as_a_dict(
    tmp_path: Path,
    answer: dict[str, object],
    expected_citations: list[str],
    expected_abstained: bool,
) -> None:
    path = tmp_path / "feedback.jsonl"

    record_feedback(path, question="q", answer=answer, rating="down", article=None)

    [line] = read_lines(path)
    assert line["citations"] == expected_citations
    assert line["abstained"] is expected_abstained
    assert line["rating"] == "down"
    assert line["article"] is None


def test_appends_and_keeps_earlier_lines(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    path.write_text('{"earlier": true}\n', encoding="utf-8")

    for rating in ("up", "down"):
        record_feedback(path, question="q", answer=orban_answer(), rating=rating, article=None)

    lines = read_lines(path)
    assert lines[0] == {"earlier": True}
    assert [line["rating"] for line in lines[1:]] == ["up", "down"]


def test_rejects_an_unknown_rating(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"

    with pytest.raises(ValueError, match="rating"):
        record_feedback(path, question="q", answer=orban_answer(), rating="meh", article=None)  # type: ignore[arg-type]

    assert not path.exists()


def test_concurrent_writers_lose_no_line(tmp_path: Path) -> None:
    path = tmp_path / "feedback.jsonl"
    long_question = "why " * 2000  # long lines are the ones that interleave without a lock

    def vote(worker: int) -> None:
        for i in range(50):
            record_feedback(
                path,
                question=f"{worker}-{i} {long_question}",
                answer=orban_answer(),
                rating="up",
                article=None,
            )

    threads = [threading.Thread(target=vote, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    lines = read_lines(path)  # every line parses: none were interleaved
    assert len(lines) == 8 * 50
    assert {str(line["question"]).split()[0] for line in lines} == {
        f"{w}-{i}" for w in range(8) for i in range(50)
    }


def test_a_line_has_a_bounded_size(tmp_path: Path) -> None:
    from assistant.feedback import MAX_CITATIONS, MAX_TEXT_CHARS

    path = tmp_path / "feedback.jsonl"
    huge = "why " * 50_000
    answer = orban_answer().model_dump()
    answer |= {"answer": huge, "citations": [{"quote": huge}] * 100}

    record_feedback(path, question=huge, answer=answer, rating="up", article=huge, comment=huge)

    [line] = read_lines(path)
    assert len(path.read_bytes()) < 20 * MAX_TEXT_CHARS  # whatever the answer it rates
    assert len(line["citations"]) == MAX_CITATIONS  # type: ignore[arg-type]
    for text in (line["question"], line["answer"], line["comment"], line["article"]):
        assert isinstance(text, str) and len(text) == MAX_TEXT_CHARS
        assert text.startswith("why why") and text.endswith("…")
