"""Processes the benchmarks start: a free port, a server waited for until it answers, a
``chroma run``, and the bare onnxruntime process every start-up figure is set beside."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
#: a large store takes a while to load before its server answers
START_LIMIT_S = 300.0


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    command: Sequence[str],
    ready_url: str,
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    poll_s: float = 0.3,
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Run ``command`` until the block ends; yields the process and the seconds it took to
    answer ``GET ready_url`` with a 200. Its output goes to ``log`` (the end of which is
    in the error when it does not start) or nowhere."""
    import httpx

    sink = log.open("wb") if log else None
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=sink or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if sink else subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                if httpx.get(ready_url, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.perf_counter() - started > START_LIMIT_S:
                tail = log.read_text(errors="replace")[-2000:] if log else ""
                raise RuntimeError(f"{what} did not start\n{tail}".strip())
            time.sleep(poll_s)
        yield process, time.perf_counter() - started
    finally:
        stop(process)
        if sink:
            sink.close()


def stop(process: subprocess.Popen[Any]) -> None:
    """Terminate ``process``; kill it when it has not ended 30 s later."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_ui(url: str, limit_s: float = START_LIMIT_S) -> float:
    """Seconds until ``GET url/`` serves the Gradio UI (built after the API answers: a
    measurement started before would share the cores with Gradio's import)."""
    import httpx

    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        try:
            if httpx.get(f"{url}/", timeout=10).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the UI at {url}/ was not ready within {limit_s:.0f} s")


@contextmanager
def chroma_server(data: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A ``chroma run`` on 127.0.0.1 serving ``data``; its URL and process."""
    port = free_port()
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    url = f"http://{HOST}:{port}"
    command = [chroma, "run", "--path", str(data), "--host", HOST, "--port", str(port)]
    with running(command, f"{url}/api/v2/heartbeat", "chroma run") as (process, _):
        yield url, process


#: a new process that embeds one question with onnxruntime and nothing else: the floor of
#: any command that answers one (the same export, tokenizer and one-thread session as
#: ``assistant.onnx_embedder``, without the assistant)
BARE_EMBEDDING = """
import json, sys
from pathlib import Path
import numpy as np, onnxruntime
from tokenizers import Tokenizer
model_dir, model, question = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
meta = json.loads((model.parent / "meta.json").read_text(encoding="utf-8"))
tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
tokenizer.enable_truncation(max_length=int(meta["max_seq_length"]))
options = onnxruntime.SessionOptions()
options.intra_op_num_threads = options.inter_op_num_threads = 1
session = onnxruntime.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
(encoded,) = tokenizer.encode_batch([question])
feeds = {
    "input_ids": np.array([encoded.ids], dtype=np.int64),
    "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
    "token_type_ids": np.array([encoded.type_ids], dtype=np.int64),
}
(vector,) = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})
assert vector.shape[0] == 1
"""


def bare_embedding_s(
    model_dir: Path, export: Path, question: str, env: Mapping[str, str] | None = None
) -> float:
    """Seconds a new Python process takes to embed ``question`` with onnxruntime alone
    (``BARE_EMBEDDING``), from its start to its exit."""
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", BARE_EMBEDDING, str(model_dir), str(export), question],
        env=dict(env) if env is not None else None,
        check=True,
        timeout=120,
    )
    return time.perf_counter() - started
