"""``assistant serve --workers N``, for real: without a Chroma server it refuses in one line;
with one, two worker processes share the port, each answers on its own (the other one
stopped with SIGSTOP meanwhile), and with ``ASSISTANT_METRICS_DIR`` either worker's
/metrics sums the answers of both."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.processes import stop
from tests.conftest import ONNX_CACHE, ROOT, SEED_FILE
from tests.redis_server import free_port
from tests.test_chroma_server import ChromaServer

ANSWERED = "assistant_questions_answered_total"
QUESTIONS = ("What did Orban say?", "Where were the North Korean troops seen?")
UI_READY = "the UI is ready at /"


def clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        ASSISTANT_ONNX_DIR=str(ONNX_CACHE),
        **values,
    )
    return env


def test_workers_without_a_chroma_server_is_a_one_line_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", "serve", "--workers", "2", "--port", "9"],
        env=clean_env(ASSISTANT_CHROMA_DIR=str(tmp_path / "chroma")),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("error: --workers needs a Chroma server (ASSISTANT_CHROMA_URL)")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "chroma").exists()  # refused before anything was opened


def workers_of(parent: int) -> list[int]:
    """The worker processes uvicorn started (its children running the app)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    found = []
    for pid in children:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"multiprocessing" in command and b"resource_tracker" not in command:
            found.append(int(pid))
    return found


@contextmanager
def only(worker: int, others: list[int]) -> Iterator[None]:
    """Every worker but ``worker`` stopped (SIGSTOP) for the block: what is answered on the
    shared port meanwhile, ``worker`` answered. Uvicorn replaces a worker that does not
    answer its ping for 5 s: the block must be shorter."""
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def until(get: str, deadline_s: float = 240) -> httpx.Response:
    """``GET get`` on a fresh connection each time, until a 200 (a worker may still start)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            response = httpx.get(get, timeout=5, headers={"Connection": "close"})
            if response.status_code == 200:
                return response
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no 200 from {get}")
        time.sleep(0.3)


def answered(base: str) -> float:
    text = until(f"{base}/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == ANSWERED
    )


@pytest.mark.slow
def test_two_workers_answer_and_metrics_sum_across_them(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    shutil.copy(SEED_FILE, tmp_path / "articles" / SEED_FILE.name)
    chroma = ChromaServer(tmp_path / "chroma")
    chroma.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(
        ASSISTANT_ARTICLES_DIR=str(tmp_path / "articles"),
        ASSISTANT_CHROMA_URL=chroma.url,
        ASSISTANT_METRICS="open",
        ASSISTANT_METRICS_DIR=str(tmp_path / "metrics"),
        ASSISTANT_RATE_LIMIT="1000/minute",
    )
    log = tmp_path / "serve.log"
    server = None
    try:
        subprocess.run(
            [sys.executable, "-m", "assistant", "index"], env=env, cwd=ROOT, check=True,
            capture_output=True, timeout=600,
        )  # fmt: skip
        command = [sys.executable, "-m", "assistant", "serve", "--workers", "2"]
        command += ["--port", str(port)]
        server = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        # both workers serve their UI (which asks the assistant on the way, counted too)
        deadline = time.monotonic() + 300
        while log.read_text(errors="replace").count(UI_READY) < 2:
            assert time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
            time.sleep(0.5)
        workers = workers_of(server.pid)
        assert len(workers) == 2, log.read_text(errors="replace")[-2000:]
        before = answered(base)
        for worker in workers:
            with only(worker, [w for w in workers if w != worker]):
                for question in QUESTIONS:
                    response = httpx.post(
                        f"{base}/api/ask", json={"question": question},
                        headers={"Connection": "close"}, timeout=4,
                    )  # fmt: skip
                    assert response.status_code == 200, response.text
                    assert response.json()["answer"]
                # what this worker alone answered is counted with the other's
                assert answered(base) - before == len(QUESTIONS) * (workers.index(worker) + 1)
        assert answered(base) - before == 2 * len(QUESTIONS)
    finally:
        if server is not None:
            stop(server)
        chroma.stop()
