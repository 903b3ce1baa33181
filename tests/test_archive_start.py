"""A start on a built index reads the store once, and answers exactly as a start that read
it in full, twice over, did (docs/performance.md, "Starting on a large archive"). Real parts:
the bundled model and embedded Chroma; the reads are counted, never replaced."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assistant.articles import write_article
from assistant.chain import Assistant
from assistant.config import Settings
from assistant.schemas import Answer, Article
from assistant.store import PASSAGES, Store, open_store
from tests.chroma_collections import raw_collection
from tests.conftest import SEED_ID

HARBOUR = Article(
    id="harbour",
    title="Harbour reopens",
    body="The harbour of Port Ellery reopened on Friday after a storm closed it for a week.",
)
QUESTIONS = (
    ("What did Orban say?", SEED_ID),
    ("How many North Korean troops are in Russia?", SEED_ID),
    ("When did the harbour reopen?", "harbour"),
    ("When did the harbour reopen?", None),
    ("What did Orban say?", None),
)


def _indexed(settings: Settings, embeddings: Any, *articles: Article) -> None:
    """``settings``' folder holding the seed and ``articles``, all indexed."""
    for article in articles:
        write_article(settings.articles_dir, article)
    built = Assistant(settings, embeddings, open_store(settings, embeddings))
    built.index()


def _started(settings: Settings, embeddings: Any) -> Assistant:
    """A new start's assistant on the built store: opened, then in line with the folder."""
    started = Assistant(settings, embeddings, open_store(settings, embeddings))
    started.reconcile()
    return started


def _read_in_full(settings: Settings, embeddings: Any) -> Assistant:
    """The same store read as a start read it before: the catalog and the passages, each on
    its own (``refresh``), and no reconciling."""
    reread = Assistant(settings, embeddings, open_store(settings, embeddings))
    reread.refresh()
    return reread


def _answers(assistant: Assistant) -> list[str]:
    return [_text(assistant.ask(q, [], article)) for q, article in QUESTIONS]


def _text(answer: Answer) -> str:
    return answer.model_dump_json(exclude={"latency_ms"})


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str | None]]:
    """The store's reads of passage records by method, each still the real one."""
    found: dict[str, list[str | None]] = {"contents": [], "catalog": []}

    def counted(name: str) -> Callable[..., Any]:
        real = getattr(Store, name)

        def read(self: Store, article_id: str | None = None) -> Any:
            found[name].append(article_id)
            return real(self, article_id)

        return read

    for name in found:
        monkeypatch.setattr(Store, name, counted(name))
    return found


def test_a_start_with_nothing_changed_reads_the_store_once(
    fresh_settings: Settings, embeddings: Any, reads: dict[str, list[str | None]]
) -> None:
    """The catalog that reconciling compares with the folder and the passages answering
    reads come from one read of the whole store, not three."""
    _indexed(fresh_settings, embeddings, HARBOUR)
    reads["contents"].clear()
    reads["catalog"].clear()

    started = _started(fresh_settings, embeddings)

    assert reads == {"contents": [None], "catalog": []}
    store = started.store
    assert dict(started.catalog) == store.catalog()
    assert list(started.lexical.passages.values()) == store.passages()


def test_answers_after_a_start_are_those_of_a_full_read(
    fresh_settings: Settings, embeddings: Any
) -> None:
    """Scoped and archive-wide answers, byte for byte, citations included."""
    _indexed(fresh_settings, embeddings, HARBOUR)

    started = _answers(_started(fresh_settings, embeddings))

    assert started == _answers(_read_in_full(fresh_settings, embeddings))
    assert "Orban" in started[0]


def test_an_article_changed_while_the_app_was_down_is_indexed_again(
    fresh_settings: Settings, embeddings: Any, reads: dict[str, list[str | None]]
) -> None:
    """A change found at start is embedded and then read back: answers see the new text."""
    _indexed(fresh_settings, embeddings, HARBOUR)
    changed = HARBOUR.model_copy(
        update={"body": "The harbour of Port Ellery reopened on Monday, after repairs."}
    )
    write_article(fresh_settings.articles_dir, changed)  # edited while the app was down
    reads["contents"].clear()

    started = _started(fresh_settings, embeddings)

    assert reads["contents"] == [None, None]  # the first read found the change
    assert [p.text for p in started.article_passages("harbour")] == [changed.body]
    answer = started.ask("When did the harbour reopen?", [], "harbour")
    assert "Monday" in answer.answer
    assert _answers(started) == _answers(_read_in_full(fresh_settings, embeddings))


def test_an_incomplete_article_found_at_start_is_embedded_again(
    fresh_settings: Settings, embeddings: Any
) -> None:
    """Records left incomplete by a run killed half-way still look changed to a start
    that reads the store once."""
    _indexed(fresh_settings, embeddings)
    raw_collection(fresh_settings, PASSAGES).delete(ids=[f"{SEED_ID}:3"])

    started = _started(fresh_settings, embeddings)

    assert f"{SEED_ID}:3" in {p.passage_id for p in started.article_passages(SEED_ID)}
    assert started.catalog[SEED_ID].content_hash != ""


def test_scoped_answers_never_wait_for_the_archive_wide_index(
    fresh_settings: Settings, embeddings: Any
) -> None:
    """A question about one article reads that article's own BM25 scope: its answers are
    the same before the archive-wide index is built (``prepare_archive``, which the web app
    runs once its UI is up) and after, and so are the answers across all articles."""
    _indexed(fresh_settings, embeddings, HARBOUR)
    started = _started(fresh_settings, embeddings)
    scoped = [(q, article) for q, article in QUESTIONS if article]

    before = [_text(started.ask(q, [], article)) for q, article in scoped]
    assert not started.lexical.built(None)  # no scoped question built the archive's

    started.knowledge.prepare_archive()
    assert started.lexical.built(None)
    assert [_text(started.ask(q, [], article)) for q, article in scoped] == before
    assert _answers(started) == _answers(_started(fresh_settings, embeddings))
