"""The Chroma store: passages and sentences with their embeddings, updated incrementally.

Two collections, both cosine:

- ``passages``: one record per passage (id ``ARTICLE:INDEX``); its metadata carries the
  article's id, title, url, published date and content hash, the passage's offsets, and
  the offsets of its sentences, so answers never need the article file.
- ``sentences``: one record per sentence (id ``ARTICLE:INDEX:J``), whose vectors let the
  answerer pick the sentence that answers without embedding anything at question time.

An article is re-embedded only when its content hash changes; its records are upserted
first and its stale ones deleted after, so an interrupted run never loses the old version.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlparse

import numpy as np

from assistant.chunking import split_article
from assistant.errors import ArticleError, StoreError
from assistant.schemas import Article, Passage, Sentence

if TYPE_CHECKING:
    from langchain_chroma import Chroma

    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings

PASSAGES = "passages"
SENTENCES = "sentences"
#: a one-record collection whose value changes on every write, so that processes sharing
#: a Chroma server notice each other's changes without reading the whole catalog
STATE = "state"
GENERATION_ID = "generation"
#: records read from Chroma per call when listing a whole collection
GET_PAGE = 10_000
#: the embedded store's database, inside ASSISTANT_CHROMA_DIR (chromadb's file name)
DATABASE_FILE = "chroma.sqlite3"
#: vectors kept in memory for questions (about 1.5 KB each); past this the cache restarts
MAX_CACHED_VECTORS = 200_000
#: the embedded store's database file since it was opened (``Store.file_state``)
FileState = Literal["same", "replaced", "gone"]
_COSINE = {"hnsw": {"space": "cosine"}}
_T = TypeVar("_T")
#: articles embedded together by ``Store.sync`` (a few hundred texts per encode() call)
EMBED_GROUP = 32
#: seconds a Chroma server may take to answer one request: chromadb's HTTP client waits
#: forever by default, so a server that hangs (stopped, cut off) would hang every question
#: and, once the thread pool is full, the whole app with it
CHROMA_SERVER_TIMEOUT_S = 15.0
#: what SQLite says about a file that is not (or no longer) a database it can read
_DAMAGED = ("file is not a database", "database disk image is malformed")

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArticleInfo:
    """What the store knows of one indexed article."""

    id: str
    title: str
    url: str | None
    published: str | None
    content_hash: str
    passages: int


@dataclass(frozen=True)
class _Embedded:
    """One article's passages and sentences with their vectors, ready to write."""

    passages: list[Passage]
    sentences: list[tuple[Passage, int, Sentence]]
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray


@dataclass
class IndexReport:
    """What ``Store.sync`` did."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[ArticleError] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@contextmanager
def _store_errors(what: str) -> Iterator[None]:
    # Chroma raises many types (connection errors, its own, ValueError); callers need one
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # noqa: BLE001 - translated into the one type callers handle
        message = f"the vector store failed while {what}: {exc}".splitlines()[0]
        if _damaged(exc):
            message += "; restart the app or run `assistant index` to rebuild the store"
        raise StoreError(message) from exc


def _damaged(exc: BaseException) -> bool:
    """Whether ``exc`` says the embedded store's database file is damaged."""
    return any(sign in str(exc) for sign in _DAMAGED)


def _client(settings: Settings) -> Any:
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise StoreError(
                f"ASSISTANT_CHROMA_URL={settings.chroma_url!r} is not http://host:port"
            )
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=chroma_settings,
        )
        # chromadb has no setting for it: its httpx session is built with timeout=None
        session = getattr(getattr(client, "_server", None), "_session", None)
        if session is not None:
            session.timeout = httpx.Timeout(CHROMA_SERVER_TIMEOUT_S, connect=5.0)
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of ``path``, ``None`` when it is not there."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


class Store:
    """Passages and sentences of every indexed article, in Chroma."""

    def __init__(
        self,
        passages: Chroma,
        sentences: Chroma,
        embeddings: LocalEmbeddings,
        state: Any = None,
        database: Path | None = None,
    ) -> None:
        self._passages = passages
        self._sentences = sentences
        self._embeddings = embeddings
        #: the raw Chroma collection holding the write generation (``None``: not tracked)
        self._state = state
        #: the embedded store's database file and its identity when opened (``None``: server)
        self._database = database
        self._identity = None if database is None else _file_identity(database)
        self._sentence_vectors: dict[str, np.ndarray] = {}
        self._passage_vectors: dict[str, np.ndarray] = {}

    @property
    def vectorstore(self) -> Chroma:
        """The LangChain vector store of passages."""
        return self._passages

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        with _store_errors(what):
            return action()

    # -- reading -------------------------------------------------------------------------

    def count(self) -> int:
        return self._call("counting passages", lambda: self._passages._collection.count())

    def generation(self) -> str:
        """A token that changes whenever any process writes to the store ("" if never)."""
        if self._state is None:
            return ""
        found = self._call(
            "reading the store's generation",
            lambda: self._state.get(ids=[GENERATION_ID], include=["metadatas"]),
        )
        metadatas = found.get("metadatas") or [{}]
        return str((metadatas[0] or {}).get("value", ""))

    def file_state(self) -> FileState:
        """The embedded store's database file since it was opened: "same", "replaced" (a
        new file at its path, e.g. rebuilt by `assistant index`) or "gone" (deleted; what
        is open still answers, but nothing written is kept). "same" for a Chroma server."""
        if self._database is None:
            return "same"
        identity = _file_identity(self._database)
        if identity is None:
            return "gone"
        return "same" if identity == self._identity else "replaced"

    def check_files(self) -> None:
        """Raise ``StoreError`` when the embedded store's files were deleted under it."""
        if self._database is not None and self.file_state() == "gone":
            raise StoreError(
                f"the vector store's files in {self._database.parent} were deleted while the "
                "app was running; run `assistant index` to rebuild the store"
            )

    def forget_cached_vectors(self) -> None:
        """Drop the vectors kept for questions (after a write: a replaced article keeps its
        passage and sentence ids; with a shared server, after another process wrote)."""
        self._sentence_vectors.clear()
        self._passage_vectors.clear()

    def _bump(self) -> None:
        if self._state is not None:
            # one-dimensional: the record is looked up by id, never by similarity
            self._state.upsert(
                ids=[GENERATION_ID], embeddings=[[1.0]], metadatas=[{"value": uuid.uuid4().hex}]
            )

    def catalog(self, article_id: str | None = None) -> dict[str, ArticleInfo]:
        """Every indexed article by id, or only ``article_id`` (empty when it is not indexed)."""
        where: Any = {"article_id": article_id} if article_id else None
        records = self._call(
            "listing articles", lambda: get_all(self._passages._collection, where, ["metadatas"])
        )
        found: dict[str, ArticleInfo] = {}
        counts: dict[str, int] = {}
        for meta in records["metadatas"]:
            article_id = str(meta["article_id"])
            counts[article_id] = counts.get(article_id, 0) + 1
            if article_id not in found or meta.get("index") == 0:
                found[article_id] = ArticleInfo(
                    id=article_id,
                    title=str(meta.get("article_title", "")),
                    url=str(meta["url"]) if meta.get("url") else None,
                    published=str(meta["published"]) if meta.get("published") else None,
                    content_hash=str(meta.get("content_hash", "")),
                    passages=int(meta.get("n_passages", 0)),
                )
        # an article whose records are incomplete (an interrupted run) must look changed
        return {
            key: info if counts[key] == info.passages else _stale(info)
            for key, info in found.items()
        }

    def passages(self, article_id: str | None = None) -> list[Passage]:
        """Indexed passages, all or one article's, in reading order."""
        where: Any = {"article_id": article_id} if article_id else None
        records = self._call(
            "reading passages",
            lambda: get_all(self._passages._collection, where, ["documents", "metadatas"]),
        )
        result = [
            _passage(text, meta)
            for text, meta in zip(records["documents"], records["metadatas"], strict=True)
        ]
        return sorted(result, key=lambda p: (p.article_id, p.index))

    def dense_search(
        self, vector: np.ndarray, k: int, article_id: str | None = None
    ) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) of the ``k`` nearest passages."""
        where: Any = {"article_id": article_id} if article_id else None
        found: Any = self._call(
            "searching passages",
            lambda: self._passages._collection.query(
                query_embeddings=[vector.tolist()],
                n_results=k,
                where=where,
                include=["distances"],
            ),
        )
        return [
            (pid, 1.0 - float(dist))
            for pid, dist in zip(found["ids"][0], found["distances"][0], strict=True)
        ]

    def passage_vectors(self, passage_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given passages (cached after first read)."""
        return self._vectors("passage", self._passages, self._passage_vectors, passage_ids)

    def sentence_vectors(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Vectors of the sentences of ``passages``, by sentence id (cached after first read)."""
        wanted = [sentence_id(p.passage_id, j) for p in passages for j in range(len(p.sentences))]
        return self._vectors("sentence", self._sentences, self._sentence_vectors, wanted)

    def _vectors(
        self, kind: str, store: Chroma, cache: dict[str, np.ndarray], ids: Sequence[str]
    ) -> dict[str, np.ndarray]:
        """The stored vectors of ``ids``, read from ``store`` once and kept in ``cache``."""
        missing = [i for i in ids if i not in cache]
        if missing:
            records: Any = self._call(
                f"reading {kind} vectors",
                lambda: store._collection.get(ids=missing, include=["embeddings"]),
            )
            if len(cache) > MAX_CACHED_VECTORS:
                cache.clear()
            for i, vec in zip(records["ids"], records["embeddings"], strict=True):
                cache[i] = np.asarray(vec, dtype=np.float32)
        # .get, not "in" then [...]: another thread may clear the cache in between
        found = {i: cache.get(i) for i in ids}
        return {i: vec for i, vec in found.items() if vec is not None}

    # -- writing -------------------------------------------------------------------------

    def sync(
        self,
        articles: Sequence[Article],
        errors: Sequence[ArticleError] = (),
        rebuild: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> IndexReport:
        """Make the store hold exactly ``articles``; re-embed only the changed ones.

        Articles that failed to load (``errors``) keep whatever the store already has,
        so a file that became unreadable never loses its indexed version.
        """
        report = IndexReport(errors=list(errors))
        known = {} if rebuild else self.catalog()
        if rebuild:
            self._call("clearing the store", self._clear)
        # ids are file stems unless front matter says otherwise; a failed file's stem is
        # the best guess at which indexed article it was
        unreadable = {Path(e.path).stem for e in errors if e.path}
        changed = []
        for article in articles:
            previous = known.get(article.id)
            if previous and previous.content_hash == article.content_hash:
                report.unchanged.append(article.id)
            else:
                changed.append(article)
        # several articles per encode() call: the model sorts a call's texts by length and
        # batches them, so bigger calls waste less on padding and per-call overhead
        for start in range(0, len(changed), EMBED_GROUP):
            group = changed[start : start + EMBED_GROUP]
            for article, embedded in zip(group, self._embed(group), strict=True):
                if progress:
                    progress(article.id)
                self._write(article, embedded)
                (report.updated if article.id in known else report.added).append(article.id)
        present = {a.id for a in articles}
        for article_id in sorted(set(known) - present):
            if article_id in unreadable:
                continue  # unreadable now, but not removed: keep what is indexed
            self.delete(article_id)
            report.removed.append(article_id)
        return report

    def put(self, article: Article) -> int:
        """Add or replace one article; returns its passage count."""
        self.check_files()  # written into deleted files, it would be lost at the next start
        return self._write(article, self._embed([article])[0])

    def _embed(self, articles: Sequence[Article]) -> list[_Embedded]:
        """Passages and sentences of ``articles`` with their vectors, in one encode() call.

        A text is embedded once however often it occurs: a one-sentence paragraph is both
        a passage and a sentence, and gets one vector.
        """
        split = [split_article(article) for article in articles]
        unique: dict[str, int] = {}
        for passages in split:
            for p in passages:
                unique.setdefault(p.text, len(unique))
                for s in p.sentences:
                    unique.setdefault(s.text, len(unique))
        vectors = self._embeddings.encode(list(unique))
        result = []
        for passages in split:
            sentences = [(p, j, s) for p in passages for j, s in enumerate(p.sentences)]
            result.append(
                _Embedded(
                    passages,
                    sentences,
                    vectors[[unique[p.text] for p in passages]],
                    vectors[[unique[s.text] for _, _, s in sentences]],
                )
            )
        return result

    def _write(self, article: Article, embedded: _Embedded) -> int:
        passages, sentences = embedded.passages, embedded.sentences
        passage_vectors, sentence_vectors = embedded.passage_vectors, embedded.sentence_vectors
        meta: dict[str, Any] = {
            "article_title": article.title,
            "url": article.url or "",
            "published": article.published or "",
            "content_hash": article.content_hash,
            "n_passages": len(passages),
        }

        def write() -> None:
            if sentences:
                self._sentences._collection.upsert(
                    ids=[sentence_id(p.passage_id, j) for p, j, _ in sentences],
                    embeddings=sentence_vectors.tolist(),
                    documents=[s.text for _, _, s in sentences],
                    metadatas=[
                        {
                            "article_id": article.id,
                            "passage_id": p.passage_id,
                            "start": s.start,
                        }
                        for p, _, s in sentences
                    ],
                )
            self._passages._collection.upsert(
                ids=[p.passage_id for p in passages],
                embeddings=passage_vectors.tolist(),
                documents=[p.text for p in passages],
                metadatas=[{**meta, **_passage_meta(p)} for p in passages],
            )
            self._drop_stale(
                article.id,
                {p.passage_id for p in passages},
                {sentence_id(p.passage_id, j) for p, j, _ in sentences},
            )

        self._call(f"indexing {article.id}", write)
        self.forget_cached_vectors()
        self._call("recording the change", self._bump)
        return len(passages)

    def delete(self, article_id: str) -> None:
        """Remove one article's passages and sentences."""
        self.check_files()
        self._call(f"removing {article_id}", lambda: self._drop_stale(article_id, set(), set()))
        self.forget_cached_vectors()
        self._call("recording the change", self._bump)

    def _drop_stale(
        self, article_id: str, keep_passages: set[str], keep_sentences: set[str]
    ) -> None:
        for collection, keep in (
            (self._passages._collection, keep_passages),
            (self._sentences._collection, keep_sentences),
        ):
            ids = collection.get(where={"article_id": article_id}, include=[])["ids"]
            stale = [i for i in ids if i not in keep]
            if stale:
                collection.delete(ids=stale)

    def _clear(self) -> None:
        for store in (self._passages, self._sentences):
            store.reset_collection()
        self.forget_cached_vectors()
        self._bump()


def get_all(collection: Any, where: Any, include: list[str]) -> dict[str, list[Any]]:
    """``collection.get`` of every matching record, a page at a time: one get of more
    than about 32,000 records fails in SQLite ("too many SQL variables")."""
    found: dict[str, list[Any]] = {"ids": [], **{key: [] for key in include}}
    while True:
        page = collection.get(
            where=where, include=include, limit=GET_PAGE, offset=len(found["ids"])
        )
        for key in found:
            found[key].extend(page[key])
        if len(page["ids"]) < GET_PAGE:
            return found


def sentence_id(passage_id: str, j: int) -> str:
    return f"{passage_id}:{j}"


def _stale(info: ArticleInfo) -> ArticleInfo:
    return ArticleInfo(info.id, info.title, info.url, info.published, "", info.passages)


def _passage_meta(p: Passage) -> dict[str, Any]:
    return {
        "article_id": p.article_id,
        "index": p.index,
        "start": p.start,
        "end": p.end,
        "sentences": json.dumps([[s.start, s.end] for s in p.sentences]),
    }


def _passage(text: str, meta: dict[str, Any]) -> Passage:
    start = int(meta["start"])
    spans = json.loads(str(meta["sentences"]))
    return Passage(
        passage_id=f"{meta['article_id']}:{meta['index']}",
        article_id=str(meta["article_id"]),
        article_title=str(meta.get("article_title", "")),
        index=int(meta["index"]),
        start=start,
        end=int(meta["end"]),
        text=text,
        sentences=[Sentence(start=s, end=e, text=text[s - start : e - start]) for s, e in spans],
    )


def open_store(settings: Settings, embeddings: LocalEmbeddings) -> Store:
    """Open (creating if needed) the embedded store or the Chroma server's collections."""
    from langchain_chroma import Chroma

    def connect() -> Store:
        client = _client(settings)
        stores = [
            Chroma(
                client=client,
                collection_name=name,
                embedding_function=embeddings,
                collection_configuration=_COSINE,  # type: ignore[arg-type]
            )
            for name in (PASSAGES, SENTENCES)
        ]
        state = client.get_or_create_collection(STATE, embedding_function=None)
        database = None if settings.chroma_url else settings.chroma_dir / DATABASE_FILE
        return Store(stores[0], stores[1], embeddings, state, database)

    with _store_errors("opening the store"):
        try:
            return connect()
        except Exception as exc:
            if settings.chroma_url or not _damaged(exc):
                raise
        # the store is built from the articles folder, so a damaged one is rebuilt (after
        # a fresh look: another process may have rebuilt it already)
        _forget_client(settings.chroma_dir)
        try:
            return connect()
        except Exception as exc:
            if not _damaged(exc):
                raise
            _set_aside(settings.chroma_dir, exc)
        return connect()


def reopen_store(settings: Settings, embeddings: LocalEmbeddings) -> Store:
    """Open the embedded store again with a new client (after its files were replaced)."""
    _forget_client(settings.chroma_dir)
    return open_store(settings, embeddings)


def _forget_client(folder: Path) -> None:
    """Drop chromadb's cached client of ``folder`` (it caches one per path, broken or not)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(str(folder), None)


def _set_aside(folder: Path, exc: Exception) -> None:
    """Move a damaged embedded store out of the way, so an empty one is built in its place.

    Renamed rather than deleted: ASSISTANT_CHROMA_DIR might point at a folder that holds
    more than the store.
    """
    target = folder.with_name(f"{folder.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    folder.rename(target)
    _forget_client(folder)
    logger.warning(
        "the store in %s could not be read (%s); moved it to %s, rebuilding it",
        folder,
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        target,
    )
