"""The grouped cross-validation that chooses the answerer's weights (benchmarks/crossval.py):
held-out articles are answered with weights chosen on the others, and the blind groups
are never read."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from assistant.answering import ranking
from assistant.evaluation.fixtures import Case
from benchmarks import crossval


def _read(article: str, fact_in_second: bool) -> crossval.Read:
    """A case whose best sentence lacks the key fact and whose runner-up (0.15 behind) may
    hold it: only a setting that lets a second sentence join can cover it."""
    # without the fact, the runner-up is long: quoting it costs words past the objective's cap
    other = "It also discussed " + "the parking plans " * 20
    texts = ["The council met on Monday.", "It approved 42 new homes." if fact_in_second else other]
    signals = ranking.Signals(
        dense=np.array([0.6, 0.45]),
        in_context=np.array([0.6, 0.45]),
        first=np.zeros(2),
        heading=np.zeros(2),
    )
    reading = SimpleNamespace(signals=signals, sentences=SimpleNamespace(texts=texts), weak=False)
    case = Case(
        id=f"{article}-{fact_in_second}",
        question="How many homes?",
        article=article,
        answerable=True,
        reference_answer="42.",
        key_facts=[["42"]],
        evidence=["42 new homes"],
        question_type="number",
    )
    return crossval.Read(article, case, reading)


def _grid(*within: float) -> list[ranking.Weights]:
    return [ranking.Weights(second_within=w) for w in within]


def test_held_out_articles_get_the_setting_chosen_on_the_others() -> None:
    reads = [_read(a, True) for a in ("a", "b", "c")]
    found = crossval.leave_one_article_out(reads, _grid(0.0, 0.2))
    assert found["key_fact_recall"] == 1.0  # every fold chose "a second sentence joins"
    assert found["chosen_on_all"]["second_within"] == 0.2
    assert set(found["per_article"]) == {"a", "b", "c"}
    # with only "one sentence" in the grid the same cases lose their fact
    assert crossval.leave_one_article_out(reads, _grid(0.0))["key_fact_recall"] == 0.0


def test_a_setting_that_only_helps_the_held_out_article_is_not_credited() -> None:
    # article "a" needs the second sentence; on "b" and "c" it only adds words past the cap,
    # so the fold that holds "a" out chooses one sentence, and "a" is scored with it
    reads = [_read("a", True), _read("b", False), _read("c", False)]
    found = crossval.leave_one_article_out(reads, _grid(0.0, 0.2))
    assert found["per_article"]["a"] == 0.0


@pytest.mark.parametrize("pattern", ["tests/fixtures/blind/*.jsonl", "tests/fixtures/none-*.jsonl"])
def test_the_blind_group_and_an_empty_pattern_are_refused(pattern: str, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exit_info:
        crossval.main(["--fixtures", pattern, "--out", str(tmp_path / "x")])
    assert exit_info.value.code == 2
    assert not (tmp_path / "x").exists()
