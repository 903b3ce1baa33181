"""Suggested questions: found by the shape of the article's sentences (who is quoted, what is
counted, what the headline names), kept only when the real assistant answers them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import httpx
import pytest

from assistant.chain import Assistant
from assistant.suggestions import (
    MAX_SUGGESTIONS,
    Suggestions,
    candidate_questions,
    counts,
    headline_subject,
    speakers,
    suggest,
)
from tests.conftest import FIXTURES, SEED_ID
from tests.test_api import serve, variant

#: an article of the tuning pool the rules were not written against
OTHER = "kestrel-point-bridge-inquiry"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Hungarian Prime Minister Viktor Orban called Zelensky’s plan “frightening”.",
            ["Viktor Orban"],
        ),
        ("“We have no proof,” Rutte said.", ["Rutte"]),
        ("Councillor Bernadette Lyle said residents had run out of patience.", ["Bernadette Lyle"]),
        ("He warned that it would be “the first step to a world war.”", []),
        ("The official added that talks seem unlikely.", []),
    ],
)
def test_speakers(sentence: str, expected: list[str]) -> None:
    assert list(speakers(sentence)) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("North Korea is preparing to send 10,000 troops to support Russia.", ["troops"]),
        ("Councillors backed the budget by 23 votes to 17.", ["votes"]),
        ("It was approved in 2019 with a budget of £480 million.", []),  # a year, money
        ("Patients with type 2 diabetes walked for 15 minutes.", []),  # a label, a measure
        ("The Slate 9 comes in three colours.", []),
    ],
)
def test_counts(sentence: str, expected: list[str]) -> None:
    assert list(counts(sentence)) == expected


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "Kestrel Point Bridge Cost Climbs as Inquiry Is Ordered",
            "The cost of the Kestrel Point Bridge rose. The inquiry will report.",
            "Kestrel Point Bridge",
        ),
        (
            "North Korean Troops in Ukraine: A Dangerous Escalation?",
            "He said North Korean involvement grew. The war in Ukraine goes on in Ukraine "
            "and in Ukraine.",
            "North Korean troops",
        ),
        ("A Quiet Day", "Nothing happened at all.", None),
    ],
)
def test_headline_subject(title: str, body: str, expected: str | None) -> None:
    assert headline_subject(title, body) == expected


def test_one_question_of_each_kind_comes_first() -> None:
    sentences = [
        "Mark Rutte leads the alliance.",
        "“We have no proof,” Rutte said.",
        "North Korea is preparing to send 10,000 troops.",
        "“It is frightening,” Viktor Orban said.",
        "Officials said little.",
    ]
    questions = candidate_questions("Troops in Ukraine", sentences)

    assert questions[:2] == [
        "What did Mark Rutte say?",  # the fullest name the article gives
        "How many troops does the article mention?",
    ]
    assert "What did Viktor Orban say?" in questions
    assert not any("Officials" in q for q in questions)  # no one's surname


def answered_by(assistant: Assistant, questions: list[str], article: str) -> None:
    assert 2 <= len(questions) <= MAX_SUGGESTIONS, questions
    for question in questions:
        answer = assistant.ask(question, article=article)
        assert not answer.abstained and answer.citations, (question, answer.answer)


def test_the_seed_article_gets_questions_it_answers(assistant: Assistant) -> None:
    questions = suggest(assistant, SEED_ID)

    answered_by(assistant, questions, SEED_ID)
    assert any(q.startswith("What did ") for q in questions)
    assert any(q.startswith("How many ") for q in questions)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Assistant]:
    """The real assistant on one fixture article."""
    from assistant import Settings

    root = tmp_path_factory.mktemp("other")
    (root / "articles").mkdir()
    shutil.copy(FIXTURES / "pool" / "articles" / f"{OTHER}.md", root / "articles")
    settings = Settings(articles_dir=root / "articles", chroma_dir=root / "chroma", _env_file=None)
    yield Assistant.from_settings(settings)


def test_another_article_gets_questions_it_answers(other: Assistant) -> None:
    questions = suggest(other, OTHER)

    answered_by(other, questions, OTHER)
    assert questions[0] == "What did Graham Solberg say?"


def test_suggestions_are_remembered_per_article_version(assistant: Assistant) -> None:
    remembered = Suggestions(assistant)

    first = remembered.for_article(SEED_ID)

    assert remembered.for_article(SEED_ID) == first
    assert len(remembered._known) == 1


@pytest.mark.slow
def test_the_api_offers_them(assistant: Assistant) -> None:
    with serve(variant(assistant)) as base:
        ok = httpx.get(f"{base}/api/articles/{SEED_ID}/suggestions")
        unknown = httpx.get(f"{base}/api/articles/no-such-article/suggestions")
        bad = httpx.get(f"{base}/api/articles/..%2Fetc/suggestions")

    assert ok.status_code == 200
    assert ok.json()["article"] == SEED_ID and 2 <= len(ok.json()["questions"]) <= 3
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_article"
    assert bad.status_code in (400, 404) and "error" in bad.json()
