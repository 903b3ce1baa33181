"""The knowledge base: the folder and the index kept in step (at start, on every write),
answers read from one snapshot while articles come and go, and ingestion that never holds
up a question. Real parts: the bundled model, embedded Chroma and a `chroma run` server."""

from __future__ import annotations

import shutil
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.articles import load_articles, read_article, write_article
from assistant.chain import Assistant
from assistant.config import Settings
from assistant.errors import ArticleTooLargeError, UnknownArticleError
from assistant.schemas import Answer, Article
from assistant.store import open_store
from tests.conftest import FIXTURES, SEED_ID
from tests.test_chroma_server import ChromaServer

PORT_CALDER = "port-calder-water-plant"
CALDER = read_article(FIXTURES / "articles" / f"{PORT_CALDER}.md")
HARBOUR = Article(
    id="harbour",
    title="Harbour reopens",
    body="The harbour of Port Ellery reopened on Friday after a storm closed it for a week.",
)


def own_assistant(settings: Settings, embeddings: Any) -> Assistant:
    """An assistant on ``settings``' own store, indexed from its folder."""
    own = Assistant(settings, embeddings, open_store(settings, embeddings))
    own.index()
    return own


def folder_ids(settings: Settings) -> set[str]:
    return {a.id for a in load_articles(settings.articles_dir).articles}


# -- the folder and the index agree ----------------------------------------------------------


def test_at_start_the_index_follows_the_folder(fresh_settings: Settings, embeddings: Any) -> None:
    """A file saved by a process that died before indexing it is indexed at the next start;
    an indexed article whose file is gone is removed, as `assistant index` would."""
    own_assistant(fresh_settings, embeddings).add_article(HARBOUR)
    folder = fresh_settings.articles_dir
    write_article(folder, CALDER)  # saved, never indexed: the process was killed
    (folder / "harbour.md").unlink()  # removed while the app was down

    started = Assistant.from_settings(fresh_settings)  # what `assistant serve` does

    assert set(started.catalog) == folder_ids(fresh_settings) == {SEED_ID, PORT_CALDER}
    answer = started.ask("How much did the Eastbank Water Treatment Plant cost?")
    assert any("$84 million" in p.text for p in answer.passages)
    gone = started.ask("When did the harbour reopen?")
    assert all(p.article_id != "harbour" for p in gone.passages)
    assert all(c.article_id != "harbour" for c in gone.citations)


def test_an_empty_folder_does_not_empty_the_index(
    fresh_settings: Settings, embeddings: Any, tmp_path: Path
) -> None:
    """A wrong or unmounted articles folder at start leaves the index as it is."""
    own_assistant(fresh_settings, embeddings)
    empty = fresh_settings.model_copy(update={"articles_dir": tmp_path / "empty"})
    empty.articles_dir.mkdir()

    started = Assistant.from_settings(empty)

    assert set(started.catalog) == {SEED_ID}
    assert not started.ask("What did Orban say?").abstained


def test_saving_x_keeps_x_v2(fresh_settings: Settings, embeddings: Any) -> None:
    own = own_assistant(fresh_settings, embeddings)
    folder = fresh_settings.articles_dir
    own.add_article(HARBOUR.model_copy(update={"id": "budget.v2", "title": "Budget, v2"}))
    own.add_article(HARBOUR.model_copy(update={"id": "budget", "title": "Budget"}))
    assert (folder / "budget.v2.md").is_file() and (folder / "budget.md").is_file()

    own.remove_article("budget")

    assert not (folder / "budget.md").exists() and (folder / "budget.v2.md").is_file()
    assert set(own.catalog) == folder_ids(fresh_settings) == {SEED_ID, "budget.v2"}
    assert own.index().removed == []  # the next `assistant index` agrees


def test_an_article_over_the_limit_is_refused_and_not_saved(
    fresh_settings: Settings, embeddings: Any
) -> None:
    settings = fresh_settings.model_copy(update={"max_article_chars": 5_000})
    own = own_assistant(settings, embeddings)
    with pytest.raises(ArticleTooLargeError, match="5,999 characters long; the limit is 5,000"):
        own.add_article(HARBOUR.model_copy(update={"body": "Word. " * 1_000}))
    assert not (settings.articles_dir / "harbour.md").exists()
    assert set(own.catalog) == {SEED_ID}


# -- answering while articles come and go --------------------------------------------------


@pytest.fixture
def switching() -> Iterator[None]:
    """Threads switch after a few bytecodes instead of every 5 ms: races show at once."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        yield
    finally:
        sys.setswitchinterval(before)


def test_questions_while_their_article_is_deleted_and_added_again(
    fresh_settings: Settings, embeddings: Any, switching: None
) -> None:
    """A question about an article deleted meanwhile is answered, or refused as unknown;
    it used to fail with a KeyError (a 500) when the refusal named the article."""
    own = own_assistant(fresh_settings, embeddings)
    own.add_article(CALDER)
    questions = [
        ("Who won the football match?", PORT_CALDER),  # a refusal names the article
        ("How much did the Eastbank Water Treatment Plant cost?", PORT_CALDER),
        ("Who won the football match?", None),
        ("What did Orban say?", None),
    ]
    done = threading.Event()
    outcomes: list[Answer | BaseException] = []

    def asking(offset: int) -> None:
        n = offset
        while not done.is_set() and n < offset + 400:
            question, article = questions[n % len(questions)]
            try:
                outcomes.append(own.ask(question, article=article))
            except UnknownArticleError:
                outcomes.append(UnknownArticleError())
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                outcomes.append(exc)
            n += 1

    askers = [threading.Thread(target=asking, args=(i,)) for i in range(3)]
    for thread in askers:
        thread.start()
    try:
        for _ in range(6):
            own.remove_article(PORT_CALDER)
            own.add_article(CALDER)
    finally:
        done.set()
        for thread in askers:
            thread.join(timeout=120)

    failures = [o for o in outcomes if not isinstance(o, Answer | UnknownArticleError)]
    assert not failures, failures[:3]
    assert sum(isinstance(o, Answer) for o in outcomes) > 20
    assert set(own.catalog) == folder_ids(fresh_settings) == {SEED_ID, PORT_CALDER}


class GatedEmbeddings:
    """The real model, but a bulk encode (an article being indexed) waits at a gate, so a
    test can act while an ingestion is surely under way; questions pass straight through."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.open = threading.Event()
        self.open.set()
        self.waiting = threading.Event()

    def encode(self, texts: list[str]) -> np.ndarray:
        if len(texts) > 8 and not self.open.is_set():
            self.waiting.set()
            assert self.open.wait(120), "the gate was never opened"
        return np.asarray(self.inner.encode(texts))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.slow
def test_ingestion_never_holds_up_questions(
    tmp_path: Path, embeddings: Any, seed_settings: Settings
) -> None:
    """Two processes' assistants on one Chroma server; while the first is indexing a long
    article, the other adds one, and the first still answers at once (it used to wait for
    its own ingestion to end before it would look at the other's change), and takes
    another article meanwhile."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        settings = Settings(
            onnx_dir=seed_settings.onnx_cache(),
            articles_dir=tmp_path / "articles",
            chroma_url=server.url,
            _env_file=None,
        )
        shutil.copytree(seed_settings.articles_dir, settings.articles_dir)
        gated = GatedEmbeddings(embeddings)
        first = Assistant(settings, gated, open_store(settings, gated))  # type: ignore[arg-type]
        first.index()
        other = Assistant(settings, embeddings, open_store(settings, embeddings))
        other.refresh()

        annex = "\n\n".join(
            f"Annex item {i} lists pipe repairs in district {i}." for i in range(40)
        )
        long_read = CALDER.model_copy(
            update={"id": "long-read", "body": f"{CALDER.body}\n\n{annex}"}
        )
        gated.open.clear()
        ingesting = threading.Thread(target=first.add_article, args=(long_read,))
        ingesting.start()
        try:
            assert gated.waiting.wait(120), "the ingestion never started embedding"
            other.add_article(HARBOUR)

            answered = call_within(60, first.ask, "When did the harbour reopen?")
            assert "on Friday" in answered.answer
            # and another write of this process goes ahead: only the vectors wait
            small = HARBOUR.model_copy(update={"id": "harbour-2"})
            assert call_within(60, first.add_article, small).id == "harbour-2"
            assert ingesting.is_alive()  # the long read is still being embedded
        finally:
            gated.open.set()
            ingesting.join(timeout=120)
        assert {"long-read", "harbour", "harbour-2"} <= set(first.catalog)
        cost = first.ask(
            "How much did the Eastbank Water Treatment Plant cost?", article="long-read"
        )
        assert any("$84 million" in p.text for p in cost.passages)
    finally:
        server.stop()


def call_within(seconds: float, function: Any, *args: Any) -> Any:
    """``function(*args)``, failing the test when it takes longer than ``seconds``."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function(*args)), daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(timeout=seconds)
    assert result, f"{function.__name__} waited {time.monotonic() - started:.0f} s"
    return result[0]
