"""Split an article body into passages (paragraphs) and sentences, keeping character offsets.

Every offset is into ``Article.body`` so a quote can be found and highlighted in the
original text: ``body[s.start:s.end] == s.text`` for every passage and sentence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.schemas import Article, Passage, Sentence

if TYPE_CHECKING:
    import pysbd

#: a paragraph longer than this is cut into windows of whole sentences, so one passage
#: stays a focused unit for the embedding model (which reads about 256 word pieces)
MAX_PASSAGE_CHARS = 1200

#: pysbd's cost grows faster than the text it is given (a 200 KB paragraph took 21 s), so
#: a paragraph longer than this is split a window of this many characters at a time (see
#: ``sentence_spans``): the cost then grows with the text. News paragraphs are far shorter.
MAX_SPLIT_CHARS = 2000

_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SPACE = re.compile(r"\s+")
#: a letter or a digit in any script: what a piece of text needs to be a sentence
_WORDLIKE = re.compile(r"[^\W_]")


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    import pysbd

    # clean=False keeps the text as it is, so segments can be located in the body
    return pysbd.Segmenter(language="en", clean=False, char_span=False)


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or a digit (in any script): what a sentence needs."""
    return _WORDLIKE.search(text) is not None


#: how a sentence ends; a line that ends otherwise and stands alone is a heading
_SENTENCE_END = re.compile(r"[.!?:;…\"'”’)\]]$")
#: the most words a heading has ("What happens next", "## Heat and early start")
HEADING_WORDS = 12


def is_heading(passage: Passage) -> bool:
    """Whether a paragraph is a heading: one short line that does not end as a sentence
    does (Markdown's ``##`` and ``**`` marks aside), and is no list item. It names what
    follows; it is never itself the answer."""
    raw = passage.text.strip()
    if len(passage.sentences) != 1 or raw.startswith(("- ", "* ", "+ ", "•")):
        return False
    line = raw.strip("#*_ ")
    return len(line.split()) <= HEADING_WORDS and not _SENTENCE_END.search(line)


def paragraph_spans(body: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each paragraph, whitespace trimmed.

    Paragraphs are separated by blank lines when the text has any (Markdown, wrapped
    text); otherwise each line is a paragraph (the one-paragraph-per-line .txt style).
    """
    separator = _BLANK_LINE if _BLANK_LINE.search(body) else re.compile(r"\n")
    cursor = 0
    for match in [*separator.finditer(body), None]:
        end = match.start() if match else len(body)
        yield from _trimmed(body, cursor, end)
        if match:
            cursor = match.end()


def _trimmed(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    chunk = text[start:end]
    stripped = chunk.strip()
    if stripped:
        lead = len(chunk) - len(chunk.lstrip())
        yield start + lead, start + lead + len(stripped)


def sentence_spans(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence of ``body[start:end]``, found by pysbd.

    A paragraph longer than ``MAX_SPLIT_CHARS`` is read a window at a time: pysbd splits
    the window, every sentence but its last (which may run on past the window) is kept,
    and the next window starts where that last one does. Each character is read about
    once, and the boundaries are pysbd's own (an abbreviation is no sentence end).
    """
    spans: list[tuple[int, int]] = []
    while end - start > MAX_SPLIT_CHARS:
        bound = start + MAX_SPLIT_CHARS
        found = _piece_sentences(body, start, bound)
        if len(found) > 1:
            spans += found[:-1]
            start = found[-1][0]
        else:  # one sentence longer than the window: cut at its last space, else anywhere
            spaces = [m.start() for m in _SPACE.finditer(body, start, bound) if m.start() > start]
            cut = spaces[-1] if spaces else bound
            spans += _trimmed(body, start, cut)
            start = cut
    return spans + _piece_sentences(body, start, end)


def _piece_sentences(body: str, start: int, end: int) -> list[tuple[int, int]]:
    """The sentences pysbd finds in ``body[start:end]`` (the whole of it if none)."""
    spans: list[tuple[int, int]] = []
    cursor = start
    for segment in _segmenter().segment(body[start:end]):
        piece = segment.strip()
        if not piece:
            continue
        # pysbd's own char_span mislocates repeated sentences; searching forward from
        # the previous end cannot
        found = body.find(piece, cursor, end)
        if found < 0:  # pysbd never rewrites text with clean=False; this is a safety net
            continue
        if spans and not has_words(piece):
            # no letter or digit: the "**" that closes a bold heading pysbd cut after its
            # question mark, or a lone closing quote, ends the sentence before it
            spans[-1] = (spans[-1][0], found + len(piece))
        else:
            spans.append((found, found + len(piece)))
        cursor = found + len(piece)
    return spans or list(_trimmed(body, start, end))


def _windows(spans: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    window: list[tuple[int, int]] = []
    for span in spans:
        if window and span[1] - window[0][0] > MAX_PASSAGE_CHARS:
            yield window
            window = []
        window.append(span)
    if window:
        yield window


def split_article(article: Article) -> list[Passage]:
    """The article's passages, each with its sentences, in reading order."""
    body = article.body
    passages: list[Passage] = []
    for para_start, para_end in paragraph_spans(body):
        for window in _windows(sentence_spans(body, para_start, para_end)):
            start, end = window[0][0], window[-1][1]
            index = len(passages)
            passages.append(
                Passage(
                    passage_id=f"{article.id}:{index}",
                    article_id=article.id,
                    article_title=article.title,
                    index=index,
                    start=start,
                    end=end,
                    text=body[start:end],
                    sentences=[Sentence(start=s, end=e, text=body[s:e]) for s, e in window],
                )
            )
    return passages
