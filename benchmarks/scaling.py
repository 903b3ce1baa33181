"""One app process against two, sharing one ``chroma run``: does throughput scale with the
second core? (Part of the load benchmark.)

Both set-ups are the deployment of docs/operations.md on 127.0.0.1: a ``chroma run``
holding the index of the seed article, and N ``assistant serve`` processes pointed at it
(fresh ones for every run, so nothing is cached from an earlier one). The same concurrent
clients post the same distinct questions (fixture questions in several wordings: no
question is asked twice, so the query-vector cache never answers), client ``c`` to
instance ``c mod N``. The load generator shares the machine's cores with the servers
and ``chroma run``, as any client on the same host would; so that a ratio can be read,
each run also records the CPU that the app processes, ``chroma run``, the client and
other jobs on the machine used meanwhile (from /proc).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.latency import DEV, SEED_FILE, TEST, fixture_questions, shared_onnx_env
from benchmarks.load import HIGH_LIMIT, load_run
from benchmarks.processes import HOST, chroma_server, free_port, running, wait_for_ui
from benchmarks.stats import cpu_s, machine_busy_s, progress, spread

#: (clients, questions per client, rounds of [1 process, 2 processes])
SHAPE = {True: (8, 12, 1), False: (16, 25, 5)}
TIME_LIMIT_S = 180.0
PROCESSES = (1, 2)
#: wordings of a question: with the fixtures' questions, more distinct questions than a run asks
WORDINGS = (
    "{q}",
    "Quick question: {q}",
    "Can you tell me: {q}",
    "{q} Thanks.",
    "I read the article. {q}",
    "One more: {q}",
    "Could you check: {q}",
    "{q} I am curious.",
)


def distinct_questions(count: int) -> list[dict[str, Any]]:
    """``count`` different questions (no history, no scope), fixtures' questions reworded."""
    plain = list(
        dict.fromkeys(c["question"] for c in fixture_questions((DEV, TEST)) if not c["history"])
    )
    found = [w.format(q=q) for w in WORDINGS for q in plain]
    if len(found) < count:
        raise ValueError(f"{count} distinct questions wanted, {len(found)} can be made")
    return [{"question": q, "history": [], "article": None} for q in found[:count]]


def _env(root: Path, chroma_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_ARTICLES_DIR=str(root / "articles"),
        ASSISTANT_CHROMA_URL=chroma_url,
        ASSISTANT_FEEDBACK_FILE=str(root / "feedback.jsonl"),
        ASSISTANT_RATE_LIMIT=HIGH_LIMIT,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        **shared_onnx_env(),
    )
    return env


@contextmanager
def instances(env: dict[str, str], count: int, logs: Path) -> Iterator[dict[str, int]]:
    """``count`` ``assistant serve`` processes on free ports, warmed up; their process ids
    by URL."""
    import httpx

    with ExitStack() as stack:
        urls: dict[str, int] = {}
        for _ in range(count):
            port = free_port()
            url = f"http://{HOST}:{port}"
            command = [sys.executable, "-m", "assistant", "serve", "--host", HOST]
            process, _ = stack.enter_context(
                running(
                    [*command, "--port", str(port)],
                    f"{url}/api/health",
                    "assistant serve",
                    env=env,
                    log=logs / f"serve-{port}.log",
                )
            )
            urls[url] = process.pid
        for url in urls:  # UI built, and warmed with a wording not among the measured ones
            wait_for_ui(url)
            for n in range(3):
                body = {"question": f"Warm-up {n}: what did Zelensky ask for?"}
                httpx.post(f"{url}/api/ask", json=body, timeout=60)
        yield urls


def one_run(
    env: dict[str, str],
    count: int,
    root: Path,
    cases: list[dict[str, Any]],
    chroma_pid: int,
    shape: tuple[int, int],
) -> dict[str, Any]:
    """``count`` fresh app processes under the load; the load's figures, and the CPU each
    part used meanwhile (client, app processes, ``chroma run``, the whole machine)."""
    clients, each = shape
    with instances(env, count, root) as apps:
        urls = list(apps)
        targets = [urls[c % count] for c in range(clients)]
        # what else ran on the machine meanwhile (other jobs share its cores)
        load_before = os.getloadavg()[0]
        pids = {"apps": list(apps.values()), "chroma": [chroma_pid]}
        before = _cpu(pids)
        figures = load_run(targets, cases, clients, each, TIME_LIMIT_S)
        after = _cpu(pids)
        figures["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    used = {part: round(after[part] - before[part], 2) for part in before}
    answers = figures["statuses"].get("200", 0)
    figures["cpu_s"] = used
    # per answer, so that runs of any length compare; "others": other jobs on the machine
    figures["cpu_ms_per_answer"] = {
        part: round(1000 * seconds / answers, 2) if answers else None
        for part, seconds in used.items()
        if part != "machine"
    }
    figures["busy_cores"] = {
        part: round(seconds / figures["wall_s"], 2) for part, seconds in used.items()
    }
    return figures


def _cpu(pids: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds so far of this process (the load client), the app processes,
    ``chroma run`` and the whole machine; what is left of the machine's is other jobs'."""
    client = cpu_s() or 0.0
    apps = sum(cpu_s(pid) or 0.0 for pid in pids["apps"])
    chroma = sum(cpu_s(pid) or 0.0 for pid in pids["chroma"])
    machine = machine_busy_s() or 0.0
    return {
        "client": client,
        "apps": apps,
        "chroma": chroma,
        "machine": machine,
        "others": machine - client - apps - chroma,
    }


def measure(quick: bool) -> dict[str, Any]:
    """Both set-ups, alternating (1, 2, 1, 2, ...); each run's figures and their ratios."""
    clients, each, rounds = SHAPE[quick]
    cases = distinct_questions(clients * each)
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in PROCESSES}
    with tempfile.TemporaryDirectory(prefix="bench-scaling-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        (root / "articles").mkdir()
        shutil.copy(SEED_FILE, root / "articles" / SEED_FILE.name)
        with chroma_server(root / "chroma") as (chroma_url, chroma):
            env = _env(root, chroma_url)
            progress("load: indexing the seed article into `chroma run`")
            subprocess.run(
                [sys.executable, "-m", "assistant", "index"],
                env=env,
                check=True,
                capture_output=True,
                timeout=600,
            )
            for r in range(rounds):
                for n in PROCESSES:
                    progress(f"load: {n} app process(es), round {r + 1}/{rounds}")
                    runs[n].append(one_run(env, n, root, cases, chroma.pid, (clients, each)))
    ratios = [
        two["throughput_rps"] / one["throughput_rps"]
        for one, two in zip(runs[1], runs[2], strict=True)
        if one["throughput_rps"]
    ]
    return {
        "settings": {
            "clients": clients,
            "questions_per_client": each,
            "rounds": rounds,
            "distinct_questions": len(cases),
            "store": "chroma run, seed article",
            "rate_limit": HIGH_LIMIT,
        },
        "runs": {str(n): runs[n] for n in PROCESSES},
        "throughput_ratio_2_over_1": spread(ratios),
    }
