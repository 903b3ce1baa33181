"""The one citation grammar: markers, answer sentences and citations, as the answerers
write them, verification reads them and the evaluation scores them."""

from __future__ import annotations

import pytest

from assistant.answering import extractive
from assistant.answering.names import question_names
from assistant.citations import (
    CitedSentence,
    cite,
    cited_sentences,
    marker_numbers,
    markers,
    split_sentences,
    starts_sentence,
    strip_markers,
    word_count,
)
from assistant.schemas import Passage, Sentence

BODY = "Kyiv waits. The slow pace of Western aid has frustrated Kyiv. Talks go on."


def _passage() -> Passage:
    # the article's second paragraph: offsets are into the body, not the passage
    offset = 100
    spans = [(0, 11), (12, 61), (62, 75)]
    return Passage(
        passage_id="a:1",
        article_id="a",
        article_title="Aid",
        index=1,
        start=offset,
        end=offset + len(BODY),
        text=BODY,
        sentences=[Sentence(start=offset + s, end=offset + e, text=BODY[s:e]) for s, e in spans],
    )


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Kyiv waits. Aid is slow. [1]", [("Kyiv waits.", (1,)), ("Aid is slow.", (1,))]),
        ("Kyiv waits [1]. Aid is slow [2].", [("Kyiv waits.", (1,)), ("Aid is slow.", (2,))]),
        ("Kyiv [1][2] and aid [3, 4].", [("Kyiv", (1, 2)), ("and aid.", (3, 4))]),
        ("A b. [1] C d. [2][3]", [("A b.", (1,)), ("C d.", (2, 3))]),
        ("A [1][1, 2]", [("A", (1, 2))]),
        ("J. Smith spoke. [2]", [("J. Smith spoke.", (2,))]),
        ("The U.S. acted. [1] Then more", [("The U.S. acted.", (1,)), ("Then more", ())]),
        ("“It is bad.” He said. [1]", [("“It is bad.”", (1,)), ("He said.", (1,))]),
        ("- first [1]\n- second [2]", [("first", (1,)), ("second", (2,))]),
        ("No markers at all.", [("No markers at all.", ())]),
    ],
)
def test_cited_sentences(answer: str, expected: list[tuple[str, tuple[int, ...]]]) -> None:
    assert cited_sentences(answer) == [CitedSentence(text, cites) for text, cites in expected]


@pytest.mark.parametrize(
    ("text", "numbers", "stripped", "words"),
    [
        ("A [1] b [2][3].", [1, 2, 3], "A b .", 3),
        ("A [1, 2] b [ 3 ]", [1, 2], "A b [ 3 ]", 5),
        ("No markers.", [], "No markers.", 2),
    ],
)
def test_markers(text: str, numbers: list[int], stripped: str, words: int) -> None:
    assert marker_numbers(text) == numbers
    assert " ".join(strip_markers(text).split()) == stripped
    assert word_count(text) == words


def test_markers_are_written_as_they_are_read() -> None:
    assert markers([1, 3]) == "[1][3]"
    assert cited_sentences(f"Aid is slow. {markers([1, 3])}") == [
        CitedSentence("Aid is slow.", (1, 3))
    ]


@pytest.mark.parametrize(
    ("text", "index", "expected"),
    [
        ("What did Orban say?", 0, True),
        ("It ended. Orban left", 10, True),
        ("It ended.” Orban left", 11, True),
        ("It ended Orban left", 9, False),
        ("The U.S. Senate", 9, False),  # after a lone capital: no sentence end
        ("first\nSecond", 6, True),
    ],
)
def test_starts_sentence(text: str, index: int, expected: bool) -> None:
    assert starts_sentence(text, index) is expected
    # where a sentence starts, split_sentences cuts, and nowhere else
    assert (text[index:] in split_sentences(text)) is expected or index == 0


def test_names_follow_the_same_sentences() -> None:
    """A capitalised word opening a sentence is no name; after "U.S." nothing opens one."""
    assert question_names("What did the U.S. Senate say? Orban left.") == ["U.S Senate"]
    assert question_names("Orban spoke. Who is Rutte") == ["Rutte"]


def test_a_citation_quotes_the_span_verbatim_with_body_offsets() -> None:
    passage = _passage()
    first, last = passage.sentences[1], passage.sentences[2]
    found = cite(2, passage, first.start, last.end, 0.71234, {"a": ("Aid, updated", "https://x")})
    assert found.quote == "The slow pace of Western aid has frustrated Kyiv. Talks go on."
    assert (found.start, found.end, found.n, found.score) == (112, 175, 2, 0.7123)
    assert (found.article_title, found.url, found.passage_id) == (
        "Aid, updated",
        "https://x",
        "a:1",
    )
    assert cite(1, passage, first.start, first.end, 0.5).article_title == "Aid"


def test_the_extractive_answer_is_written_in_the_grammar() -> None:
    passage = _passage()
    chosen = [
        extractive.Candidate(passage, j, passage.sentences[j], score, score, 0.0)
        for j, score in ((0, 0.4), (1, 0.9), (2, 0.5))
    ]
    text, citations = extractive.cite([chosen[0], chosen[2]], {})
    assert text == "Kyiv waits. [1] Talks go on. [2]"
    assert [c.quote for c in citations] == ["Kyiv waits.", "Talks go on."]
    assert [s.cites for s in cited_sentences(text)] == [(1,), (2,)]
    text, citations = extractive.cite(chosen[1:], {})  # neighbours: one quote, best score
    assert text == f"{BODY[12:]} [1]" and citations[0].score == 0.9
