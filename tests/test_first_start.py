"""The first start of a fresh checkout exports the model to ONNX and builds the index, saying
what it does and how far along it is; the next start reuses both, embedding and exporting
nothing. Real processes, the real model, a real export (in a folder of the test's own)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import FIXTURES, ROOT, SEED_FILE
from tests.redis_server import free_port

pytestmark = pytest.mark.slow

ARTICLES = (SEED_FILE, *sorted((FIXTURES / "articles").glob("*.md")))
#: what only a start that does the work says
WORK = ("first start", "exporting", "exported", "embedding article", "indexed article")


def start(command: list[str], env: dict[str, str], log: Path) -> str:
    """Run a web app until it answers /api/health, stop it; what it logged."""
    port = free_port()
    env = {**env, "ASSISTANT_PORT": str(port)}
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
        try:
            deadline = time.monotonic() + 600
            while True:
                assert process.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/api/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.3)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return log.read_text(errors="replace")


def test_first_start_shows_progress_and_the_second_reuses_everything(tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for path in ARTICLES:
        shutil.copy(path, articles / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ASSISTANT_ARTICLES_DIR=str(articles),
        ASSISTANT_CHROMA_DIR=str(tmp_path / "chroma"),
        ASSISTANT_ONNX_DIR=str(tmp_path / "onnx"),  # no export yet: a fresh checkout's
    )
    total = len(ARTICLES)

    first = start([sys.executable, "-m", "assistant", "serve"], env, tmp_path / "first.log")
    steps = [
        "first start: loading the embedding model",
        "exporting the embedding model to ONNX",
        "exported the model in",
        f"embedding articles 1-{total} of {total}",
        f"indexed article {total} of {total}: ",
    ]
    positions = [first.find(step) for step in steps]
    assert -1 not in positions and positions == sorted(positions), first[-3000:]
    (export,) = (tmp_path / "onnx").glob("*/model.onnx")
    exported = export.stat().st_mtime_ns
    store = sorted(p.relative_to(tmp_path) for p in (tmp_path / "chroma").rglob("*"))

    # the second start, the way a newcomer runs it: nothing embedded, nothing exported
    second = start([sys.executable, "app.py"], env, tmp_path / "second.log")
    assert not [w for w in WORK if w in second], second[-3000:]
    assert export.stat().st_mtime_ns == exported
    assert list((tmp_path / "onnx").glob("*/*.onnx")) == [export]
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / "chroma").rglob("*")) == store

    def index() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "assistant", "index"], env=env, cwd=ROOT,
            capture_output=True, text=True, timeout=600, check=True,
        )  # fmt: skip

    again = index()
    assert f"{total} unchanged" in again.stdout and again.stderr == ""

    # one article more: `assistant index` embeds that one, and says so on stderr
    added = articles / "late-article.txt"
    added.write_text("A late article\n\nThe council met on Monday.", encoding="utf-8")
    late = index()
    assert "1 added" in late.stdout
    assert late.stderr.splitlines() == [
        "embedding article 1 of 1 (passages and sentences) ...",
        "indexed article 1 of 1: late-article",
    ]
