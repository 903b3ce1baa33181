"""The web app under concurrent clients: throughput, latency, errors and memory.

The real app (``python -m assistant serve``) runs in its own process on 127.0.0.1 with
a store of the seed article. Concurrent clients (16 x 50 questions in the full run,
4 x 10 in the quick one) post the fixture questions to ``/api/ask``:

1. with a rate limit high enough that the load is served, not refused: throughput,
   p50/p95/p99, status counts; any non-200 is an error. Repeated, each repeat a figure.
2. with the default limit (30/minute per client; every client here is 127.0.0.1, so
   one bucket): the excess must come back as 429 and nothing else.

3. one app process against two sharing a ``chroma run``, with distinct questions
   (``scaling.py``): throughput and p50/p95 of each, and their ratio.

Every run is bounded in requests and in time (``TIME_LIMIT_S``): whatever happens, the
clients stop. Each app's UI is built before its load starts. The server's peak memory
is read from /proc (VmHWM).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.latency import DEV, SEED_FILE, TEST, fixture_questions, shared_onnx_env
from benchmarks.processes import HOST, free_port, running, wait_for_ui
from benchmarks.stats import aim, cpu_s, distribution, peak_rss_mb, progress, rss_mb, spread

#: (clients, questions per client, repeats)
SHAPE = {True: (4, 10, 2), False: (16, 50, 3)}
#: default-limit run: enough questions to spend the 30-question burst and more
LIMITED_SHAPE = {True: (4, 12), False: (8, 10)}
TIME_LIMIT_S = {True: 60.0, False: 120.0}
REQUEST_TIMEOUT_S = 30.0
HIGH_LIMIT = "1000000/minute"
DEFAULT_LIMIT = "30/minute"


def _env(root: Path, rate_limit: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        {
            "ASSISTANT_ARTICLES_DIR": str(root / "articles"),
            "ASSISTANT_CHROMA_DIR": str(root / "chroma"),
            "ASSISTANT_FEEDBACK_FILE": str(root / "feedback.jsonl"),
            "ASSISTANT_RATE_LIMIT": rate_limit,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            **shared_onnx_env(),
        }
    )
    return env


def build_index(root: Path) -> None:
    """``assistant index`` in its own process, so the server's peak memory is serving alone."""
    subprocess.run(
        [sys.executable, "-m", "assistant", "index"],
        env=_env(root, DEFAULT_LIMIT),
        check=True,
        stdout=subprocess.DEVNULL,
        timeout=600,
    )


@contextmanager
def web_app(root: Path, rate_limit: str) -> Iterator[tuple[str, subprocess.Popen[bytes], float]]:
    """``assistant serve`` on a free port of 127.0.0.1; its URL, process and start-up time.

    Its output is kept in ``root`` (``server_errors`` reads it when a request failed).
    """
    port = free_port()
    url = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "assistant", "serve", "--host", HOST, "--port", str(port)]
    with running(
        command,
        f"{url}/api/health",
        "the web app",
        env=_env(root, rate_limit),
        log=root / f"server-{port}.log",
    ) as (process, start_s):
        wait_for_ui(url)  # Gradio's import, after the API answers, would share the cores
        yield url, process, start_s


async def _client(
    url: str,
    bodies: Sequence[dict[str, Any]],
    deadline: float,
    records: list[tuple[int | str, float]],
) -> None:
    # aiohttp rather than httpx: the clients share the machine's 2 cores with the servers,
    # and an aiohttp request costs the client about a third of an httpx one's CPU (the
    # results' client_cpu_ms_per_answer), which is left to the servers
    import aiohttp

    # one connection per client, kept alive, as a browser tab would hold
    connector = aiohttp.TCPConnector(limit=1)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
        for body in bodies:
            if time.monotonic() > deadline:
                return
            started = time.perf_counter()
            try:
                async with client.post(f"{url}/api/ask", json=body) as response:
                    await response.read()  # the whole answer, as a reader's page gets it
                    status: int | str = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                status = type(exc).__name__
            records.append((status, (time.perf_counter() - started) * 1000))


def load_run(
    url: str | Sequence[str],
    cases: Sequence[dict[str, Any]],
    clients: int,
    per_client: int,
    time_limit_s: float,
) -> dict[str, Any]:
    """``clients`` concurrent clients each posting ``per_client`` questions; what came back.

    ``url`` is the app's, or one per client (several instances, each client to its own).
    """
    urls = [url] * clients if isinstance(url, str) else list(url)
    records: list[tuple[int | str, float]] = []
    bodies = [
        [
            {
                "question": case["question"],
                "history": case["history"],
                **({"article": case["article"]} if case["article"] else {}),
            }
            for case in (cases[(c * per_client + j) % len(cases)] for j in range(per_client))
        ]
        for c in range(clients)
    ]

    async def everyone() -> None:
        deadline = time.monotonic() + time_limit_s
        tasks = [
            asyncio.create_task(_client(u, b, deadline, records))
            for u, b in zip(urls, bodies, strict=True)
        ]
        # the hard bound: a hung request cannot hold the run past the limit (plus a timeout)
        _, pending = await asyncio.wait(tasks, timeout=time_limit_s + REQUEST_TIMEOUT_S)
        for task in pending:
            task.cancel()

    started, client_cpu = time.perf_counter(), cpu_s()
    asyncio.run(everyone())
    wall_s = time.perf_counter() - started
    client_cpu_used = (cpu_s() or 0.0) - (client_cpu or 0.0)
    statuses = Counter(str(status) for status, _ in records)
    ok = [ms for status, ms in records if status == 200]
    return {
        # the clients' own CPU (this process), taken from the cores the servers share
        "client_cpu_s": round(client_cpu_used, 2),
        "client_cpu_ms_per_answer": round(1000 * client_cpu_used / len(ok), 2) if ok else None,
        "clients": clients,
        "questions_per_client": per_client,
        "planned": clients * per_client,
        "sent": len(records),
        "wall_s": round(wall_s, 2),
        "throughput_rps": round(len(ok) / wall_s, 2) if wall_s else None,
        "latency_ms_200": distribution(ok),
        "statuses": dict(statuses),
        "rate_limited_429": statuses.get("429", 0),
        "not_sent": clients * per_client - len(records),
    }


def _warm(url: str, cases: Sequence[dict[str, Any]]) -> None:
    import httpx

    for case in cases[:5]:
        httpx.post(f"{url}/api/ask", json={"question": case["question"]}, timeout=60)


def run(quick: bool) -> dict[str, Any]:
    """Both load runs against a fresh web app; the result for ``load.json``."""
    clients, per_client, repeats = SHAPE[quick]
    limited_clients, limited_per_client = LIMITED_SHAPE[quick]
    time_limit = TIME_LIMIT_S[quick]
    cases = fixture_questions((DEV, TEST))
    result: dict[str, Any] = {
        "settings": {
            "target": f"{HOST}, /api/ask",
            "clients": clients,
            "questions_per_client": per_client,
            "repeats": repeats,
            "time_limit_s": time_limit,
            "request_timeout_s": REQUEST_TIMEOUT_S,
            "high_rate_limit": HIGH_LIMIT,
            "default_rate_limit": DEFAULT_LIMIT,
            "limited_clients": limited_clients,
            "limited_questions_per_client": limited_per_client,
            "questions": "tests/fixtures/north-korean-troops-{dev,test}.jsonl, in turn",
            "client_process_cores_shared": True,
        }
    }
    with tempfile.TemporaryDirectory(prefix="bench-load-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        (root / "articles").mkdir()
        shutil.copy(SEED_FILE, root / "articles" / SEED_FILE.name)

        progress("load: indexing the seed article (assistant index)")
        build_index(root)
        progress(f"load: starting the web app (rate limit {HIGH_LIMIT})")
        with web_app(root, HIGH_LIMIT) as (url, process, start_s):
            progress(f"load: up in {start_s:.1f} s at {url}")
            _warm(url, cases)
            runs = []
            for r in range(repeats):
                progress(f"load: run {r + 1}/{repeats}: {clients} clients x {per_client}")
                runs.append(load_run(url, cases, clients, per_client, time_limit))
            result["served"] = {
                "runs": runs,
                "start_s": round(start_s, 2),
                "server_peak_rss_mb": peak_rss_mb(process.pid),
                "server_rss_mb_after": rss_mb(process.pid),
                "throughput_rps": spread(r["throughput_rps"] for r in runs),
                "p50_ms": spread(r["latency_ms_200"].get("p50") for r in runs),
                "p95_ms": spread(r["latency_ms_200"].get("p95") for r in runs),
                "p99_ms": spread(r["latency_ms_200"].get("p99") for r in runs),
                "errors": sum(_errors(r, allow_429=False) for r in runs),
            }

        progress(f"load: restarting the web app with the default limit ({DEFAULT_LIMIT})")
        with web_app(root, DEFAULT_LIMIT) as (url, process, start_s):
            limited = load_run(url, cases, limited_clients, limited_per_client, time_limit)
            limited["server_peak_rss_mb"] = peak_rss_mb(process.pid)
            limited["errors"] = _errors(limited, allow_429=True)
            result["rate_limited"] = limited
        if result["served"]["errors"] or limited["errors"]:
            # what the server said about them, before its folder is deleted
            result["server_errors"] = {
                log.name: server_errors(log) for log in sorted(root.glob("server-*.log"))
            }
            for name, lines in result["server_errors"].items():
                progress(f"load: {name}:\n" + "\n".join(lines))
    from benchmarks.scaling import measure

    result["scaling"] = measure(quick)
    return summarise(result)


def server_errors(log: Path, most: int = 80) -> list[str]:
    """The server log from its first error line or traceback on: all of it up to ``most``
    lines, else its first and last lines (a traceback's cause is at its end)."""
    lines = log.read_text(errors="replace").splitlines()
    marks = ("ERROR", "Traceback")
    start = next((i for i, line in enumerate(lines) if any(m in line for m in marks)), None)
    if start is None:
        return []
    found = lines[start:]
    if len(found) <= most:
        return found
    head = most // 4
    return [
        *found[:head],
        f"... {len(found) - most:,} lines left out ...",
        *found[-(most - head) :],
    ]


def _errors(run_result: dict[str, Any], allow_429: bool) -> int:
    """Responses that are neither 200 nor (when intended) 429, plus questions never sent."""
    allowed = {"200", "429"} if allow_429 else {"200"}
    bad = sum(n for status, n in run_result["statuses"].items() if status not in allowed)
    return bad + run_result["not_sent"]


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Aims and the table."""
    served, limited = result["served"], result["rate_limited"]
    result["aims"] = [
        aim(
            "no errors under concurrent load",
            served["errors"],
            "non-200 responses and unsent questions = 0",
            served["errors"] == 0,
        ),
        aim(
            "default rate limit: only intended 429s",
            limited["errors"],
            "429s > 0, every other response 200",
            limited["errors"] == 0 and limited["rate_limited_429"] > 0,
        ),
    ]
    first = served["runs"][0]
    rows: list[list[Any]] = [
        [
            f"{first['clients']}x{first['questions_per_client']}, high limit, "
            f"{len(served['runs'])} runs",
            _fig(served["throughput_rps"]),
            _fig(served["p50_ms"]),
            _fig(served["p95_ms"]),
            _fig(served["p99_ms"]),
            _statuses([s for r in served["runs"] for s in r["statuses"].items()]),
            str(served["errors"]),
            f"{served['server_peak_rss_mb']}",
        ],
        [
            f"{limited['clients']}x{limited['questions_per_client']}, limit {DEFAULT_LIMIT}",
            f"{limited['throughput_rps']}",
            _num(limited["latency_ms_200"].get("p50")),
            _num(limited["latency_ms_200"].get("p95")),
            _num(limited["latency_ms_200"].get("p99")),
            _statuses(list(limited["statuses"].items())),
            str(limited["errors"]),
            f"{limited['server_peak_rss_mb']}",
        ],
    ]
    result["tables"] = [
        {
            "title": "Load: web app on 127.0.0.1, POST /api/ask (ms of 200s; median [min–max])",
            "columns": ["run", "answers/s", "p50", "p95", "p99", "statuses", "errors", "peak MiB"],
            "rows": rows,
        }
    ]
    if "scaling" in result:
        scaling_summary(result)
    return result


#: the issue's aim: two app processes answer at least this many times what one does
SCALING_AIM = 1.6


def scaling_summary(result: dict[str, Any]) -> None:
    """The aims and the table of one app process against two (``scaling.py``)."""
    scaling = result["scaling"]
    shape = scaling["settings"]
    rows = []
    errors = 0
    for n, runs in scaling["runs"].items():
        errors += sum(_errors(r, allow_429=False) for r in runs)
        rows.append(
            [
                f"{n} app process{'es' if n != '1' else ''}",
                _fig(spread(r["throughput_rps"] for r in runs)),
                _fig(spread(r["latency_ms_200"].get("p50") for r in runs)),
                _fig(spread(r["latency_ms_200"].get("p95") for r in runs)),
                _statuses([s for r in runs for s in r["statuses"].items()]),
                str(sum(_errors(r, allow_429=False) for r in runs)),
                *_cpu_cells(runs),
            ]
        )
    ratio = scaling["throughput_ratio_2_over_1"]
    busy = spread(
        a for runs in scaling["runs"].values() for r in runs for a in r.get("load_average_1min", [])
    )
    rows.append(["answers/s, 2 processes / 1 (same round)", _fig(ratio, "x"), *[""] * 8])
    result["tables"].append(
        {
            "title": f"Load: 1 and 2 app processes sharing one `chroma run`, {shape['clients']} "
            f"clients x {shape['questions_per_client']} distinct questions, "
            f"{shape['rounds']} round(s), the machine's load average {_fig(busy)} "
            "(2 cores, shared with other jobs) (ms of 200s; median [min–max])",
            "columns": [
                "app processes",
                "answers/s",
                "p50",
                "p95",
                "statuses",
                "errors",
                "CPU ms/answer: apps",
                "chroma run",
                "load client",
                "cores busy: ours / other jobs'",
            ],
            "rows": rows,
        }
    )
    result["aims"] += [
        aim(
            "two app processes: throughput against one (2 cores, shared with other jobs)",
            ratio["median"],
            f"answers/s of 2 / of 1 >= {SCALING_AIM:g}",
            ratio["median"] is not None and ratio["median"] >= SCALING_AIM,
        ),
        aim("no errors with 1 and 2 app processes", errors, "= 0", errors == 0),
    ]


def _cpu_cells(runs: Sequence[dict[str, Any]]) -> list[str]:
    """Where the CPU went: per answer for the app processes, ``chroma run`` and the load
    client; and how many of the machine's cores were busy with them and with other jobs."""
    if not all("cpu_ms_per_answer" in r for r in runs):  # results of before they were measured
        return ["—"] * 4
    per_answer = [
        _fig(spread(r["cpu_ms_per_answer"][part] for r in runs))
        for part in ("apps", "chroma", "client")
    ]
    ours = spread(
        r["busy_cores"]["apps"] + r["busy_cores"]["chroma"] + r["busy_cores"]["client"]
        for r in runs
    )
    others = spread(r["busy_cores"]["others"] for r in runs)
    return [*per_answer, f"{_num(ours['median'], 2)} / {_num(others['median'], 2)}"]


def _fig(figure: dict[str, Any], unit: str = "") -> str:
    if figure.get("median") is None:
        return "—"
    digits = 2 if unit == "x" else 1
    if figure["n"] == 1:
        return f"{figure['median']:.{digits}f}{unit}"
    return (
        f"{figure['median']:.{digits}f}{unit} "
        f"[{figure['min']:.{digits}f}–{figure['max']:.{digits}f}]"
    )


def _num(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _statuses(items: Sequence[tuple[str, int]]) -> str:
    total: Counter[str] = Counter()
    for status, n in items:
        total[status] += n
    return ", ".join(f"{status}: {n}" for status, n in sorted(total.items()))
