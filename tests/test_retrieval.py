"""The hybrid retriever: names, paraphrases, article scope, and follow-up questions."""

from __future__ import annotations

import pytest

from assistant.chain import Assistant
from assistant.retrieval import contextualize, is_follow_up
from assistant.schemas import Turn
from tests.conftest import SEED_ID


def _top(assistant: Assistant, query: str, article: str | None = SEED_ID) -> str:
    hits = assistant.retriever.scoped(article).search(query)
    return hits[0].passage.text


#: (query, text of the passage that must come first); also run against a Chroma server
NAMES_AND_PARAPHRASES = [
    ("Orban", "Viktor Orban"),
    ("Nauseda", "Gitanas Nauseda"),
    ("What did Orban say?", "frightening"),
    ("What is Pyongyang readying?", "readying 10,000 soldiers"),
    ("How is Pyongyang helping Moscow?", "helping Russia with weapons"),
    ("expected weather season for Kiev", "hard winter"),
    ("Which countries did Rutte accuse?", "security spoilers"),
    ("membership on hold", "irreversible path to membership"),
]


@pytest.mark.parametrize(("query", "expected"), NAMES_AND_PARAPHRASES)
def test_names_and_paraphrases_find_their_passage(
    assistant: Assistant, query: str, expected: str
) -> None:
    assert expected in _top(assistant, query)


def test_results_are_ranked_and_top_k(assistant: Assistant) -> None:
    hits = assistant.retriever.scoped(SEED_ID, k=3).search("Rutte North Korea")
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_scope_is_a_filter(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    (fresh_settings.articles_dir / "bakery.txt").write_text(
        "Bakery opens\nA new bakery opened on Main Street. Its owner, Ana Ruiz, bakes rye bread.\n"
        "Ruiz said Orban once visited her shop.",
        encoding="utf-8",
    )
    a = Assistant.from_settings(fresh_settings)
    assert {h.passage.article_id for h in a.retriever.scoped("bakery").search("Orban")} == {
        "bakery"
    }
    everywhere = a.retriever.scoped(None).search("Orban Zelensky plan frightening")
    assert everywhere[0].passage.article_id == SEED_ID
    assert {h.passage.article_id for h in everywhere} == {SEED_ID, "bakery"}
    assert "rye bread" in a.ask("What does the bakery owner bake?").answer


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did he accuse China of?", True),
        ("And Orban?", True),
        ("Why?", True),
        ("What did Rutte accuse China of?", False),
        ("What did Orban say?", False),  # one content word, but a new subject
        ("How many troops is North Korea preparing?", False),
    ],
)
def test_is_follow_up(question: str, expected: bool) -> None:
    assert is_follow_up(question) is expected


def test_follow_up_uses_the_previous_question(assistant: Assistant) -> None:
    history = [
        Turn(role="user", content="Who is Mark Rutte?"),
        Turn(
            role="assistant", content="NATO Secretary-General Mark Rutte couldn’t confirm ... [1]"
        ),
    ]
    query = contextualize("What did he accuse China of?", history)
    assert "Rutte" in query
    assert "security spoilers" in _top(assistant, query)
    answer = assistant.ask("What did he accuse China of?", history=history, article=SEED_ID)
    assert "security spoilers" in answer.answer


def test_standalone_question_ignores_history() -> None:
    history = [Turn(role="user", content="Who is Mark Rutte?")]
    assert (
        contextualize("What did Orban say about the plan?", history)
        == "What did Orban say about the plan?"
    )
