"""Verification of a model's draft against the passages it cites, on the seed article with
the real embedding model and the real store's sentence vectors."""

from __future__ import annotations

import pytest

from assistant.answering.verify import Verified, negated, verify
from assistant.chain import Assistant
from assistant.schemas import Passage
from tests.conftest import SEED_FILE, SEED_ID

BODY = SEED_FILE.read_text(encoding="utf-8").split("\n", 1)[1].strip()


@pytest.fixture(scope="module")
def passages(assistant: Assistant) -> list[Passage]:
    return assistant.article_passages(SEED_ID)


def number_of(passages: list[Passage], text: str) -> int:
    """The 1-based number of the passage holding ``text``."""
    return next(i for i, p in enumerate(passages, 1) if text in p.text)


def check(assistant: Assistant, passages: list[Passage], draft: str) -> Verified:
    from assistant.store import sentence_id

    stored = assistant.store.sentence_vectors(passages)
    vectors = {
        (p.passage_id, j): stored[sentence_id(p.passage_id, j)]
        for p in passages
        for j in range(len(p.sentences))
    }
    return verify(draft, passages, vectors, assistant.embeddings.encode)


ORBAN = "Orban called Zelensky’s plan “frightening”"
TROOPS = "readying 10,000 soldiers"
AID = "The slow pace of Western aid has frustrated Kyiv."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He has not sent troops.", True),
        ("They haven’t moved them.", True),
        ("He sent troops.", False),
    ],
)
def test_negated(text: str, expected: bool) -> None:
    assert negated(text) is expected


@pytest.mark.parametrize(
    ("claim", "source", "expected"),
    [
        # copied, reworded (quotes, leading word), or paraphrased: supported
        (
            'Hungarian Prime Minister Viktor Orban called Zelensky\'s plan "frightening" and '
            "urged talks with Russia to find a way out of the conflict.",
            ORBAN,
            True,
        ),
        ("Kyiv is frustrated by the slow pace of Western aid.", AID, True),
        ("North Korea is readying 10,000 soldiers, according to Zelensky.", TROOPS, True),
        # a number, a name, a negation, a clause or a topic the cited text lacks: not
        ("North Korea is readying 30,000 soldiers, according to Zelensky.", TROOPS, False),
        ("Emmanuel Macron called Zelensky's plan frightening.", ORBAN, False),
        ("The slow pace of Western aid has not frustrated Kyiv.", AID, False),
        (
            "The slow pace of Western aid has frustrated Kyiv, a decision analysts described "
            "as a turning point for the region.",
            AID,
            False,
        ),
        ("Officials added that deliveries were delayed by severe flooding.", AID, False),
        # true elsewhere in the article, but not in what it cites
        ("The slow pace of Western aid has frustrated Kyiv.", ORBAN, False),
    ],
)
def test_each_sentence_is_checked_against_what_it_cites(
    assistant: Assistant, passages: list[Passage], claim: str, source: str, expected: bool
) -> None:
    n = number_of(passages, source)
    result = check(assistant, passages, f"{claim} [{n}]")

    assert [c.supported for c in result.checks] == [expected]
    if expected:
        assert result.removed == [] and result.citations
        assert result.text.endswith("[1]")
    else:
        assert result.removed == [claim] and not result.citations and result.text == ""


def test_citations_quote_the_best_supporting_sentence_with_exact_offsets(
    assistant: Assistant, passages: list[Passage]
) -> None:
    n = number_of(passages, TROOPS)
    draft = (
        f"Zelensky said North Korea is readying 10,000 soldiers [{n}]. "
        f"Olaf Scholz confirmed this in Stockholm on Tuesday. [{n}] "
        f"Kyiv is frustrated by the slow pace of Western aid. [{number_of(passages, AID)}]"
    )
    result = check(assistant, passages, draft)

    assert result.removed == ["Olaf Scholz confirmed this in Stockholm on Tuesday."]
    assert result.supported_sentence_rate == pytest.approx(2 / 3, abs=1e-3)
    assert [c.n for c in result.citations] == [1, 2]
    assert TROOPS in result.citations[0].quote and result.citations[1].quote == AID
    for c in result.citations:
        assert BODY[c.start : c.end] == c.quote
    assert result.text == (
        "Zelensky said North Korea is readying 10,000 soldiers. [1] "
        "Kyiv is frustrated by the slow pace of Western aid. [2]"
    )


def test_markers_to_no_passage_are_dropped_and_uncited_claims_find_their_source(
    assistant: Assistant, passages: list[Passage]
) -> None:
    draft = f"Kyiv is frustrated by the slow pace of Western aid. [{len(passages) + 5}]"
    result = check(assistant, passages, draft)

    assert result.dropped_markers == (len(passages) + 5,)
    assert [c.quote for c in result.citations] == [AID]
    assert result.checks[0].cites == (number_of(passages, AID),)

    unsupported = check(assistant, passages, "The article praises the weather in Oslo.")
    assert unsupported.removed == ["The article praises the weather in Oslo."]
    assert unsupported.citations == ()


def test_a_draft_without_content_checks_nothing(
    assistant: Assistant, passages: list[Passage]
) -> None:
    result = check(assistant, passages, " . [1]")
    assert result.checks == () and result.supported_sentence_rate is None
