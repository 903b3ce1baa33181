"""Servers the benchmarks start: a free port, and a process waited for until it answers."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

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
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if sink:
            sink.close()
