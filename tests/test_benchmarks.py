"""The benchmark harness: the synthetic archive is deterministic and readable, the
summaries are right, and a tiny run writes a valid result."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from assistant.articles import load_articles
from assistant.chunking import split_article
from benchmarks import corpus
from benchmarks.stats import distribution, peak_rss_mb, ratio, spread
from tests.conftest import ROOT


def test_generator_is_deterministic() -> None:
    first = [a.model_dump() for a in corpus.generate(30)]
    again = [a.model_dump() for a in corpus.generate(30)]
    assert first == again
    # article i depends only on (seed, i): a small archive is the start of a large one
    assert corpus.make_article(17) == corpus.make_article(17)
    assert [a.id for a in corpus.generate(5)] == [a.id for a in corpus.generate(30)][:5]
    assert corpus.make_article(3, seed=1).body != corpus.make_article(3, seed=2).body


def test_generated_articles_load_and_vary(tmp_path: Path) -> None:
    corpus.write_corpus(tmp_path, 60)
    loaded = load_articles(tmp_path)
    assert loaded.errors == []
    articles = loaded.articles
    assert len(articles) == 60
    assert len({a.id.rsplit("-", 1)[-1] for a in articles}) >= 8  # topics
    assert len({a.title for a in articles}) >= 55  # a headline may recur, rarely
    text = "\n".join(a.body for a in articles)
    assert "“" in text and "”" in text  # typographic quotes, as in the seed article
    assert re.search(r"[£$€]\d", text) and re.search(r"\d+ percent", text)
    assert re.search(r"\b\d{1,2} (January|March|June|October)\b", text)
    for article in articles:
        paragraphs = article.body.split("\n\n")
        assert 5 <= len(paragraphs) <= 12, article.id
        passages = split_article(article)
        assert len(passages) == len(paragraphs)
        assert all(1 <= len(p.sentences) <= 5 for p in passages), article.id


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([10.0], {"p50": 10.0, "p95": 10.0, "min": 10.0, "max": 10.0, "n": 1}),
        ([1.0, 2.0, 3.0, 4.0], {"p50": 2.5, "min": 1.0, "max": 4.0, "n": 4}),
        (list(range(1, 101)), {"p50": 50.5, "p95": 95.05, "p99": 99.01, "n": 100}),
    ],
)
def test_distribution(samples: list[float], expected: dict[str, float]) -> None:
    summary = distribution(samples)
    assert {key: summary[key] for key in expected} == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([3.0, 1.0, 2.0], {"median": 2.0, "min": 1.0, "max": 3.0, "n": 3}),
        ([None, 4.0], {"median": 4.0, "min": 4.0, "max": 4.0, "n": 1}),
        ([], {"median": None, "min": None, "max": None, "n": 0}),
    ],
)
def test_spread(values: list[float | None], expected: dict[str, float | None]) -> None:
    assert spread(values) == expected


def test_ratio_and_memory() -> None:
    assert ratio(3.0, 2.0) == 1.5
    assert ratio(None, 2.0) is None and ratio(1.0, 0.0) is None
    peak = peak_rss_mb()
    assert peak is not None and peak > 10


@pytest.mark.slow
def benchmarks(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m benchmarks ARGS`` from the repository, without the user's settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_quick_latency_run_writes_valid_json(tmp_path: Path) -> None:
    done = benchmarks(
        *("run", "--quick", "--only", "latency", "--questions", "4", "--out", str(tmp_path)),
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "latency.json").read_text(encoding="utf-8"))
    assert result["benchmark"] == "latency" and result["quick"] is True
    assert result["machine"]["cores"] >= 1 and result["machine"]["python"]
    assert result["settings"]["questions"] == 4
    answer = result["latency_ms"]["answer"]
    assert 0 < answer["p50"]["min"] <= answer["p50"]["median"] <= answer["p50"]["max"]
    assert result["ratios"]["answer_p50 / tutorial_p50"]["median"] > 0
    assert {a["aim"] for a in result["aims"]} >= {"answer under 2x the floor on one article"}
    assert "Assistant.ask" in done.stdout and "Summary" in done.stdout

    # the same result, as the Markdown README "Performance" shows
    tables = benchmarks("tables", "--only", "latency", "--results", str(tmp_path))
    assert tables.returncode == 0, tables.stderr
    assert "| measure | p50 ms | p95 ms |" in tables.stdout
    assert re.search(r"^\| Assistant\.ask \(end to end\) \| [\d.]+ \|", tables.stdout, re.M)
    assert "| answer under 2x the floor on one article |" in tables.stdout


def test_tables_of_a_missing_result_is_one_line_error(tmp_path: Path) -> None:
    done = benchmarks("tables", "--only", "scale", "--results", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.startswith("error: cannot read") and done.stderr.count("\n") == 1


def test_benchmarks_need_nothing_from_the_tests() -> None:
    """The benchmarks ship with the repository's code, not with its test suite."""
    import ast

    found = []
    for path in sorted((ROOT / "benchmarks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            found += [f"{path.name}: {n}" for n in names if n == "tests" or n.startswith("tests.")]
    assert found == []


def test_the_scaling_runs_ask_distinct_questions() -> None:
    from benchmarks.scaling import distinct_questions

    cases = distinct_questions(400)
    questions = [c["question"] for c in cases]
    assert len(questions) == 400 == len(set(questions))  # no answer can come from a cache
    assert all(c["history"] == [] and c["article"] is None for c in cases)
    with pytest.raises(ValueError, match="distinct questions wanted"):
        distinct_questions(100_000)


def test_the_start_table_sets_each_figure_beside_the_bare_process() -> None:
    from benchmarks.start import summarise

    runs = [
        {"load_average_1min": 1.0, "bare_s": 0.5, "ask_s": 1.0, "ask_ratio": 2.0,
         "first_answer_s": 1.5, "ui_ready_s": 5.0, "first_answer_ratio": 3.0,
         "ui_ready_ratio": 10.0},
        {"load_average_1min": 2.0, "bare_s": 0.7, "ask_s": 2.1, "ask_ratio": 3.0,
         "first_answer_s": 2.1, "ui_ready_s": 7.0, "first_answer_ratio": 3.0,
         "ui_ready_ratio": 10.0},
    ]  # fmt: skip
    result = summarise(
        {
            "runs": runs,
            "figures": {k: spread(r[k] for r in runs) for k in runs[0]},
            "ask_top_imports": [{"module": "chromadb", "ms": 700.0}],
        }
    )
    rows = {row[0]: row[1:] for row in result["tables"][0]["rows"]}
    assert rows["`assistant ask`, start to exit"] == ["1.55 [1.00–2.10]", "2.50x [2.00–3.00]"]
    first, ask, ui = result["aims"]
    assert (first["measured"], first["met"]) == (1.8, True)  # under 2 s
    assert (ask["measured"], ask["met"]) == (2.5, False)  # not under 2.5x
    assert ui["report_only"] and ui["measured"] == 10.0
    assert result["tables"][1]["rows"] == [["chromadb", "700"]]


def test_cpu_figures_come_from_proc() -> None:
    from benchmarks.stats import cpu_s, machine_busy_s

    before, machine = cpu_s(), machine_busy_s()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # busy: CPU this process used
        pass
    assert before is not None and machine is not None
    assert (cpu_s() or 0) - before >= 0.15
    assert (machine_busy_s() or 0) - machine >= 0.15  # the machine saw it too
    # another process by its id; a process that is gone has no figure
    assert (cpu_s(os.getpid()) or 0) >= 0.15
    assert cpu_s(2**22 + 1) is None


class _Answers(BaseHTTPRequestHandler):
    """POST /api/ask: 200 with a JSON answer, or 429 for a question that says so."""

    protocol_version = "HTTP/1.1"  # keep-alive, as the load client expects
    connections: set[tuple[str, int]] = set()

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.connections.add(self.client_address)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        status = 429 if "limited" in body["question"] else 200
        answer = json.dumps({"answer": "yes " * 200}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


def test_the_load_client_counts_statuses_and_its_own_cpu() -> None:
    from benchmarks.load import load_run

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        cases = [
            {"question": q, "history": [], "article": None}
            for q in ("one?", "two?", "limited?", "four?")
        ]
        result = load_run(url, cases, clients=2, per_client=4, time_limit_s=30)
    finally:
        server.shutdown()
        server.server_close()
    assert result["statuses"] == {"200": 6, "429": 2} and result["not_sent"] == 0
    assert result["throughput_rps"] > 0 and result["client_cpu_s"] >= 0
    assert result["client_cpu_ms_per_answer"] is not None
    assert len(_Answers.connections) == 2  # one kept-alive connection per client
