"""The web app killed (SIGKILL) in the middle of an ingestion, then started again: the
articles folder and the index agree, and the article can be deleted or sent again.

Real parts: `assistant serve` subprocesses, the bundled model, embedded Chroma, httpx.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.articles import load_articles
from assistant.chain import Assistant
from assistant.config import Settings
from assistant.store import open_store
from tests.conftest import ROOT, seed_articles
from tests.test_faults import TOKEN, assistant_env, wait_for

pytestmark = pytest.mark.slow

ADMIN = {"Authorization": f"Bearer {TOKEN}"}
#: a long article (about 300 paragraphs): embedding it takes seconds
LONG_READ = {
    "id": "long-read",
    "title": "The long read",
    "body": "\n\n".join(
        f"Paragraph {i} of the long read: the council of Velmora{i} met on a Tuesday. "
        f"It approved {i * 3 + 7} repairs near the old mill, said Mayor Ilse Velmora{i}sen."
        for i in range(300)
    ),
}


class App:
    """`assistant serve` in a subprocess on a free port."""

    def __init__(self, settings: Settings, log: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**assistant_env(settings), "ASSISTANT_ADMIN_TOKEN": TOKEN}
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "assistant", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port)],
                stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
            )  # fmt: skip
        wait_for(self._healthy, 240, f"the app to start (log: {self.log})")

    def _healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.base}/api/health", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)  # no chance to finish or clean up
            self.process.wait(timeout=30)
        self.process = None


@contextmanager
def running(app: App) -> Iterator[App]:
    app.start()
    try:
        yield app
    finally:
        app.kill()


def post_in_background(base: str) -> tuple[threading.Thread, list[Any]]:
    """``POST /api/articles`` of ``LONG_READ`` from a thread; its response or error."""
    outcome: list[Any] = []

    def post() -> None:
        try:
            outcome.append(
                httpx.post(f"{base}/api/articles", json=LONG_READ, headers=ADMIN, timeout=300)
            )
        except httpx.HTTPError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    return thread, outcome


def assert_folder_and_index_agree(app: App, settings: Settings) -> set[str]:
    listed = {a["id"] for a in httpx.get(f"{app.base}/api/articles", timeout=30).json()}
    in_folder = {a.id for a in load_articles(settings.articles_dir).articles}
    assert listed == in_folder, f"index {sorted(listed)} but folder {sorted(in_folder)}"
    assert not list(settings.articles_dir.glob(".*.tmp")), "a partial file was read as whole"
    return listed


def test_killed_mid_ingestion_then_restarted(
    tmp_path: Path, embeddings: Any, seed_settings: Settings
) -> None:
    settings = Settings(
        onnx_dir=seed_settings.onnx_cache(),
        articles_dir=seed_articles(tmp_path / "articles"),
        chroma_dir=tmp_path / "chroma",
        feedback_file=tmp_path / "feedback.jsonl",
        _env_file=None,
    )
    Assistant(settings, embeddings, open_store(settings, embeddings)).index()
    app = App(settings, tmp_path / "app.log")
    saved = settings.articles_dir / "long-read.md"

    # killed 2 s into the ingestion (the case), then killed the moment the file is
    # saved (between saving and indexing, when the file already is there)
    for kill_when in ("2 s in", "file saved"):
        with running(app):
            thread, outcome = post_in_background(app.base)
            if kill_when == "2 s in":
                time.sleep(2.0)
            else:
                # (or the POST's answer, should it come first)
                wait_for(lambda o=outcome: saved.exists() or bool(o), 240, "the file saved")
            app.kill()
            thread.join(timeout=30)
        if kill_when == "2 s in":
            assert isinstance(outcome[0], httpx.HTTPError), "the ingestion ended before the kill"

        with running(app):
            assert_folder_and_index_agree(app, settings)

    with running(app):
        listed = assert_folder_and_index_agree(app, settings)
        assert "long-read" in listed  # by now saved, and so indexed at the restart
        answer = httpx.post(
            f"{app.base}/api/ask",
            json={"question": "How many repairs did the council of Velmora12 approve?"},
            timeout=60,
        ).json()
        assert any("43 repairs" in p["text"] for p in answer["passages"]), answer
        deleted = httpx.delete(f"{app.base}/api/articles/long-read", headers=ADMIN, timeout=60)
        assert deleted.status_code == 204, deleted.text
        assert "long-read" not in assert_folder_and_index_agree(app, settings)
