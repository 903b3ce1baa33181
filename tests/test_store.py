"""The Chroma store: incremental updates by content hash, several articles, nothing lost."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.articles import load_articles
from assistant.chain import Assistant
from assistant.embeddings import LocalEmbeddings
from assistant.errors import IndexNotBuiltError
from assistant.store import PASSAGES, SENTENCE_CONTEXTS, open_store
from tests.chroma_collections import raw_collection
from tests.conftest import ROOT, SEED_ID


class CountingEmbeddings(LocalEmbeddings):
    """The real model, counting the texts it embeds."""

    def __init__(self, inner: LocalEmbeddings) -> None:
        super().__init__(inner._model)
        self.texts = 0

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += len(texts)
        return super().encode(texts)


def _write(folder: Path, name: str, title: str, body: str) -> None:
    (folder / name).write_text(f"{title}\n{body}", encoding="utf-8")


@pytest.fixture
def counting(embeddings: LocalEmbeddings) -> CountingEmbeddings:
    return CountingEmbeddings(embeddings)


def _assistant(settings, embeddings) -> Assistant:  # type: ignore[no-untyped-def]
    return Assistant(settings, embeddings, open_store(settings, embeddings))


def test_only_changed_articles_are_reembedded(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    folder = fresh_settings.articles_dir
    _write(folder, "lake.txt", "Lake story", "The lake froze early this year.\nSkaters came.")
    a = _assistant(fresh_settings, counting)
    first = a.index()
    assert sorted(first.added) == ["lake", SEED_ID]
    embedded = counting.texts
    assert embedded > 0

    again = a.index()
    assert sorted(again.unchanged) == ["lake", SEED_ID]
    assert again.added == again.updated == again.removed == []
    assert counting.texts == embedded  # nothing re-embedded

    _write(folder, "lake.txt", "Lake story", "The lake froze late this year.")
    third = a.index()
    assert third.updated == ["lake"] and third.unchanged == [SEED_ID]
    # the one passage is its one sentence: the same text is embedded once, not twice
    assert counting.texts - embedded == 1
    lake = a.store.passages("lake")
    assert [p.text for p in lake] == ["The lake froze late this year."]  # no stale passage


def test_many_articles_embedded_together_get_their_own_vectors(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    folder = fresh_settings.articles_dir
    for i in range(5):
        body = f"Town {i} voted. Its mayor, number {i}, won.\nTurnout rose."
        _write(folder, f"town-{i}.txt", f"Town {i}", body)
    a = _assistant(fresh_settings, counting)
    a.index()
    passages = a.store.passages()
    stored = a.store.passage_vectors([p.passage_id for p in passages])
    alone = counting.encode_with_sentence_transformers([p.text for p in passages])
    for p, want in zip(passages, alone, strict=True):
        assert float(np.max(np.abs(stored[p.passage_id] - want))) <= 1e-5, p.passage_id
    assert any(len(p.sentences) > 1 for p in passages)
    sentences = a.store.sentence_vectors(passages)
    for p in passages:
        for j, s in enumerate(p.sentences):
            want = counting.encode_with_sentence_transformers([s.text])[0]
            assert float(np.max(np.abs(sentences[f"{p.passage_id}:{j}"] - want))) <= 1e-5
    # in context: after the sentence before it in its passage; the first one alone
    contexts = a.store.context_vectors(passages)
    for p in passages:
        for j, s in enumerate(p.sentences):
            text = s.text if j == 0 else f"{p.sentences[j - 1].text} {s.text}"
            want = counting.encode_with_sentence_transformers([text])[0]
            assert float(np.max(np.abs(contexts[f"{p.passage_id}:{j}"] - want))) <= 1e-5


def test_removed_articles_are_dropped_and_unreadable_ones_kept(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    folder = fresh_settings.articles_dir
    _write(folder, "lake.txt", "Lake story", "The lake froze early.")
    _write(folder, "river.txt", "River story", "The river flooded the town.")
    a = _assistant(fresh_settings, counting)
    a.index()
    (folder / "lake.txt").unlink()
    (folder / "river.txt").write_bytes(b"\xff\xfe broken now")
    report = a.index()
    assert report.removed == ["lake"]
    assert len(report.errors) == 1 and "river.txt" in str(report.errors[0])
    assert set(a.catalog) == {SEED_ID, "river"}  # the unreadable file keeps its indexed version
    assert a.ask("What flooded the town?", article="river").citations


def test_rebuild_and_reopen(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    a = _assistant(fresh_settings, counting)
    a.index()
    count = a.store.count()
    report = a.index(rebuild=True)
    assert report.added == [SEED_ID] and a.store.count() == count
    reopened = _assistant(fresh_settings, counting)
    reopened.refresh()
    assert set(reopened.catalog) == {SEED_ID}
    assert reopened.catalog[SEED_ID].passages == count


def test_interrupted_write_is_redone(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    a = _assistant(fresh_settings, counting)
    a.index()
    # simulate a run killed half-way: one passage of the article is missing
    raw_collection(fresh_settings, PASSAGES).delete(ids=[f"{SEED_ID}:3"])
    assert a.store.catalog()[SEED_ID].content_hash == ""  # incomplete looks changed
    report = a.index()
    assert report.updated == [SEED_ID]
    assert f"{SEED_ID}:3" in {p.passage_id for p in a.store.passages(SEED_ID)}


def test_an_article_indexed_in_an_older_format_is_embedded_again(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    a = _assistant(fresh_settings, counting)
    a.index()
    passages = raw_collection(fresh_settings, PASSAGES)
    # what an index written before sentences in context were stored looks like (chromadb
    # merges metadata on update, so the older format is written, not the key removed)
    found = passages.get(where={"article_id": SEED_ID}, include=[])
    passages.update(ids=found["ids"], metadatas=[{"format": 1} for _ in found["ids"]])
    raw_collection(fresh_settings, SENTENCE_CONTEXTS).delete(where={"article_id": SEED_ID})
    assert a.store.catalog()[SEED_ID].content_hash == ""  # an older format looks changed
    report = a.index()
    assert report.updated == [SEED_ID]
    stored = a.store.passages(SEED_ID)
    assert len(a.store.context_vectors(stored)) == sum(len(p.sentences) for p in stored)
    assert a.store.catalog()[SEED_ID].content_hash != ""


def test_first_start_builds_the_index(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    assert not fresh_settings.chroma_dir.exists()
    a = Assistant.from_settings(fresh_settings)
    assert SEED_ID in a.catalog and fresh_settings.chroma_dir.exists()


def test_nothing_to_index_is_a_clear_error(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    shutil.rmtree(fresh_settings.articles_dir)
    fresh_settings.articles_dir.mkdir()
    (fresh_settings.articles_dir / "bad.txt").write_bytes(b"\x00\x00")
    with pytest.raises(IndexNotBuiltError, match="bad.txt"):
        Assistant.from_settings(fresh_settings)


def test_loading_is_stable(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    loaded = load_articles(fresh_settings.articles_dir)
    assert [a.content_hash for a in loaded.articles] == [
        a.content_hash for a in load_articles(fresh_settings.articles_dir).articles
    ]


def test_add_and_remove_article(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    from assistant.errors import UnknownArticleError
    from assistant.schemas import Article

    a = _assistant(fresh_settings, counting)
    a.index()
    story = Article(id="lake", title="Lake story", body="The lake froze early.\n\nSkaters came.")
    info = a.add_article(story)
    assert info.passages == 2 and (fresh_settings.articles_dir / "lake.md").is_file()
    assert "froze early" in a.ask("What happened to the lake?", article="lake").answer

    a.add_article(story.model_copy(update={"body": "The lake flooded the road."}))
    assert [p.text for p in a.store.passages("lake")] == ["The lake flooded the road."]
    assert a.index().unchanged == sorted(["lake", SEED_ID])  # the folder agrees with the store

    a.remove_article("lake")
    assert "lake" not in a.catalog and not (fresh_settings.articles_dir / "lake.md").exists()
    assert a.ask("What did Orban say?").citations  # the others still answer
    with pytest.raises(UnknownArticleError):
        a.remove_article("lake")


def test_every_write_changes_the_generation(fresh_settings, counting) -> None:  # type: ignore[no-untyped-def]
    from assistant.schemas import Article

    a = _assistant(fresh_settings, counting)
    a.index()
    seen = [a.store.generation()]
    assert seen[0] and a.store.generation() == seen[0]  # reading does not change it
    a.add_article(Article(id="lake", title="Lake story", body="The lake froze early."))
    seen.append(a.store.generation())
    a.remove_article("lake")
    seen.append(a.store.generation())
    assert len(set(seen)) == 3
    assert a.index().unchanged == [SEED_ID] and a.store.generation() == seen[-1]


def test_a_collection_larger_than_one_sqlite_query_is_read_in_pages(tmp_path: Path) -> None:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.store import GET_PAGE, get_all

    client = chromadb.PersistentClient(
        path=str(tmp_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_or_create_collection("many", embedding_function=None)
    total = 40_000  # one get() of more than ~32,000 records fails: "too many SQL variables"
    for start in range(0, total, 5_000):
        ids = range(start, start + 5_000)
        collection.add(
            ids=[f"p{i}" for i in ids],
            embeddings=[[1.0, float(i)] for i in ids],
            metadatas=[{"article_id": f"a{i % 7}"} for i in ids],
        )
    everything = get_all(collection, None, ["metadatas"])
    assert len(everything["ids"]) == len(set(everything["ids"])) == total > 3 * GET_PAGE
    assert len(everything["metadatas"]) == total
    one = get_all(collection, {"article_id": "a3"}, ["metadatas"])
    assert len(one["ids"]) == len([i for i in range(total) if i % 7 == 3])


def test_the_store_talks_to_chromadb_without_langchain(fresh_settings) -> None:  # type: ignore[no-untyped-def]
    """LangChain's Chroma wrapper is for the tutorial pipeline; the store needs none of it."""
    code = (
        "import sys\n"
        "from assistant.config import Settings\n"
        "from assistant.store import open_store\n"
        f"store = open_store(Settings(chroma_dir={str(fresh_settings.chroma_dir)!r}), None)\n"
        "print(store.count(), store.catalog(), 'langchain_chroma' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "{}", "False"]
