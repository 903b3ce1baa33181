"""The same assistant on a real Chroma server (`chroma run`): shared by processes, and
recovering when the server comes back."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.chain import Assistant
from assistant.errors import StoreError
from assistant.schemas import Article
from tests.conftest import ROOT, SEED_ID, seed_articles
from tests.test_retrieval import NAMES_AND_PARAPHRASES

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ChromaServer:
    """A `chroma run` process on 127.0.0.1, stoppable and restartable on the same data."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        self.process = subprocess.Popen(
            [
                chroma,
                "run",
                "--path",
                str(self.data),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("chroma run did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    running = ChromaServer(tmp_path_factory.mktemp("chroma-server"))
    running.start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def shared(server: ChromaServer, tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    from assistant import Settings

    root = tmp_path_factory.mktemp("shared")
    seed_articles(root / "articles")
    settings = Settings(
        articles_dir=root / "articles",
        chroma_dir=root / "unused",
        chroma_url=server.url,
        _env_file=None,
    )
    return Assistant.from_settings(settings)


@pytest.mark.parametrize(("query", "expected"), NAMES_AND_PARAPHRASES)
def test_same_retrieval_on_the_server(shared: Assistant, query: str, expected: str) -> None:
    assert expected in shared.retriever.scoped(SEED_ID).search(query)[0].passage.text


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did Orban say?", "frightening"),
        ("What is Pyongyang said to be readying?", "10,000"),
        ("What did Nauseda criticize?", "slow decision-making"),
    ],
)
def test_answers_from_the_server(shared: Assistant, question: str, expected: str) -> None:
    answer = shared.ask(question, article=SEED_ID)
    assert expected in answer.answer and answer.citations
    assert not shared.settings.chroma_dir.exists()  # nothing was stored locally


def test_another_process_sees_an_added_article(shared: Assistant, server: ChromaServer) -> None:
    shared.add_article(
        Article(
            id="bakery",
            title="Bakery opens",
            body="A bakery opened on Main Street. It sells rye bread.",
        )
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_CHROMA_URL=server.url,
        ASSISTANT_ARTICLES_DIR=str(shared.settings.articles_dir),
        HF_HUB_OFFLINE="1",
    )
    command = ["ask", "What does the bakery sell?", "--article", "bakery", "--json"]
    result = subprocess.run(
        [sys.executable, "-m", "assistant", *command],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "rye bread" in json.loads(result.stdout)["answer"]


def test_a_second_assistant_picks_up_changes(
    shared: Assistant, server: ChromaServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from assistant import Settings

    other = Assistant.from_settings(
        Settings(articles_dir=tmp_path, chroma_url=server.url, _env_file=None)
    )
    shared.add_article(
        Article(id="harbour", title="Harbour", body="The harbour reopened on Friday.")
    )
    assert (
        "reopened on Friday" in other.ask("When did the harbour reopen?", article="harbour").answer
    )
    # a replacement of the same size is noticed too (the store's generation changed)
    shared.add_article(Article(id="harbour", title="Harbour", body="The harbour closed on Monday."))
    assert "closed on Monday" in other.ask("When did the harbour close?", article="harbour").answer
    shared.remove_article("harbour")
    other.refresh_if_changed()
    assert "harbour" not in other.catalog


def test_server_gone_then_back(shared: Assistant, server: ChromaServer) -> None:
    from tests.test_api import serve

    question = {"question": "What did Orban say?", "article": SEED_ID}
    with serve(shared) as app:
        shared.embeddings.clear_cache()
        server.stop()
        with pytest.raises(StoreError, match="vector store"):
            shared.ask("What did Orban say?", article=SEED_ID)
        down = httpx.post(f"{app}/api/ask", json=question, timeout=60)
        assert down.status_code == 503
        assert "vector store" in down.json()["error"]["message"]
        server.start()
        up = httpx.post(f"{app}/api/ask", json=question, timeout=60)
        assert up.status_code == 200 and "frightening" in up.json()["answer"]


def test_requests_to_a_frozen_server_are_bounded(server: ChromaServer) -> None:
    """chromadb's HTTP client waits forever by default; ``set_http_timeout`` bounds it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.chroma_patches import set_http_timeout

    client = chromadb.HttpClient(
        host="127.0.0.1", port=server.port, settings=ChromaSettings(anonymized_telemetry=False)
    )
    assert set_http_timeout(client, 1.0), "chromadb's HTTP session is no longer where it was"
    assert server.process is not None
    server.process.send_signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="(?i)timed? ?out"):
            client.heartbeat()
        assert time.monotonic() - started < 10
    finally:
        server.process.send_signal(signal.SIGCONT)
    assert client.heartbeat()  # the server answers again
