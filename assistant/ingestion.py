"""Ingestion: articles into the store, article → passages and sentences → vectors → writes.

``sync_articles`` makes the store hold exactly a set of articles: an article is re-embedded only
when its content hash differs from the indexed one, several changed articles are
embedded in one call, and articles gone from the folder are removed (those that merely
failed to load keep their indexed version). ``embed`` does the middle steps for any
articles; the store (``store.py``) owns how the result is written to Chroma.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from assistant.chunking import split_article
from assistant.errors import ArticleError
from assistant.schemas import Article, Passage, Sentence

#: articles embedded together by ``sync_articles`` (a few hundred texts per encode() call)
EMBED_GROUP = 32


@dataclass(frozen=True)
class EmbeddedArticle:
    """One article's passages and sentences with their vectors, ready to write."""

    article: Article
    passages: list[Passage]
    #: (passage, index of the sentence in it, sentence), in reading order
    sentences: list[tuple[Passage, int, Sentence]]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    #: each sentence embedded after the sentence before it in its passage (the first of a
    #: passage alone): "It includes £4.2 million for flood defences" then carries what "it"
    #: is, and a question about the capital programme finds it (``in_context``)
    context_vectors: np.ndarray


@dataclass
class IndexReport:
    """What ``sync_articles`` did, article ids by outcome."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)


class Encoder(Protocol):
    """What ingestion needs of the embedding model (``LocalEmbeddings``)."""

    def encode(self, texts: list[str]) -> np.ndarray: ...


class Indexed(Protocol):
    """What ingestion needs to know of an indexed article (``ArticleInfo``)."""

    @property
    def content_hash(self) -> str: ...


class Target(Protocol):
    """Where ingestion writes (``Store``)."""

    def catalog(self, article_id: str | None = None) -> Mapping[str, Indexed]: ...

    def write(self, embedded: EmbeddedArticle) -> int: ...

    def delete(self, article_id: str) -> None: ...

    def clear(self) -> None: ...


def embed(articles: Sequence[Article], encoder: Encoder) -> list[EmbeddedArticle]:
    """Passages and sentences of ``articles`` with their vectors, in one encode() call.

    A text is embedded once however often it occurs: a one-sentence paragraph is both
    a passage and a sentence, and gets one vector.
    """
    split = [split_article(article) for article in articles]
    unique: dict[str, int] = {}
    for passages in split:
        for p in passages:
            unique.setdefault(p.text, len(unique))
            for j, s in enumerate(p.sentences):
                unique.setdefault(s.text, len(unique))
                unique.setdefault(in_context(p, j), len(unique))
    vectors = encoder.encode(list(unique))
    result = []
    for article, passages in zip(articles, split, strict=True):
        sentences = [(p, j, s) for p in passages for j, s in enumerate(p.sentences)]
        result.append(
            EmbeddedArticle(
                article,
                passages,
                sentences,
                vectors[[unique[p.text] for p in passages]],
                vectors[[unique[s.text] for _, _, s in sentences]],
                vectors[[unique[in_context(p, j)] for p, j, _ in sentences]],
            )
        )
    return result


def in_context(passage: Passage, j: int) -> str:
    """The text embedded for sentence ``j`` of ``passage`` in context: the sentence before it
    in the passage, then the sentence (the first sentence of a passage stands alone)."""
    sentences = passage.sentences
    if j == 0:
        return sentences[0].text
    return f"{sentences[j - 1].text} {sentences[j].text}"


def sync_articles(
    target: Target,
    encoder: Encoder,
    articles: Sequence[Article],
    errors: Sequence[ArticleError] = (),
    rebuild: bool = False,
    progress: Callable[[str], None] | None = None,
    known: Mapping[str, Indexed] | None = None,
) -> IndexReport:
    """Make ``target`` hold exactly ``articles``; re-embed only the changed ones.

    ``known`` is the target's catalog when the caller has just read it (a start reads
    the whole store once, ``Store.contents``); without it, it is read here.

    ``progress`` is given one line per step ("embedding articles 1-21 of 21 ...", then
    "indexed article 3 of 21: <id>"); nothing when no article changed.

    Articles that failed to load (``errors``) keep whatever the store already has,
    so a file that became unreadable never loses its indexed version.
    """
    report = IndexReport(errors=list(errors))
    known = {} if rebuild else dict(target.catalog() if known is None else known)
    if rebuild:
        target.clear()
    changed = []
    for article in articles:
        previous = known.get(article.id)
        if previous and previous.content_hash == article.content_hash:
            report.unchanged.append(article.id)
        else:
            changed.append(article)
    # several articles per encode() call: the model sorts a call's texts by length and
    # batches them, so bigger calls waste less on padding and per-call overhead
    done = 0
    for start in range(0, len(changed), EMBED_GROUP):
        group = changed[start : start + EMBED_GROUP]
        if progress:
            progress(_embedding_line(start, len(group), len(changed)))
        for embedded in embed(group, encoder):
            article_id = embedded.article.id
            target.write(embedded)
            (report.updated if article_id in known else report.added).append(article_id)
            done += 1
            if progress:
                progress(f"indexed article {done} of {len(changed)}: {article_id}")
    # ids are file stems unless front matter says otherwise; a failed file's stem is
    # the best guess at which indexed article it was
    unreadable = {Path(e.path).stem for e in errors if e.path}
    present = {a.id for a in articles}
    for article_id in sorted(set(known) - present):
        if article_id in unreadable:
            continue  # unreadable now, but not removed: keep what is indexed
        target.delete(article_id)
        report.removed.append(article_id)
    return report


def _embedding_line(start: int, size: int, total: int) -> str:
    """The progress line before a group of changed articles is embedded."""
    which = f"article {start + 1}" if size == 1 else f"articles {start + 1}-{start + size}"
    return f"embedding {which} of {total} (passages and sentences) ..."
