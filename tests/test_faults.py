"""Faults: a Chroma server killed (or frozen) under load, `assistant index` killed mid-way,
the embedded store deleted or overwritten under a running app.

Real parts throughout: `chroma run`, the bundled model, uvicorn, `assistant` subprocesses.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.articles import load_articles, read_article, write_article
from assistant.chain import Assistant
from assistant.chunking import split_article
from assistant.config import Settings
from assistant.schemas import Article
from assistant.store import PASSAGES, SENTENCES, open_store, sentence_id
from tests.chroma_collections import raw_collection
from tests.conftest import FIXTURES, ROOT, SEED_ID, seed_articles
from tests.test_api import serve
from tests.test_chroma_server import ChromaServer

pytestmark = pytest.mark.slow

#: the longest any one HTTP call of these tests may take; beyond it the app hung
CALL_LIMIT_S = 25.0
PORT_CALDER = "port-calder-water-plant"
#: (question, article scope, words the answer must hold)
QUESTIONS = [
    ("What did Orban say?", SEED_ID, "frightening"),
    ("How much did the Eastbank Water Treatment Plant cost?", PORT_CALDER, "84 million"),
]


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)


def assert_error_json(response: httpx.Response, status: int, code: str) -> str:
    """``response`` is the API's one-line error JSON; returns its message."""
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code, body
    message = str(body["error"]["message"])
    assert message and "\n" not in message and "Traceback" not in response.text
    return message


def assert_answer(body: dict[str, Any], article: str, expected: str) -> None:
    """A grounded answer: the passage holding the expected words retrieved, and citations
    quoting the article verbatim. (Which sentences answer best is the evaluation's
    business; these tests are about the store surviving faults.)"""
    assert not body["abstained"], body["answer"]
    assert any(expected in p["text"] for p in body["passages"]), body["passages"]
    assert body["citations"]
    bodies = {a: read_article(p).body for a, p in ARTICLE_FILES.items()}
    for citation in body["citations"]:
        assert citation["article_id"] == article
        assert bodies[article][citation["start"] : citation["end"]] == citation["quote"]


ARTICLE_FILES = {
    SEED_ID: ROOT / "index" / "articles" / f"{SEED_ID}.txt",
    PORT_CALDER: FIXTURES / "articles" / f"{PORT_CALDER}.md",
}


def three_articles(folder: Path) -> Path:
    """The seed article and the two short fixture articles."""
    seed_articles(folder)
    for path in sorted((FIXTURES / "articles").glob("*.md")):
        shutil.copy(path, folder / path.name)
    return folder


def run_assistant(
    settings: Settings, *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """``python -m assistant ARGS`` in a subprocess on ``settings``'s folders."""
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True, text=True, env=assistant_env(settings), cwd=ROOT, timeout=timeout,
    )  # fmt: skip


def assistant_env(settings: Settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_ARTICLES_DIR=str(settings.articles_dir),
        ASSISTANT_CHROMA_DIR=str(settings.chroma_dir),
        ASSISTANT_FEEDBACK_FILE=str(settings.feedback_file),
        # the session's ONNX export of the model: exporting again costs each process a minute
        ASSISTANT_ONNX_DIR=str(settings.onnx_cache()),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


# -- a stream of questions -----------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    sent_at: float
    elapsed: float
    status: int  # 0: no HTTP response at all
    body: Any
    question: tuple[str, str, str]


class Load:
    """Asks ``QUESTIONS`` in turn from a thread: bounded in count and time."""

    def __init__(self, base: str, max_requests: int = 600, max_seconds: float = 240) -> None:
        self.base = base
        self.max_requests = max_requests
        self.max_seconds = max_seconds
        self.results: list[Result] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Load:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=CALL_LIMIT_S + 5)
        assert not self.thread.is_alive(), "a request never returned"

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=CALL_LIMIT_S + 5) as client:
            for n in range(self.max_requests):
                if self.stop.is_set() or time.monotonic() > deadline:
                    return
                question = QUESTIONS[n % len(QUESTIONS)]
                sent = time.monotonic()
                try:
                    response = client.post(
                        f"{self.base}/api/ask",
                        json={"question": question[0], "article": question[1]},
                    )
                    status, body = response.status_code, _json_or_text(response)
                except httpx.HTTPError as exc:
                    status, body = 0, repr(exc)
                self.results.append(Result(sent, time.monotonic() - sent, status, body, question))
                time.sleep(0.05)

    def since(self, moment: float) -> list[Result]:
        return [r for r in list(self.results) if r.sent_at >= moment]


def _json_or_text(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class Chroma(ChromaServer):
    """``chroma run`` that can also be killed outright, frozen and thawed."""

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no chance to flush or say goodbye
        self.process.wait(timeout=30)
        self.process = None

    def signal(self, sig: signal.Signals) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen process cannot terminate
        super().stop()


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[Chroma]:
    server = Chroma(tmp_path / "chroma-data")
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.process.send_signal(signal.SIGCONT)
            server.process.kill()
            server.process.wait(timeout=30)


@pytest.fixture
def on_server(chroma: Chroma, tmp_path: Path, embeddings: Any) -> Assistant:
    """An assistant on the Chroma server, holding three articles."""
    settings = Settings(
        articles_dir=three_articles(tmp_path / "articles"),
        chroma_dir=tmp_path / "unused",
        chroma_url=chroma.url,
        feedback_file=tmp_path / "feedback.jsonl",
        rate_limit="100000/minute",
        admin_token=TOKEN,
        _env_file=None,
    )
    own = Assistant(settings, embeddings, open_store(settings, embeddings))
    own.index()
    assert len(own.catalog) == 3
    return own


TOKEN = "fault-token"
HARBOUR = {
    "id": "harbour",
    "title": "Harbour reopens",
    "body": "The harbour of Port Ellery reopened on Friday after a storm closed it for a week.",
}


def post_harbour(base: str) -> httpx.Response:
    """``POST /api/articles`` of ``HARBOUR`` as the admin."""
    return httpx.post(
        f"{base}/api/articles",
        json=HARBOUR,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=CALL_LIMIT_S,
    )


# -- the Chroma server killed under load ---------------------------------------------------


def test_chroma_server_killed_under_load_and_restarted(
    on_server: Assistant, chroma: Chroma
) -> None:
    with serve(on_server) as base, Load(base) as load:
        before = httpx.get(f"{base}/api/articles", timeout=CALL_LIMIT_S).json()
        assert {a["id"] for a in before} == {
            SEED_ID,
            PORT_CALDER,
            "greyford-bumblebee-rediscovered",
        }
        wait_for(lambda: sum(r.status == 200 for r in load.results) >= 4, 120, "answers")

        chroma.kill()
        killed = time.monotonic()
        wait_for(lambda: len(load.since(killed + 0.5)) >= 4, 120, "answers while down")
        health = httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S)
        assert "vector store" in assert_error_json(health, 503, "store_unavailable")
        down = httpx.post(
            f"{base}/api/ask", json={"question": "What did Orban say?"}, timeout=CALL_LIMIT_S
        )
        assert "vector store" in assert_error_json(down, 503, "store_unavailable")
        # an article sent while the store is down: refused, but kept in the articles folder
        added = post_harbour(base)
        assert "vector store" in assert_error_json(added, 503, "store_unavailable")
        assert (on_server.settings.articles_dir / "harbour.md").is_file()

        restarting = time.monotonic()
        chroma.start()  # same data folder, same port
        restarted = time.monotonic()
        wait_for(lambda: sum(r.status == 200 for r in load.since(restarted)) >= 4, 120, "recovery")
        after = httpx.get(f"{base}/api/articles", timeout=CALL_LIMIT_S).json()
        health = httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S)
        # `assistant index` (the same call) indexes what was refused while the store was down
        report = on_server.index()
        assert report.added == ["harbour"] and not report.updated and not report.removed
        harbour = httpx.post(
            f"{base}/api/ask",
            json={"question": "When did the harbour reopen?", "article": "harbour"},
            timeout=CALL_LIMIT_S,
        )
        assert harbour.status_code == 200 and "on Friday" in harbour.json()["answer"]

    results = load.results
    assert {r.status for r in results} <= {200, 503}, [r.body for r in results if r.status != 200]
    assert max(r.elapsed for r in results) < CALL_LIMIT_S
    while_down = [
        r for r in results if killed + 0.5 <= r.sent_at < r.sent_at + r.elapsed < restarting
    ]
    assert while_down and all(r.status == 503 for r in while_down)
    for r in results:
        if r.status == 503:
            assert r.body["error"]["code"] == "store_unavailable"
            assert "\n" not in r.body["error"]["message"]
        else:
            assert_answer(r.body, r.question[1], r.question[2])
    # the last answers are all good again
    tail = load.since(restarted)[-4:]
    assert [r.status for r in tail] == [200] * 4
    # no article lost: the same list, and the store holds every passage of each
    assert after == before
    assert health.status_code == 200 and health.json()["articles"] == 3
    assert len(on_server.store.catalog()) == 4
    for info in on_server.store.catalog().values():
        article = next(a for a in load_articles(on_server.settings.articles_dir).articles
                       if a.id == info.id)  # fmt: skip
        assert info.content_hash == article.content_hash
        assert info.passages == len(split_article(article))


def test_frozen_chroma_server_gives_503_within_a_bound(
    chroma: Chroma, tmp_path: Path, embeddings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that hangs (SIGSTOP) must not hang questions: chromadb waits forever."""
    settings = Settings(
        articles_dir=seed_articles(tmp_path / "articles"),
        chroma_url=chroma.url,
        chroma_timeout_s=3.0,
        rate_limit="100000/minute",
        _env_file=None,
    )
    own = Assistant(settings, embeddings, open_store(settings, embeddings))
    own.index()
    question = {"question": "What did Orban say?", "article": SEED_ID}
    with serve(own) as base:
        assert httpx.post(f"{base}/api/ask", json=question, timeout=CALL_LIMIT_S).status_code == 200
        chroma.signal(signal.SIGSTOP)
        try:
            for route in ("/api/ask", "/api/health"):
                started = time.monotonic()
                if route == "/api/ask":
                    response = httpx.post(f"{base}{route}", json=question, timeout=CALL_LIMIT_S)
                else:
                    response = httpx.get(f"{base}{route}", timeout=CALL_LIMIT_S)
                assert "timed out" in assert_error_json(response, 503, "store_unavailable")
                assert time.monotonic() - started < 3.0 * 2 + 2
        finally:
            chroma.signal(signal.SIGCONT)
        up = httpx.post(f"{base}/api/ask", json=question, timeout=CALL_LIMIT_S)
        assert up.status_code == 200, up.text
        assert_answer(up.json(), SEED_ID, "frightening")


# -- `assistant index` killed mid-way ------------------------------------------------------


def town(i: int, version: int = 1) -> Article:
    """A short made-up article; version 2 is shorter, so stale passages would show."""
    name = f"Velmora{i:03d}"
    paragraphs = [
        f"The {name} bridge cost ${1000 + i * 7 + version:,} to build. "
        f"Mayor Ilse {name}sen opened it on a Tuesday.",
        f"The council of {name} meets in the old mill. It has {5 + i % 9} members.",
    ] + [
        f"Paragraph {j} of the {name} report covers roads and parks. "
        f"Crews repaired {j * 3 + i} potholes near the {name} square."
        for j in range(4 if version == 1 else 1)
    ]
    return Article(id=f"town-{i:03d}", title=f"{name} report", body="\n\n".join(paragraphs))


def test_index_killed_midway_then_run_again(
    tmp_path: Path, embeddings: Any, seed_settings: Settings
) -> None:
    folder = tmp_path / "articles"
    settings = Settings(
        onnx_dir=seed_settings.onnx_cache(),
        articles_dir=folder,
        chroma_dir=tmp_path / "chroma",
        feedback_file=tmp_path / "feedback.jsonl",
        _env_file=None,
    )
    for i in range(6):
        write_article(folder, town(i))
    first = run_assistant(settings, "index")
    assert first.returncode == 0, first.stderr
    assert "6 articles indexed: 6 added" in first.stdout
    # then three rewritten shorter, one removed, eight new (in the order the run takes
    # them: 001 003 005 006 ... 013), and a run killed once it has written 001 and 003
    for i in (1, 3, 5):
        write_article(folder, town(i, version=2))
    (folder / "town-002.md").unlink()
    for i in range(6, 14):
        write_article(folder, town(i))

    process = subprocess.Popen(
        [sys.executable, "-m", "assistant", "index"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=assistant_env(settings), cwd=ROOT,
    )  # fmt: skip
    watchdog = threading.Timer(180, process.kill)  # a run that hangs must not hang the test
    watchdog.start()
    try:
        assert process.stderr is not None
        embedded = 0
        for line in process.stderr:  # "indexed article N of M: ID" once each is written
            embedded += "indexed article " in line
            if embedded == 2:
                process.send_signal(signal.SIGKILL)
                break
        process.wait(timeout=30)
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert embedded == 2, "the run ended before it could be killed mid-way"

    again = run_assistant(settings, "index")
    assert again.returncode == 0, again.stderr
    counts = re.search(
        r"(\d+) articles indexed: (\d+) added, (\d+) updated, (\d+) unchanged, (\d+) removed",
        again.stdout,
    )
    assert counts, again.stdout
    total, added, updated, unchanged, removed = map(int, counts.groups())
    assert total == 13 and removed == 1
    # what the killed run finished is unchanged now (000 and 004 were never touched, 001
    # and 003 were written before it was killed), and it did not finish everything
    assert 2 + 2 <= unchanged < 13 and added + updated == 13 - unchanged, again.stdout

    # every article exactly once: its passages and sentences, no stale or orphan records
    articles = load_articles(folder).articles
    assert len(articles) == 13
    store = open_store(settings, embeddings)
    passages = raw_collection(settings, PASSAGES)
    sentences = raw_collection(settings, SENTENCES)
    expected_passages = expected_sentences = 0
    catalog = store.catalog()
    for article in articles:
        chunks = split_article(article)
        want_p = [p.passage_id for p in chunks]
        want_s = [sentence_id(p.passage_id, j) for p in chunks for j in range(len(p.sentences))]
        got_p = passages.get(where={"article_id": article.id}, include=[])["ids"]
        got_s = sentences.get(where={"article_id": article.id}, include=[])["ids"]
        assert sorted(got_p) == sorted(want_p), article.id
        assert sorted(got_s) == sorted(want_s), article.id
        assert catalog[article.id].content_hash == article.content_hash
        expected_passages += len(want_p)
        expected_sentences += len(want_s)
    assert passages.count() == expected_passages
    assert sentences.count() == expected_sentences
    assert set(catalog) == {a.id for a in articles}

    own = Assistant(settings, embeddings, store)
    own.refresh()
    for i, version in ((3, 2), (5, 2), (13, 1)):
        answer = own.ask(f"How much did the Velmora{i:03d} bridge cost?", article=f"town-{i:03d}")
        assert f"${1000 + i * 7 + version:,}" in answer.answer, answer.answer


# -- the embedded store deleted or damaged under a running app -----------------------------


@pytest.fixture
def embedded(tmp_path: Path, embeddings: Any, seed_settings: Settings) -> Assistant:
    """An assistant on an embedded store of its own, with three articles."""
    settings = Settings(
        onnx_dir=seed_settings.onnx_cache(),
        articles_dir=three_articles(tmp_path / "articles"),
        chroma_dir=tmp_path / "chroma",
        feedback_file=tmp_path / "feedback.jsonl",
        rate_limit="100000/minute",
        admin_token=TOKEN,
        _env_file=None,
    )
    own = Assistant(settings, embeddings, open_store(settings, embeddings))
    own.index()
    return own


def ask_everything(base: str, rounds: int = 3) -> list[httpx.Response]:
    """Each question a few times, and health and the article list after each round."""
    responses = []
    for _ in range(rounds):
        for question, article, _ in QUESTIONS:
            responses.append(
                httpx.post(
                    f"{base}/api/ask",
                    json={"question": question, "article": article},
                    timeout=CALL_LIMIT_S,
                )
            )
        responses.append(httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S))
        responses.append(httpx.get(f"{base}/api/articles", timeout=CALL_LIMIT_S))
    return responses


def assert_answer_or_503(responses: list[httpx.Response]) -> None:
    for response in responses:
        if response.status_code == 200:
            continue
        assert "vector store" in assert_error_json(response, 503, "store_unavailable")


def test_store_folder_deleted_under_a_running_app(embedded: Assistant) -> None:
    settings = embedded.settings
    with serve(embedded) as base:
        assert_answer(
            httpx.post(
                f"{base}/api/ask",
                json={"question": QUESTIONS[0][0], "article": SEED_ID},
                timeout=CALL_LIMIT_S,
            ).json(),
            SEED_ID,
            "frightening",
        )
        shutil.rmtree(settings.chroma_dir)
        responses = ask_everything(base)
        assert_answer_or_503(responses)
        # what it had open still answers: a reader sees no difference
        asked = [r for r in responses if r.request.url.path == "/api/ask"]
        for response, (_, article, expected) in zip(asked, QUESTIONS * 3, strict=True):
            assert response.status_code == 200, response.text
            assert_answer(response.json(), article, expected)
        # ... but health tells whoever watches it that nothing written would be kept
        health = httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S)
        message = assert_error_json(health, 503, "store_unavailable")
        assert "deleted" in message and "assistant index" in message
        # an article sent now would be written into deleted files: refused, but kept in
        # the articles folder for the rebuild
        added = post_harbour(base)
        assert "deleted" in assert_error_json(added, 503, "store_unavailable")
        assert (settings.articles_dir / "harbour.md").is_file()

        # the next process finds no store and builds one; the running app opens it, with
        # no restart: health is back and every article answers, the refused one too
        rebuilt = run_assistant(settings, "index")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "4 articles indexed: 4 added" in rebuilt.stdout
        assert (settings.chroma_dir / "chroma.sqlite3").is_file()
        after = ask_everything(base, rounds=1)
        assert all(r.status_code == 200 for r in after), [r.text for r in after]
        assert after[-2].json()["articles"] == 4
        for response, (_, article, expected) in zip(after, QUESTIONS, strict=False):
            assert_answer(response.json(), article, expected)
        harbour = httpx.post(
            f"{base}/api/ask",
            json={"question": "When did the harbour reopen?", "article": "harbour"},
            timeout=CALL_LIMIT_S,
        )
        assert harbour.status_code == 200 and "on Friday" in harbour.json()["answer"]


def test_store_file_overwritten_under_a_running_app(embedded: Assistant) -> None:
    settings = embedded.settings
    with serve(embedded) as base:
        before = httpx.get(f"{base}/api/articles", timeout=CALL_LIMIT_S).json()
        (settings.chroma_dir / "chroma.sqlite3").write_bytes(b"\x00garbage" * 4096)
        responses = ask_everything(base)
        assert_answer_or_503(responses)
        failed = [r for r in responses if r.status_code == 503]
        assert failed, "a damaged store went unnoticed"
        # the message says what to do, on one line
        assert all("assistant index" in r.json()["error"]["message"] for r in failed)
        health = httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S)
        assert "vector store" in assert_error_json(health, 503, "store_unavailable")
        # the app keeps serving: the rest of it still answers
        assert httpx.get(f"{base}/widget.js", timeout=CALL_LIMIT_S).status_code == 200

        # `assistant index` sets the damaged store aside and builds a new one
        rebuilt = run_assistant(settings, "index")
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert "3 articles indexed: 3 added" in rebuilt.stdout
        aside = list(settings.chroma_dir.parent.glob("chroma.damaged-*"))
        assert len(aside) == 1 and (aside[0] / "chroma.sqlite3").is_file()
        # the running app opens the rebuilt store by itself (no restart): every article
        # is back, answers too
        assert httpx.get(f"{base}/api/articles", timeout=CALL_LIMIT_S).json() == before
        assert httpx.get(f"{base}/api/health", timeout=CALL_LIMIT_S).status_code == 200
        for question, article, expected in QUESTIONS:
            response = httpx.post(
                f"{base}/api/ask",
                json={"question": question, "article": article},
                timeout=CALL_LIMIT_S,
            )
            assert response.status_code == 200, response.text
            assert_answer(response.json(), article, expected)
    assert len(list(settings.chroma_dir.parent.glob("chroma.damaged-*"))) == 1


def test_damaged_store_is_rebuilt_when_the_app_starts(
    tmp_path: Path, seed_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """No crash loop: an app (re)started on a damaged store builds a new one and answers."""
    settings = Settings(
        onnx_dir=seed_settings.onnx_cache(),
        articles_dir=three_articles(tmp_path / "articles"),
        chroma_dir=tmp_path / "chroma",
        _env_file=None,
    )
    settings.chroma_dir.mkdir()
    (settings.chroma_dir / "chroma.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    started = Assistant.from_settings(settings)  # what `assistant serve` and app.py do
    assert len(started.catalog) == 3
    question, article, expected = QUESTIONS[0]
    assert_answer(started.ask(question, article=article).model_dump(), article, expected)
    assert "could not be read" in caplog.text and "rebuilding" in caplog.text
    assert len(list(tmp_path.glob("chroma.damaged-*"))) == 1
