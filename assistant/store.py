"""The Chroma store: passages and sentences with their embeddings, updated incrementally.

Three collections, all cosine:

- ``passages``: one record per passage (id ``ARTICLE:INDEX``); its metadata carries the
  article's id, title, url, published date and content hash, the passage's offsets, and
  the offsets of its sentences, so answers never need the article file.
- ``sentences``: one record per sentence (id ``ARTICLE:INDEX:J``), whose vectors let the
  answerer pick the sentence that answers without embedding anything at question time.
- ``sentence_contexts``: the same ids, with each sentence's vector in context (embedded
  after the sentence before it in its passage, ``ingestion.in_context``), so a sentence
  that says "it" or "he" is found by a question that names what it means.

Every passage record carries the index's ``FORMAT``: an article indexed by a version that
wrote another format looks changed, and is embedded again at the next start.

The store talks to chromadb directly (LangChain's Chroma wrapper is kept for the tutorial
pipeline only); deciding what to embed is ``ingestion.py``'s job, and the three places
that touch chromadb's private state or its imports are in ``chroma_patches.py``. An
article's records are upserted first and its stale ones deleted after, so an interrupted
run never loses the old version.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlparse

import numpy as np

from assistant.chroma_patches import forget_client, overrides_as_markers, set_http_timeout
from assistant.errors import ArticleError, StoreError
from assistant.ingestion import EmbeddedArticle, IndexReport, embed, sync_articles
from assistant.schemas import Article, ArticleInfo, Passage, Sentence

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings

PASSAGES = "passages"
SENTENCES = "sentences"
SENTENCE_CONTEXTS = "sentence_contexts"
#: what an article's records hold; an article indexed with another format is re-embedded
#: (2: sentences in context were added; 3: markup that closes a sentence, such as the
#: "**" after a bold heading's question mark, stays in that sentence)
FORMAT = 3
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
#: what SQLite says about a file that is not (or no longer) a database it can read
_DAMAGED = ("file is not a database", "database disk image is malformed")

logger = logging.getLogger(__name__)


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


def import_chromadb() -> None:
    """Import chromadb now (about 0.6 s of a new process), for a start that has other work
    to overlap with it (``Assistant.opened`` opens the model meanwhile), without the
    import-time checks of its ``@override`` markers (``overrides_as_markers``)."""
    overrides_as_markers()
    import chromadb  # noqa: F401


def _client(settings: Settings) -> ClientAPI:
    import_chromadb()
    import chromadb
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
        set_http_timeout(client, settings.chroma_timeout_s)  # ASSISTANT_CHROMA_TIMEOUT_S
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


def _collection(client: ClientAPI, name: str) -> Collection:
    """One of the store's cosine collections, created when missing (vectors are ours: no
    embedding function, so Chroma never loads its default model)."""
    return client.get_or_create_collection(
        name=name,
        embedding_function=None,
        configuration=_COSINE,  # type: ignore[arg-type]
    )


def _file_identity(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of ``path``, ``None`` when it is not there."""
    try:
        found = path.stat()
    except OSError:
        return None
    return (found.st_dev, found.st_ino)


class _VectorCache:
    """Stored vectors of one collection, read once and kept in memory for questions."""

    def __init__(self) -> None:
        self._vectors: dict[str, np.ndarray] = {}

    def clear(self) -> None:
        self._vectors.clear()

    def get(self, ids: Sequence[str], read: Callable[[list[str]], Any]) -> dict[str, np.ndarray]:
        """The vectors of ``ids``; those not cached yet come from ``read(missing ids)``."""
        missing = [i for i in ids if i not in self._vectors]
        if missing:
            records = read(missing)
            if len(self._vectors) > MAX_CACHED_VECTORS:
                self._vectors.clear()
            for i, vec in zip(records["ids"], records["embeddings"], strict=True):
                self._vectors[i] = np.asarray(vec, dtype=np.float32)
        # .get, not "in" then [...]: another thread may clear the cache in between
        found = {i: self._vectors.get(i) for i in ids}
        return {i: vec for i, vec in found.items() if vec is not None}


class Store:
    """Passages and sentences of every indexed article, in Chroma."""

    def __init__(
        self,
        client: ClientAPI,
        embeddings: LocalEmbeddings,
        database: Path | None = None,
    ) -> None:
        self._client = client
        self._passages = _collection(client, PASSAGES)
        self._sentences = _collection(client, SENTENCES)
        self._contexts = _collection(client, SENTENCE_CONTEXTS)
        #: one record whose value changes on every write (looked up by id, never by vector)
        self._state = client.get_or_create_collection(STATE, embedding_function=None)
        self._embeddings = embeddings
        #: the embedded store's database file and its identity when opened (``None``: server)
        self._database = database
        self._identity = None if database is None else _file_identity(database)
        self._sentence_vectors = _VectorCache()
        self._context_vectors = _VectorCache()
        self._passage_vectors = _VectorCache()

    def _call(self, what: str, action: Callable[[], _T]) -> _T:
        with _store_errors(what):
            return action()

    # -- reading -------------------------------------------------------------------------

    def count(self) -> int:
        return self._call("counting passages", lambda: self._passages.count())

    def open_sentences(self) -> None:
        """Open the sentence collections, which a first answer reads (``_open``)."""
        self._call("opening the sentences", lambda: _open(self._sentences, self._contexts))

    def generation(self) -> str:
        """A token that changes whenever any process writes to the store ("" if never)."""
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
        self._context_vectors.clear()
        self._passage_vectors.clear()

    def catalog(self, article_id: str | None = None) -> dict[str, ArticleInfo]:
        """Every indexed article by id, or only ``article_id`` (empty when it is not indexed),
        from the records' metadata alone (``contents`` when the passages are wanted too)."""
        read = partial(get_all, self._passages, _where(article_id), ["metadatas"])
        return _catalog(self._call("listing articles", read)["metadatas"])

    def passages(self, article_id: str | None = None) -> list[Passage]:
        """Indexed passages, all or one article's, in reading order."""
        return self.contents(article_id)[1]

    def contents(
        self, article_id: str | None = None
    ) -> tuple[dict[str, ArticleInfo], list[Passage]]:
        """``catalog`` and ``passages`` together, from one read (``_contents``)."""
        read = partial(get_all, self._passages, _where(article_id), ["documents", "metadatas"])
        return _contents(self._call("reading passages", read))

    def dense_search(
        self, vector: np.ndarray, k: int, article_id: str | None = None
    ) -> list[tuple[str, float]]:
        """(passage id, cosine similarity) of the ``k`` nearest passages."""
        found: Any = self._call(
            "searching passages",
            lambda: self._passages.query(
                query_embeddings=[vector.tolist()],
                n_results=k,
                where=_where(article_id),
                include=["distances"],
            ),
        )
        return [
            (pid, 1.0 - float(dist))
            for pid, dist in zip(found["ids"][0], found["distances"][0], strict=True)
        ]

    def passage_vectors(self, passage_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors of the given passages (cached after first read)."""
        return self._vectors("passage", self._passage_vectors, self._passages, passage_ids)

    def sentence_vectors(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Vectors of the sentences of ``passages``, by sentence id (cached after first read)."""
        ids = _sentence_ids(passages)
        return self._vectors("sentence", self._sentence_vectors, self._sentences, ids)

    def context_vectors(self, passages: Sequence[Passage]) -> dict[str, np.ndarray]:
        """Vectors of the sentences of ``passages`` in context (``SENTENCE_CONTEXTS``), by
        sentence id (cached after first read)."""
        ids = _sentence_ids(passages)
        return self._vectors("sentence context", self._context_vectors, self._contexts, ids)

    def _vectors(
        self, kind: str, cache: _VectorCache, collection: Collection, ids: Sequence[str]
    ) -> dict[str, np.ndarray]:
        return cache.get(
            ids,
            lambda missing: self._call(
                f"reading {kind} vectors",
                lambda: collection.get(ids=missing, include=["embeddings"]),
            ),
        )

    # -- writing -------------------------------------------------------------------------

    def sync(
        self,
        articles: Sequence[Article],
        errors: Sequence[ArticleError] = (),
        rebuild: bool = False,
        progress: Callable[[str], None] | None = None,
        known: Mapping[str, ArticleInfo] | None = None,
    ) -> IndexReport:
        """Make the store hold exactly ``articles``; re-embed only the changed ones
        (``ingestion.sync_articles``; ``known``: the catalog, when the caller read it)."""
        return sync_articles(self, self._embeddings, articles, errors, rebuild, progress, known)

    def put(self, article: Article) -> int:
        """Add or replace one article; returns its passage count."""
        self.check_files()  # written into deleted files, it would be lost at the next start
        return self.write(embed([article], self._embeddings)[0])

    def write(self, embedded: EmbeddedArticle) -> int:
        """Write one embedded article (replacing its old records); returns its passage count."""
        article_id = embedded.article.id
        sentences, passages = _sentence_records(embedded), _passage_records(embedded)
        contexts = embedded.context_vectors.tolist()

        def write() -> None:
            if sentences["ids"]:
                self._sentences.upsert(**sentences)
                self._contexts.upsert(**dict(sentences, embeddings=contexts))
            self._passages.upsert(**passages)
            self._drop_stale(article_id, set(passages["ids"]), set(sentences["ids"]))

        self._call(f"indexing {article_id}", write)
        self.forget_cached_vectors()
        self._call("recording the change", self._bump)
        return len(embedded.passages)

    def delete(self, article_id: str) -> None:
        """Remove one article's passages and sentences."""
        self.check_files()
        self._call(f"removing {article_id}", lambda: self._drop_stale(article_id, set(), set()))
        self.forget_cached_vectors()
        self._call("recording the change", self._bump)

    def clear(self) -> None:
        """Remove every article (the collections are dropped and made again, empty)."""

        def clear() -> None:
            for name in (PASSAGES, SENTENCES, SENTENCE_CONTEXTS):
                self._client.delete_collection(name)
            self._passages = _collection(self._client, PASSAGES)
            self._sentences = _collection(self._client, SENTENCES)
            self._contexts = _collection(self._client, SENTENCE_CONTEXTS)
            self.forget_cached_vectors()
            self._bump()

        self._call("clearing the store", clear)

    def _drop_stale(
        self, article_id: str, keep_passages: set[str], keep_sentences: set[str]
    ) -> None:
        kept = ((self._passages, keep_passages), (self._sentences, keep_sentences))
        _drop_stale(article_id, (*kept, (self._contexts, keep_sentences)))

    def _bump(self) -> None:
        _bump(self._state)


def _drop_stale(article_id: str, kept: Sequence[tuple[Collection, set[str]]]) -> None:
    """Delete the article's records that are not in the ids kept for each collection."""
    for collection, keep in kept:
        ids = collection.get(where={"article_id": article_id}, include=[])["ids"]
        stale = [i for i in ids if i not in keep]
        if stale:
            collection.delete(ids=stale)


def _bump(state: Collection) -> None:
    """Give the store's generation record a new value."""
    # one-dimensional: the record is looked up by id, never by similarity
    state.upsert(
        ids=[GENERATION_ID],
        embeddings=np.ones((1, 1), np.float32),
        metadatas=[{"value": uuid.uuid4().hex}],
    )


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


def _where(article_id: str | None) -> Any:
    """The filter of one article's records, or ``None`` for all."""
    return {"article_id": article_id} if article_id else None


def _open(*collections: Collection) -> None:
    """Have Chroma load ``collections`` now, for a start to do on a thread beside its other
    work: a collection's first read loads it (seconds for a large archive, in chromadb's
    native code, which mostly releases the GIL)."""
    for collection in collections:
        collection.count()


def _contents(records: dict[str, list[Any]]) -> tuple[dict[str, ArticleInfo], list[Passage]]:
    """The catalog and the passages (in reading order) of passage records read with their
    documents and metadata.

    Both come from the same records (the catalog from their metadata), and reading a
    whole archive's records is most of a start (about 0.7 s per 10,000 records here), so
    a start that needs both reads them once, not once for each (``KnowledgeBase.index``).
    """
    metadatas = records["metadatas"]
    passages = [
        _passage(text, meta) for text, meta in zip(records["documents"], metadatas, strict=True)
    ]
    return _catalog(metadatas), sorted(passages, key=lambda p: (p.article_id, p.index))


def sentence_id(passage_id: str, j: int) -> str:
    return f"{passage_id}:{j}"


def _sentence_ids(passages: Sequence[Passage]) -> list[str]:
    return [sentence_id(p.passage_id, j) for p in passages for j in range(len(p.sentences))]


def _catalog(metadatas: Sequence[Any]) -> dict[str, ArticleInfo]:
    """Articles by id, from the metadata of their passage records."""
    found: dict[str, ArticleInfo] = {}
    counts: dict[str, int] = {}
    old: set[str] = set()
    for meta in metadatas:
        article_id = str(meta["article_id"])
        counts[article_id] = counts.get(article_id, 0) + 1
        if meta.get("format") != FORMAT:
            old.add(article_id)
        if article_id not in found or meta.get("index") == 0:
            found[article_id] = ArticleInfo(
                id=article_id,
                title=str(meta.get("article_title", "")),
                url=str(meta["url"]) if meta.get("url") else None,
                published=str(meta["published"]) if meta.get("published") else None,
                content_hash=str(meta.get("content_hash", "")),
                passages=int(meta.get("n_passages", 0)),
            )
    # an article whose records are incomplete (an interrupted run) or of an older format
    # must look changed
    return {
        key: info if counts[key] == info.passages and key not in old else _stale(info)
        for key, info in found.items()
    }


def _stale(info: ArticleInfo) -> ArticleInfo:
    return ArticleInfo(info.id, info.title, info.url, info.published, "", info.passages)


def _sentence_records(embedded: EmbeddedArticle) -> dict[str, Any]:
    """The ``upsert`` arguments of an article's sentence records."""
    sentences = embedded.sentences
    return {
        "ids": [sentence_id(p.passage_id, j) for p, j, _ in sentences],
        "embeddings": embedded.sentence_vectors.tolist(),
        "documents": [s.text for _, _, s in sentences],
        "metadatas": [
            {"article_id": embedded.article.id, "passage_id": p.passage_id, "start": s.start}
            for p, _, s in sentences
        ],
    }


def _passage_records(embedded: EmbeddedArticle) -> dict[str, Any]:
    """The ``upsert`` arguments of an article's passage records; each carries the article's
    metadata too, so answers never need the article file."""
    article, passages = embedded.article, embedded.passages
    shared = {
        "article_title": article.title,
        "url": article.url or "",
        "published": article.published or "",
        "content_hash": article.content_hash,
        "n_passages": len(passages),
        "format": FORMAT,
    }
    return {
        "ids": [p.passage_id for p in passages],
        "embeddings": embedded.passage_vectors.tolist(),
        "documents": [p.text for p in passages],
        "metadatas": [{**shared, **_passage_meta(p)} for p in passages],
    }


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

    def connect() -> Store:
        database = None if settings.chroma_url else settings.chroma_dir / DATABASE_FILE
        return Store(_client(settings), embeddings, database)

    with _store_errors("opening the store"):
        try:
            return connect()
        except Exception as exc:
            if settings.chroma_url or not _damaged(exc):
                raise
        # the store is built from the articles folder, so a damaged one is rebuilt (after
        # a fresh look: another process may have rebuilt it already)
        forget_client(settings.chroma_dir)
        try:
            return connect()
        except Exception as exc:
            if not _damaged(exc):
                raise
            _set_aside(settings.chroma_dir, exc)
        return connect()


def reopen_store(settings: Settings, embeddings: LocalEmbeddings) -> Store:
    """Open the embedded store again with a new client (after its files were replaced)."""
    forget_client(settings.chroma_dir)
    return open_store(settings, embeddings)


def _set_aside(folder: Path, exc: Exception) -> None:
    """Move a damaged embedded store out of the way, so an empty one is built in its place.

    Renamed rather than deleted: ASSISTANT_CHROMA_DIR might point at a folder that holds
    more than the store.
    """
    target = folder.with_name(f"{folder.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    folder.rename(target)
    forget_client(folder)
    logger.warning(
        "the store in %s could not be read (%s); moved it to %s, rebuilding it",
        folder,
        str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
        target,
    )
