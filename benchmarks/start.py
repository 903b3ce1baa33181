"""How soon a new process is useful, each figure beside a bare onnxruntime process.

With a built index of the seed article (built once, before the rounds), each round
measures, in turn:

- ``bare``: a new Python process that embeds one question with onnxruntime and nothing
  else (``processes.BARE_EMBEDDING``): the floor of any process that answers a question;
- ``assistant ask`` from a new process to its exit, and its ratio to the ``bare`` run
  just before it;
- ``assistant serve``: from starting the process to its first answer of ``/api/ask``
  (polled every 20 ms), and to the UI being ready (``GET /`` serves Gradio's page, no
  longer the "starting" one), each divided by the ``bare`` run just before it.

A ratio is of two figures of the same round (the machine is shared: absolute seconds move
with its load, ratios much less); the table gives each as the median over the rounds with
its min–max. ``-X importtime`` of one more ``assistant ask`` names its costliest imports.

``python -m benchmarks run --only start`` (``--quick``: 2 rounds instead of 5).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.embedding import import_costs
from benchmarks.latency import ONNX_CACHE, SEED_FILE
from benchmarks.processes import HOST, bare_embedding_s, free_port, stop
from benchmarks.stats import ROOT, aim, progress, spread

QUESTION = "What did Orban say?"
ROUNDS = {True: 2, False: 5}
#: a start that takes longer has failed
START_LIMIT_S = 180.0
POLL_S = 0.02
#: the issue's aims: first answer within 2 s, `assistant ask` under 2.5x the bare process
FIRST_ANSWER_AIM_S = 2.0
ASK_RATIO_AIM = 2.5
FIGURES = ("ask_s", "first_answer_s", "ui_ready_s")


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_ARTICLES_DIR=str(root / "articles"),
        ASSISTANT_CHROMA_DIR=str(root / "chroma"),
        ASSISTANT_FEEDBACK_FILE=str(root / "feedback.jsonl"),
        ASSISTANT_ONNX_DIR=str(ONNX_CACHE),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    return env


def _assistant(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"assistant {args[0]} failed: {done.stderr.strip()[-800:]}")
    return done


def ask_s(env: dict[str, str]) -> float:
    """Seconds from starting ``assistant ask`` to its exit (the answer printed)."""
    started = time.perf_counter()
    _assistant(["ask", QUESTION], env)
    return time.perf_counter() - started


def serve_s(env: dict[str, str], log: Path) -> dict[str, float]:
    """Seconds from starting ``assistant serve`` to its first /api/ask answer and to its UI."""
    import httpx  # imported before the clock starts

    port = free_port()
    base = f"http://{HOST}:{port}"
    command = [sys.executable, "-m", "assistant", "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as sink:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
        try:
            with httpx.Client(timeout=30) as client:
                first = _until(process, log, started, lambda: _answers(client, base))
                ready = _until(process, log, started, lambda: _ui_ready(client, base))
        finally:
            stop(process)
    return {"first_answer_s": first, "ui_ready_s": ready}


def _answers(client: Any, base: str) -> bool:
    import httpx

    try:
        response = client.post(f"{base}/api/ask", json={"question": QUESTION})
    except httpx.TransportError:  # not listening yet
        return False
    return bool(response.status_code == 200 and response.json().get("answer"))


def _ui_ready(client: Any, base: str) -> bool:
    response = client.get(f"{base}/")
    return bool(response.status_code == 200 and "gradio" in response.text.lower())


def _until(process: subprocess.Popen[bytes], log: Path, started: float, done: Any) -> float:
    """Poll ``done()`` until it is true; the seconds since ``started`` when it was."""
    while not done():
        if process.poll() is not None or time.perf_counter() - started > START_LIMIT_S:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"assistant serve did not get there\n{tail}")
        time.sleep(POLL_S)
    return time.perf_counter() - started


def one_round(env: dict[str, str], floor: tuple[Path, Path], log: Path) -> dict[str, float]:
    """One round: bare, ask, bare, serve; each figure and its ratio to the bare run before it."""
    bare_ask = bare_embedding_s(*floor, QUESTION, env)
    asked = ask_s(env)
    bare_serve = bare_embedding_s(*floor, QUESTION, env)
    served = serve_s(env, log)
    figures = {
        "load_average_1min": os.getloadavg()[0],  # other jobs on the machine's cores
        "bare_s": (bare_ask + bare_serve) / 2,
        "ask_s": asked,
        "ask_ratio": asked / bare_ask,
        **served,
        "first_answer_ratio": served["first_answer_s"] / bare_serve,
        "ui_ready_ratio": served["ui_ready_s"] / bare_serve,
    }
    return {k: round(v, 3) for k, v in figures.items()}


def run(quick: bool) -> dict[str, Any]:
    """The rounds against a built index of the seed article; the result for ``start.json``."""
    from assistant.config import Settings
    from assistant.onnx_embedder import export_path

    rounds = ROUNDS[quick]
    model_dir = Settings(_env_file=None).model_dir()
    floor = (model_dir, export_path(model_dir, ONNX_CACHE))
    with tempfile.TemporaryDirectory(prefix="bench-start-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        (root / "articles").mkdir()
        shutil.copy(SEED_FILE, root / "articles" / SEED_FILE.name)
        env = _env(root)
        progress("start: indexing the seed article (assistant index)")
        _assistant(["index"], env)  # also exports the model to ONNX when it is not cached
        if not floor[1].is_file():
            raise RuntimeError(f"no ONNX export at {floor[1]} for the bare process")
        runs = []
        for r in range(rounds):
            progress(f"start: round {r + 1}/{rounds}")
            runs.append(one_round(env, floor, root / f"serve-{r}.log"))
        trace = _assistant(["ask", QUESTION], {**env, "PYTHONPROFILEIMPORTTIME": "1"}).stderr
    result: dict[str, Any] = {
        "settings": {"question": QUESTION, "rounds": rounds, "store": "embedded, seed article"},
        "runs": runs,
        "figures": {k: spread(r[k] for r in runs) for k in runs[0]},
        "ask_top_imports": import_costs(trace, 8),
    }
    return summarise(result)


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    """Aims and tables."""
    figures = result["figures"]
    first, ask_ratio = figures["first_answer_s"]["median"], figures["ask_ratio"]["median"]
    result["aims"] = [
        aim(
            "web app: first /api/ask answer within 2 s of starting (built index)",
            first,
            f"first_answer_s < {FIRST_ANSWER_AIM_S:g}",
            first < FIRST_ANSWER_AIM_S,
        ),
        aim(
            "assistant ask from a new process, against a bare onnxruntime process",
            ask_ratio,
            f"ask_s / bare_s < {ASK_RATIO_AIM:g}",
            ask_ratio < ASK_RATIO_AIM,
        ),
        aim(
            "web app: UI ready, against a bare onnxruntime process",
            figures["ui_ready_ratio"]["median"],
            "ui_ready_s / bare_s (reported)",
            None,
            report_only=True,
        ),
    ]
    labels = {
        "ask_s": "`assistant ask`, start to exit",
        "first_answer_s": "`assistant serve`, start to first /api/ask answer",
        "ui_ready_s": "`assistant serve`, start to UI ready (GET / is Gradio's page)",
    }
    rows = [
        ["bare onnxruntime process embedding one question", _fig(figures["bare_s"]), "1.00x"],
        *[
            [labels[k], _fig(figures[k]), _fig(figures[k.replace("_s", "_ratio")], "x")]
            for k in FIGURES
        ],
        [
            "the machine's load average (1 min; 2 cores, other jobs)",
            _fig(figures["load_average_1min"]),
            "",
        ],
    ]
    imports = [[r["module"], f"{r['ms']:.0f}"] for r in result["ask_top_imports"]]
    result["tables"] = [
        {
            "title": f"Start: new process to useful, {len(result['runs'])} rounds "
            "(s, and the ratio to the bare process of the same round; median [min–max])",
            "columns": ["measure", "seconds", "/ bare process"],
            "rows": rows,
        },
        {
            "title": "Start: the costliest imports of `assistant ask` (-X importtime, one run)",
            "columns": ["module (imported by the program itself)", "ms"],
            "rows": imports,
        },
    ]
    return result


def _fig(figure: dict[str, Any], unit: str = "") -> str:
    if figure.get("median") is None:
        return "—"
    if figure["n"] == 1:
        return f"{figure['median']:.2f}{unit}"
    return f"{figure['median']:.2f}{unit} [{figure['min']:.2f}–{figure['max']:.2f}]"
