"""Passages and sentences keep exact offsets into the article body."""

from __future__ import annotations

import time

import pytest

from assistant.articles import read_article
from assistant.chunking import (
    MAX_PASSAGE_CHARS,
    MAX_SPLIT_CHARS,
    _segmenter,
    paragraph_spans,
    sentence_spans,
    split_article,
)
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
        # markup pysbd cuts off is part of the sentence it closes
        ("**I own one. What now?**", ["**I own one.", "What now?**"]),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    (passage,) = split_article(_article(text))
    assert [s.text for s in passage.sentences] == expected


def test_a_bold_heading_is_one_sentence_of_its_paragraph() -> None:
    body = "Intro.\n\n**What happened?**\nIt rained all day.\n\n***"
    texts = [[s.text for s in p.sentences] for p in split_article(_article(body))]
    assert texts[1] == ["**What happened?**", "It rained all day."]
    for passage in split_article(_article(body)):
        for s in passage.sentences:
            assert body[s.start : s.end] == s.text


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


# -- long paragraphs: the cost of splitting grows with the text ----------------------------


def one_line(chars: int) -> str:
    """A body of one paragraph, no line break: distinct sentences, abbreviations included."""
    sentences = (
        f"Council item {i} cost ${i * 37:,} and Mr. Okafor said the U.S. grant covers it."
        for i in range(chars // 70 + 1)
    )
    return " ".join(sentences)[:chars].rstrip()


def test_a_long_one_line_article_is_split_in_linear_time() -> None:
    """400 KB without a line break: pysbd alone took minutes on this (21 s for 200 KB, its
    cost growing about fourfold each time the size doubles); a window at a time, seconds."""
    body = one_line(400_000)
    started = time.perf_counter()
    passages = split_article(_article(body))
    elapsed = time.perf_counter() - started

    assert elapsed < 40, f"{elapsed:.1f} s"  # about 6 s on a loaded 2-core machine
    sentences = [s for p in passages for s in p.sentences]
    for p in passages:
        assert body[p.start : p.end] == p.text and len(p.text) <= MAX_PASSAGE_CHARS
        for s in p.sentences:
            assert body[s.start : s.end] == s.text
    # pysbd's boundaries, not the windows': every sentence whole ("Mr." ends none of them)
    assert [s.text for s in sentences[:-1]] == body.split(" Council")[0:1] + [
        "Council" + rest for rest in body.split(" Council")[1:-1]
    ]


def test_a_sentence_longer_than_the_window_is_cut_at_a_space() -> None:
    body = "word " * 1000 + "x" * 5000
    passages = split_article(_article(body.strip()))
    sentences = [s for p in passages for s in p.sentences]
    assert all(len(s.text) <= MAX_SPLIT_CHARS for s in sentences)
    # nothing lost: between the sentences, only the spaces they were cut at
    ends = [0] + [s.end for s in sentences]
    starts = [s.start for s in sentences] + [len(body.strip())]
    assert all(not body[a:b].strip() for a, b in zip(ends, starts, strict=True))


def test_paragraphs_within_the_window_are_split_whole() -> None:
    """News paragraphs (the fixtures' longest is under 500 characters) are never cut, so
    their sentences are what pysbd finds in the whole paragraph."""
    text = one_line(MAX_SPLIT_CHARS)
    whole = [s.strip() for s in _segmenter().segment(text)]
    assert [text[s:e] for s, e in sentence_spans(text, 0, len(text))] == whole
