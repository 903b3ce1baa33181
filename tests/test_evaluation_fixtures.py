"""Fixture loading: every broken line is named by file and line, before any question is asked."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from assistant.articles import load_articles
from assistant.errors import FixtureError
from assistant.evaluation import command
from assistant.evaluation.fixtures import Case, FixtureProblems, check_evidence, load_cases

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SEED = "north-korean-troops-in-ukraine"

GOOD: dict[str, Any] = {
    "id": "orban-1",
    "question": "What did Orban say?",
    "history": [],
    "article": SEED,
    "answerable": True,
    "reference_answer": "He called Zelensky's plan frightening and urged talks with Russia.",
    "key_facts": [["frightening"], ["talks with Russia", "negotiations with Russia"]],
    "evidence": ["called Zelensky’s plan “frightening”"],
    "question_type": "quote",
}
UNANSWERABLE: dict[str, Any] = {
    "id": "macron-1",
    "question": "What did Macron say?",
    "history": [],
    "answerable": False,
    "reference_answer": "The article does not mention Macron.",
    "key_facts": [],
    "evidence": [],
    "question_type": "unanswerable",
}


def line(**changes: Any) -> str:
    """GOOD as a JSON line, with fields replaced (or removed when the value is ...)."""
    data = {**GOOD, **changes}
    return json.dumps({k: v for k, v in data.items() if v is not ...}, ensure_ascii=False)


def write(tmp_path: Path, *lines: str, name: str = "cases.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_good_file_loads_with_blank_lines_and_history(tmp_path: Path) -> None:
    follow_up = line(
        id="fu-1",
        question="Why did he say it?",
        history=[
            {"role": "user", "content": "What did Orban say?"},
            {"role": "assistant", "content": "He called the plan frightening."},
        ],
        question_type="follow_up",
    )
    path = write(tmp_path, line(), "", "   ", follow_up, json.dumps(UNANSWERABLE))
    cases = load_cases([path])
    assert [c.id for c in cases] == ["orban-1", "fu-1", "macron-1"]
    assert cases[1].history[1].role == "assistant"
    assert cases[2].article is None and not cases[2].answerable
    assert cases[1].where == f"{path}:4 [fu-1]"  # blank lines still count as lines


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ('{"id": "x", "question": ', "not valid JSON"),
        ('["a", "list"]', "a case must be a JSON object"),
        (line(question=...), "missing field 'question'"),
        (line(question_type=...), "missing field 'question_type'"),
        (line(answerable="yes"), "field 'answerable': Input should be a valid boolean"),
        (line(id=7), "field 'id': Input should be a valid string"),
        (line(question="   "), "field 'question'"),
        (line(artcle=SEED), "unknown field 'artcle'"),
        (line(key_facts="frightening"), "field 'key_facts'"),
        (line(key_facts=[[]]), "field 'key_facts.0'"),
        (line(key_facts=[["frightening", ""]]), "field 'key_facts.0.1'"),
        (line(history=[{"role": "bot", "content": "hi"}]), "field 'history.0.role'"),
        (line(key_facts=[]), "answerable case without key_facts"),
        (line(evidence=[]), "answerable case without evidence"),
        (line(reference_answer=" "), "answerable case without reference_answer"),
        (line(answerable=False), "unanswerable case with non-empty key_facts or evidence"),
        (line(answerable=False, key_facts=[]), "unanswerable case with non-empty"),
    ],
)
def test_broken_line_names_file_and_line(tmp_path: Path, bad: str, expected: str) -> None:
    path = write(tmp_path, json.dumps(UNANSWERABLE), "", bad)
    with pytest.raises(FixtureError) as error:
        load_cases([path])
    message = str(error.value)
    assert message.startswith(f"{path}:3")
    assert expected in message


def test_message_names_the_case_when_the_id_is_readable(tmp_path: Path) -> None:
    path = write(tmp_path, line(evidence=[]))
    with pytest.raises(FixtureError, match=r":1 \[orban-1\]: answerable case without evidence"):
        load_cases([path])


def test_duplicate_id_across_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, line(), name="a.jsonl")
    second = write(tmp_path, json.dumps(UNANSWERABLE), line(), name="b.jsonl")
    with pytest.raises(FixtureError) as error:
        load_cases([first, second])
    assert str(error.value) == (f"{second}:2 [orban-1]: duplicate id, first used at {first}:1")


def test_every_problem_is_collected_and_the_message_stays_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, *["{bad json"] * 5, line())
    with pytest.raises(FixtureProblems) as error:
        load_cases([path])
    assert [p.split(":")[1] for p in error.value.problems] == ["1", "2", "3", "4", "5"]
    assert "(and 2 more problems)" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [(None, "no such fixture file"), (b"", "no cases"), (b"\xff\xfe{}", "not UTF-8")],
)
def test_unusable_file(tmp_path: Path, content: bytes | None, expected: str) -> None:
    path = tmp_path / "cases.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(FixtureError, match=expected):
        load_cases([path])


# -- evidence against the articles -------------------------------------------------------------


@pytest.fixture(scope="module")
def bodies() -> dict[str, str]:
    """Article id -> body of the seed article and the two fixture articles."""
    loaded = [*load_articles(ROOT / "index" / "articles").articles]
    loaded += load_articles(FIXTURES / "articles").articles
    return {a.id: a.body for a in loaded}


def one(**changes: Any) -> Case:
    return Case.model_validate({**GOOD, **changes}).located("cases.jsonl", 7)


def test_evidence_matches_after_normalisation(bodies: dict[str, str]) -> None:
    # ASCII quotes, other case and spacing than the article's “frightening”
    check_evidence([one(evidence=['CALLED  Zelensky\'s plan "frightening"'])], bodies)


def test_missing_evidence_names_the_case(bodies: dict[str, str]) -> None:
    with pytest.raises(FixtureError) as error:
        check_evidence([one(evidence=["Orban praised the plan"])], bodies)
    assert str(error.value) == (
        "cases.jsonl:7 [orban-1]: evidence not found in article "
        "'north-korean-troops-in-ukraine': 'Orban praised the plan'"
    )


def test_evidence_must_be_in_the_scoped_article(bodies: dict[str, str]) -> None:
    water = "Port Calder switched on its new Eastbank Water Treatment Plant"
    with pytest.raises(FixtureError, match="evidence not found"):
        check_evidence([one(evidence=[water])], bodies)
    check_evidence([one(article=None, evidence=[water])], bodies)  # unscoped: any article


def test_unknown_article_is_reported_once_for_all_its_cases(bodies: dict[str, str]) -> None:
    cases = [one(id=f"c{i}", article="no-such-article") for i in range(3)]
    with pytest.raises(FixtureError) as error:
        check_evidence(cases, bodies)
    message = str(error.value)
    assert message.startswith("cases.jsonl:7 [c0] and 2 more cases: unknown article")
    assert "--articles DIR" in message
    assert message.count("unknown article") == 1


def test_the_repository_fixtures_load_and_their_evidence_is_found(bodies: dict[str, str]) -> None:
    cases = load_cases(sorted(FIXTURES.glob("*.jsonl")))
    assert len(cases) >= 100
    check_evidence(cases, bodies)


def test_a_broken_fixture_stops_the_run_before_the_model_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed_settings: Any
) -> None:
    def no_model(*args: object, **kwargs: object) -> None:
        raise AssertionError("the model was loaded for a broken fixture file")

    monkeypatch.setattr("assistant.embeddings.load_embeddings", no_model)
    parser = argparse.ArgumentParser()
    command.add_arguments(parser)
    path = write(tmp_path, line(), line(id="x", evidence=["not in the article at all"]))
    args = parser.parse_args([str(path)])
    with pytest.raises(FixtureError, match=r":2 \[x\]: evidence not found"):
        command.run(args, seed_settings)
