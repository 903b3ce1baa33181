"""Passages and sentences keep exact offsets into the article body."""

from __future__ import annotations

import pytest

from assistant.articles import read_article
from assistant.chunking import MAX_PASSAGE_CHARS, paragraph_spans, split_article
from assistant.schemas import Article
from tests.conftest import SEED_FILE


def _article(body: str) -> Article:
    return Article(id="a", title="T", body=body)


def test_seed_offsets_are_exact() -> None:
    article = read_article(SEED_FILE)
    passages = split_article(article)
    assert len(passages) == 13  # one passage per paragraph line
    for p in passages:
        assert article.body[p.start : p.end] == p.text
        for s in p.sentences:
            assert article.body[s.start : s.end] == s.text
            assert p.start <= s.start < s.end <= p.end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. has sanctioned Chinese companies. Russia objected.",
            ["The U.S. has sanctioned Chinese companies.", "Russia objected."],
        ),
        (
            "A senior NATO official said, “We should expect a hard winter for Ukraine.” "
            "The official added more.",
            [
                "A senior NATO official said, “We should expect a hard winter for Ukraine.”",
                "The official added more.",
            ],
        ),
        (
            "Dr. Smith arrived at 5 p.m. on Jan. 5. He left.",
            ["Dr. Smith arrived at 5 p.m. on Jan. 5.", "He left."],
        ),
        ("No full stop at the end", ["No full stop at the end"]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    (passage,) = split_article(_article(text))
    assert [s.text for s in passage.sentences] == expected


def test_blank_lines_separate_paragraphs_when_present() -> None:
    body = "First paragraph\nwrapped here.\n\n  Second one.  \n\n\nThird."
    assert [body[s:e] for s, e in paragraph_spans(body)] == [
        "First paragraph\nwrapped here.",
        "Second one.",
        "Third.",
    ]


def test_repeated_sentences_get_their_own_offsets() -> None:
    body = "It rained. It rained. It rained."
    (passage,) = split_article(_article(body))
    assert [s.start for s in passage.sentences] == [0, 11, 22]


def test_long_paragraph_is_cut_at_sentence_boundaries() -> None:
    body = " ".join(
        f"Sentence number {i} says something about the topic at hand." for i in range(80)
    )
    passages = split_article(_article(body))
    assert len(passages) > 1
    for p in passages:
        assert len(p.text) <= MAX_PASSAGE_CHARS
        assert body[p.start : p.end] == p.text
    assert [s.text for p in passages for s in p.sentences][-1].startswith("Sentence number 79")
