"""Warm latency of ``Assistant.ask`` against one bare query embedding, measured in one run.

    .venv/bin/python benchmarks/latency.py [--rounds 5] [--fixtures FILE.jsonl]

Prints a table and writes ``benchmarks/results/latency.json``. The query cache is
cleared before every question, so each answer pays for its own embedding.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def summary(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "min": round(ordered[0], 3),
        "max": round(ordered[-1], 3),
        "n": len(ordered),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--fixtures", type=Path, default=ROOT / "tests/fixtures/north-korean-troops-dev.jsonl"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/latency.json")
    args = parser.parse_args()

    from assistant import Assistant, Settings

    questions = [
        json.loads(line)["question"]
        for line in args.fixtures.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    with tempfile.TemporaryDirectory() as tmp:
        articles = Path(tmp) / "articles"
        shutil.copytree(ROOT / "index/articles", articles)
        settings = Settings(articles_dir=articles, chroma_dir=Path(tmp) / "chroma", _env_file=None)
        assistant = Assistant.from_settings(settings)
        embeddings = assistant.embeddings
        for q in questions:  # warm up: model, store, caches of sentence vectors
            assistant.ask(q)
        ask_ms: list[float] = []
        embed_ms: list[float] = []
        for _ in range(args.rounds):
            for q in questions:
                # interleaved, so both see the same machine load
                start = time.perf_counter()
                embeddings.encode([q])
                embed_ms.append((time.perf_counter() - start) * 1000)
                embeddings.clear_cache()
                start = time.perf_counter()
                assistant.ask(q)
                ask_ms.append((time.perf_counter() - start) * 1000)

    result = {
        "benchmark": "latency",
        "questions": len(questions),
        "rounds": args.rounds,
        "answer_ms": summary(ask_ms),
        "bare_embedding_ms": summary(embed_ms),
        "ratio_answer_p50_to_embedding_p50": round(
            statistics.median(ask_ms) / statistics.median(embed_ms), 3
        ),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{'':22}{'p50':>9}{'p95':>9}{'min':>9}{'max':>9}  (ms, n={len(ask_ms)})")
    rows = (("Assistant.ask", "answer_ms"), ("bare query embedding", "bare_embedding_ms"))
    for name, key in rows:
        row = result[key]
        print(f"{name:22}{row['p50']:9.2f}{row['p95']:9.2f}{row['min']:9.2f}{row['max']:9.2f}")
    print(f"answer p50 / embedding p50 = {result['ratio_answer_p50_to_embedding_p50']:.2f}")
    print(f"written to {args.out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
