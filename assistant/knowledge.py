"""The knowledge base: the articles folder, the store built from it, and what answering reads
(the catalog of articles and the lexical index), kept in step.

Answering reads a ``Snapshot``: the catalog, the lexical index and the retriever of one
moment, swapped in whole after every change. A question takes one snapshot and keeps it,
so an article removed meanwhile cannot vanish between checking the question and wording
the answer. Readers never take the write lock: a long ingestion (a large article being
embedded) holds up other writers, never a question.

The folder is the source of truth. When the app starts (``reconcile``) the index is
brought in line with it: an article file the index lacks (added while the app was down,
or saved by a process killed before it finished indexing) is indexed, and an indexed
article whose file is gone is removed, as ``assistant index`` does, except when the
folder holds no article at all: a wrong or unmounted folder must not empty the index.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant import ingestion
from assistant.articles import (
    SUFFIXES,
    article_files,
    check_size,
    load_articles,
    remove_partial_files,
    write_article,
)
from assistant.errors import ArticleError, UnknownArticleError
from assistant.lexical import LexicalIndex
from assistant.retrieval import HybridRetriever
from assistant.schemas import Article, ArticleInfo, Passage
from assistant.startup import in_background

if TYPE_CHECKING:
    from pathlib import Path

    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings
    from assistant.store import IndexReport, Store

logger = logging.getLogger(__name__)
#: what a start is doing while it builds the index (shown by the web app and the CLI;
#: ``onnx_embedder`` reports the model's export there too)
PROGRESS_LOG = "assistant.progress"


@dataclass(frozen=True)
class Snapshot:
    """What answering reads, taken whole: one question sees one version of the index."""

    store: Store
    catalog: Mapping[str, ArticleInfo]
    lexical: LexicalIndex
    retriever: HybridRetriever

    def articles(self) -> list[ArticleInfo]:
        """Indexed articles, by title."""
        return sorted(self.catalog.values(), key=lambda a: a.title.lower())

    def links(self, article_ids: set[str]) -> dict[str, tuple[str, str | None]]:
        """(title, url) of each of ``article_ids`` that is indexed, for citations."""
        return {
            a: (self.catalog[a].title, self.catalog[a].url) for a in article_ids & set(self.catalog)
        }


class KnowledgeBase:
    """The store, the catalog and the lexical index of the articles folder, and their writes."""

    def __init__(self, settings: Settings, embeddings: LocalEmbeddings, store: Store) -> None:
        self.settings = settings
        self.embeddings = embeddings
        self.store = store
        self._snapshot = self._snapshot_of(store, {}, LexicalIndex([]))
        #: one writer at a time (the web app may add and remove articles concurrently);
        #: readers never take it
        self._writing = threading.Lock()
        self._checked = time.monotonic()
        #: the store's write generation when it was last read in full (``refresh``)
        self._generation = ""

    @property
    def snapshot(self) -> Snapshot:
        """The catalog, lexical index and retriever answering uses now."""
        return self._snapshot

    @property
    def catalog(self) -> Mapping[str, ArticleInfo]:
        return self._snapshot.catalog

    @property
    def lexical(self) -> LexicalIndex:
        return self._snapshot.lexical

    @property
    def retriever(self) -> HybridRetriever:
        return self._snapshot.retriever

    def articles(self) -> list[ArticleInfo]:
        """Indexed articles, by title."""
        return self._snapshot.articles()

    def article_passages(self, article_id: str) -> list[Passage]:
        """One article's passages in reading order (for showing the article with highlights)."""
        snapshot = self._snapshot
        if article_id not in snapshot.catalog:
            raise UnknownArticleError(f"unknown article id {article_id!r}")
        return snapshot.lexical.scope(article_id)

    def prepare_archive(self) -> None:
        """Build the archive-wide lexical index now (``LexicalIndex.prepare_archive``)."""
        self._snapshot.lexical.prepare_archive()

    # -- keeping in step with the folder and the store ---------------------------------

    def index(
        self, rebuild: bool = False, progress: Callable[[str], None] | None = None
    ) -> IndexReport:
        """Bring the store in line with the articles folder, then reload what answers use.

        The store is read once (``Store.contents``): what says which articles changed is
        also what answering reads, unless a change was written (then it is read again).
        """
        with self._writing:
            loaded = load_articles(self.settings.articles_dir, self.settings.max_article_chars)
            # read first: a change made while the rest is read is then noticed next time
            generation = self.store.generation()
            catalog, passages = ({}, []) if rebuild else self.store.contents()
            report = self.store.sync(loaded.articles, loaded.errors, rebuild, progress, catalog)
            if rebuild or report.added or report.updated or report.removed:
                self.refresh()
            else:  # nothing written: the store is what was just read
                self._generation = generation
                self._load(catalog, passages)
            return report

    def reconcile(self) -> IndexReport | None:
        """At start: the index brought in line with the folder (see the module's docstring);
        ``None`` when the folder holds no article and the index was kept as it is."""
        folder = self.settings.articles_dir
        for path in remove_partial_files(folder):
            logger.info("removed %s, left by a process that stopped while saving it", path)
        if not _holds_articles(folder) and self.store.count():
            logger.warning("no articles in %s: answering from the index as it is", folder)
            with self._writing:
                self.refresh()
            return None
        # the sentence collections open on a thread while the folder and the passages
        # are read: a first answer needs them, and most of either wait is native code.
        # Only a warm-up: if it fails, the first read that needs them raises and says why
        with in_background(self.store.open_sentences):
            report = self.index(progress=logging.getLogger(PROGRESS_LOG).info)
        for error in report.errors:
            logger.warning("skipped: %s", error)
        return report

    def refresh(self) -> None:
        """Reload passages and the article list from the store (after it changed)."""
        # read first: a change made while the rest is read is then noticed next time
        self._generation = self.store.generation()
        self._load(*self.store.contents())

    def _load(self, catalog: Mapping[str, ArticleInfo], passages: list[Passage]) -> None:
        """Answer from ``catalog`` and ``passages``, the whole store as just read."""
        self.store.forget_cached_vectors()
        self._use(catalog, self._snapshot.lexical.rebuilt(passages))

    def refresh_if_changed(self) -> None:
        """Pick up what another process changed: with a Chroma server, its writes (see
        ``Settings.shared_refresh_s``); with the embedded store, a store rebuilt in its folder
        (by `assistant index` after the old one was deleted or damaged), opened anew.

        Never waits for a write of this process: while one runs, the check is left to the
        next question, which answers from the snapshot it has meanwhile.
        """
        if not self.settings.chroma_url:
            if self.store.file_state() == "replaced":
                self._reopen()
            return
        if time.monotonic() - self._checked < self.settings.shared_refresh_s:
            return
        self._checked = time.monotonic()
        # one small record read, not the whole catalog (which a large archive makes slow)
        generation = self.store.generation()
        if generation != self._generation and self._writing.acquire(blocking=False):
            try:
                if generation != self._generation:  # not refreshed by another question
                    self.refresh()
            finally:
                self._writing.release()

    def _reopen(self) -> None:
        from assistant.store import reopen_store

        if not self._writing.acquire(blocking=False):
            return  # a write is under way; the next question looks again
        try:
            if self.store.file_state() != "replaced":  # reopened by another question
                return
            logger.info("the store in %s was rebuilt; opening it", self.settings.chroma_dir)
            self.store = reopen_store(self.settings, self.embeddings)
            self.refresh()
        finally:
            self._writing.release()

    def _reload_article(self, article_id: str) -> None:
        """Reload one article after it was added, replaced or removed; a large archive's
        other articles are not read again."""
        own, passages = self.store.contents(article_id)  # one read of the article
        catalog = {k: v for k, v in self._snapshot.catalog.items() if k != article_id} | own
        self._use(catalog, self._snapshot.lexical.updated(article_id, passages))

    def _use(self, catalog: Mapping[str, ArticleInfo], lexical: LexicalIndex) -> None:
        # one assignment: a question holds the old snapshot or the new one, never a mix
        self._snapshot = self._snapshot_of(self.store, catalog, lexical)

    def _snapshot_of(
        self, store: Store, catalog: Mapping[str, ArticleInfo], lexical: LexicalIndex
    ) -> Snapshot:
        retriever = HybridRetriever(
            store=store, embeddings=self.embeddings, lexical=lexical, k=self.settings.top_k
        )
        return Snapshot(store, catalog, lexical, retriever)

    # -- writes -------------------------------------------------------------------------

    def add(self, article: Article) -> ArticleInfo:
        """Add or replace one article: saved in the articles folder and indexed at once.

        The article is embedded first, the slow part, without the write lock (other
        writes go on meanwhile). Then, under the lock, the file is saved (atomically) and
        the vectors written: a process killed in between leaves the file, which
        ``reconcile`` indexes at the next start.
        """
        # saved stripped, so indexed stripped: offsets must agree with what a re-read gives
        article = article.model_copy(
            update={"title": article.title.strip(), "body": article.body.strip()}
        )
        if not article.title or not article.body:
            raise ArticleError(f"article {article.id!r} needs a title and body text")
        check_size(article, self.settings.max_article_chars)
        embedded = ingestion.embed([article], self.embeddings)[0]
        with self._writing:
            # saved even when the store then fails: the next `assistant index` indexes it
            write_article(self.settings.articles_dir, article)
            store = self.store
            store.check_files()  # written into deleted files, it would be lost at the next start
            store.write(embedded)
            self._reload_article(article.id)
            return self._snapshot.catalog[article.id]

    def remove(self, article_id: str) -> None:
        """Remove one article from the articles folder and the index.

        The index first, then the file: a process killed in between leaves the file,
        which ``reconcile`` indexes again at the next start (the removal did not happen,
        and its caller got no answer saying it had).
        """
        with self._writing:
            if article_id not in self._snapshot.catalog:
                raise UnknownArticleError(f"unknown article id {article_id!r}")
            self.store.delete(article_id)
            for path in article_files(self.settings.articles_dir, article_id):
                path.unlink(missing_ok=True)
            self._reload_article(article_id)


def _holds_articles(folder: Path) -> bool:
    """Whether ``folder`` has any article file (readable or not)."""
    return folder.is_dir() and any(
        path.suffix in SUFFIXES and path.is_file() for path in folder.iterdir()
    )
