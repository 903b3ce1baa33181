"""How the assistant grows with the archive: the seed article among N synthetic ones.

1. The seed article alone: its test fixtures' quality and the query latency, as the
   reference of this run.
2. N synthetic articles (``benchmarks.corpus``) plus the seed article, indexed through
   the real ``Assistant.index`` path: index time, passages per second, store size on
   disk, peak memory while indexing, time to open the built store.
3. Embedded Chroma: query p50/p95 scoped to the seed article and across the whole
   archive; the seed's test fixtures once scoped (as written) and once with the scope
   removed, against the seed-alone figures.
4. A ``chroma run`` server on a copy of the same persisted store (nothing is embedded
   twice): the same queries and fixtures, and the server's peak memory.

The test fixtures are only reported here, never tuned on.
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.corpus import write_corpus
from benchmarks.latency import DEV, SEED_FILE, SEED_ID, TEST, fixture_questions, shared_onnx
from benchmarks.processes import chroma_server
from benchmarks.stats import (
    aim,
    distribution,
    folder_size_mb,
    peak_rss_mb,
    progress,
    ratio,
    reset_peak_rss,
    rss_mb,
    spread,
)

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.embeddings import LocalEmbeddings

ARTICLES = {True: 1_000, False: 10_000}
ROUNDS = {True: 2, False: 3}
#: the fixture metrics shown in the quality table (all are in the JSON)
KEY_METRICS = (
    "key_fact_recall",
    "evidence_recall_at_k",
    "mrr",
    "citation_precision",
    "answer_rate",
    "abstention_rate",
    "supported_sentence_rate",
)
#: "keep their quality": a scoped metric may not drop by more than this
QUALITY_TOLERANCE = 0.01


def open_assistant(settings: Settings, embeddings: LocalEmbeddings) -> Assistant:
    """An ``Assistant`` on ``settings``' store, sharing an already loaded model."""
    from assistant.chain import Assistant
    from assistant.store import open_store

    assistant = Assistant(settings, embeddings, open_store(settings, embeddings))
    assistant.refresh()
    return assistant


def query_latency(
    assistant: Assistant, questions: Sequence[str], rounds: int
) -> dict[str, dict[str, Any]]:
    """p50/p95 per round of asking ``questions`` scoped to the seed article and across all."""
    per_round: dict[str, list[dict[str, float]]] = {"scoped": [], "all": []}
    for question in questions[:5]:  # warm: query plans, sentence-vector cache
        assistant.ask(question, article=SEED_ID)
        assistant.ask(question)
    for _ in range(rounds):
        times: dict[str, list[float]] = {"scoped": [], "all": []}
        for question in questions:
            for scope, article in (("scoped", SEED_ID), ("all", None)):
                assistant.embeddings.clear_cache()  # measure the model, not the cache
                started = time.perf_counter()
                assistant.ask(question, article=article)
                times[scope].append((time.perf_counter() - started) * 1000)
        for scope, samples in times.items():
            per_round[scope].append(distribution(samples))
    return {
        scope: {
            "p50": spread(d["p50"] for d in dists),
            "p95": spread(d["p95"] for d in dists),
        }
        for scope, dists in per_round.items()
    }


def fixture_quality(assistant: Assistant, k: int) -> dict[str, dict[str, float | None]]:
    """The seed test fixtures' metrics: "scoped" over the cases that name the seed article
    (asked as written), "all" over every case with its scope removed.

    A case without a scope (an off-topic or injection question) searches the whole archive
    even "as written", so it belongs with "all", not with the scoped aim.
    """
    from assistant.evaluation.fixtures import load_cases
    from assistant.evaluation.metrics import compute_metrics
    from assistant.evaluation.runner import run_cases, warm_up

    cases = load_cases([TEST])
    scoped = [case for case in cases if case.article]
    unscoped = [case.model_copy(update={"article": None}) for case in cases]
    warm_up(assistant)
    return {
        "scoped": compute_metrics(run_cases(assistant, scoped), k) | {"cases": len(scoped)},
        "all": compute_metrics(run_cases(assistant, unscoped), k) | {"cases": len(unscoped)},
    }


def measure_store(
    label: str, assistant: Assistant, questions: Sequence[str], rounds: int, k: int
) -> dict[str, Any]:
    """Query latency and fixture quality on one open store."""
    progress(f"scale: {label}: query latency ({len(questions)} questions x {rounds} rounds)")
    reset_peak_rss()
    latency = query_latency(assistant, questions, rounds)
    progress(f"scale: {label}: the seed's test fixtures, scoped and across all")
    quality = fixture_quality(assistant, k)
    return {"query_ms": latency, "quality": quality, "peak_rss_mb_querying": peak_rss_mb()}


def run(quick: bool, articles: int | None = None) -> dict[str, Any]:
    """Index the seed article among N synthetic ones and measure; the result for scale.json."""
    from assistant import Settings
    from assistant.embeddings import load_embeddings

    n = ARTICLES[quick] if articles is None else articles
    rounds = ROUNDS[quick]
    questions = [c["question"] for c in fixture_questions((DEV,)) if not c["history"]]
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        base = shared_onnx(Settings(_env_file=None))
        embeddings = load_embeddings(base)

        # -- the seed article alone: this run's reference -------------------------------
        seed_settings = _settings(base, root / "seed", n_synthetic=0)
        progress("scale: the seed article alone")
        seed = open_assistant(seed_settings, embeddings)
        seed.index()
        result["seed_alone"] = measure_store(
            "seed alone", seed, questions, rounds, seed_settings.top_k
        )
        del seed

        # -- the archive -----------------------------------------------------------------
        settings = _settings(base, root / "archive", n_synthetic=n)
        progress(f"scale: {n:,} synthetic articles written to {settings.articles_dir}")
        assistant = open_assistant(settings, embeddings)
        gc.collect()
        reset_peak_rss()
        started = time.perf_counter()
        assistant.index(progress=_index_progress(n + 1))
        index_s = time.perf_counter() - started
        index_peak = peak_rss_mb()
        passages = assistant.store.passages()
        sentences = sum(len(p.sentences) for p in passages)
        result["index"] = {
            "articles": n + 1,
            "synthetic_articles": n,
            "passages": len(passages),
            "sentences": sentences,
            "vectors": len(passages) + sentences,
            "index_s": round(index_s, 1),
            "passages_per_s": round(len(passages) / index_s, 1),
            "vectors_per_s": round((len(passages) + sentences) / index_s, 1),
            "store_mb": folder_size_mb(settings.chroma_dir),
            "articles_mb": folder_size_mb(settings.articles_dir),
            "peak_rss_mb_indexing": index_peak,
        }
        del passages
        del assistant
        gc.collect()

        # -- embedded Chroma -------------------------------------------------------------
        started = time.perf_counter()
        assistant = open_assistant(settings, embeddings)
        open_s = time.perf_counter() - started
        embedded = measure_store("embedded Chroma", assistant, questions, rounds, settings.top_k)
        embedded["open_s"] = round(open_s, 2)
        embedded["rss_mb_open"] = rss_mb()
        result["embedded"] = embedded
        del assistant
        gc.collect()

        # -- a chroma run server on a copy of the same store -----------------------------
        served = root / "served-chroma"
        shutil.copytree(settings.chroma_dir, served)
        progress("scale: starting `chroma run` on a copy of the store")
        with chroma_server(served) as (url, process):
            server_settings = settings.model_copy(update={"chroma_url": url})
            started = time.perf_counter()
            assistant = open_assistant(server_settings, embeddings)
            open_s = time.perf_counter() - started
            server = measure_store(
                "chroma run server", assistant, questions, rounds, settings.top_k
            )
            server["open_s"] = round(open_s, 2)
            server["server_peak_rss_mb"] = peak_rss_mb(process.pid)
            result["server"] = server
            del assistant
    return summarise(result, n, rounds, len(questions))


def _settings(base: Settings, folder: Path, n_synthetic: int) -> Settings:
    articles = folder / "articles"
    articles.mkdir(parents=True)
    shutil.copy(SEED_FILE, articles / SEED_FILE.name)
    if n_synthetic:
        write_corpus(articles, n_synthetic)
    return base.model_copy(
        update={
            "articles_dir": articles,
            "chroma_dir": folder / "chroma",
            "chroma_url": None,
            "feedback_file": folder / "feedback.jsonl",
        }
    )


def _index_progress(total: int) -> Callable[[str], None]:
    """A progress callback for ``Assistant.index``: a line every 5% with rate and ETA."""
    started = time.perf_counter()
    step = max(1, total // 20)
    done = 0

    def report(article_id: str) -> None:
        nonlocal done
        done += 1
        if done % step and done != total:
            return
        elapsed = time.perf_counter() - started
        rate = done / elapsed if elapsed else 0.0
        eta = (total - done) / rate if rate else 0.0
        progress(
            f"scale: indexing {done:,}/{total:,} articles, {rate:.1f} articles/s, "
            f"{elapsed / 60:.1f} min so far, about {eta / 60:.1f} min to go"
        )

    return report


def summarise(result: dict[str, Any], n: int, rounds: int, questions: int) -> dict[str, Any]:
    """Add the same-run ratios, quality deltas, aims and tables to the measures."""
    seed = result["seed_alone"]
    stores = {"embedded": result["embedded"], "server": result["server"]}
    ratios: dict[str, float | None] = {}
    for name, store in stores.items():
        for scope in ("scoped", "all"):
            ratios[f"{name}_{scope}_p50 / seed_alone_p50"] = _round(
                ratio(
                    store["query_ms"][scope]["p50"]["median"],
                    seed["query_ms"]["scoped"]["p50"]["median"],
                )
            )
    deltas: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, store in stores.items():
        deltas[name] = {}
        for scope in ("scoped", "all"):
            deltas[name][scope] = {
                key: _delta(store["quality"][scope].get(key), seed["quality"][scope].get(key))
                for key in KEY_METRICS
            }
    # abstention and answer rate can move either way; a drop is what matters for all
    worst_scoped = min(
        (d for s in deltas.values() for d in s["scoped"].values() if d is not None), default=None
    )
    worst_all = min((d for d in deltas["embedded"]["all"].values() if d is not None), default=None)
    result["ratios"] = ratios
    result["quality_delta_vs_seed_alone"] = deltas
    result["settings"] = {
        "synthetic_articles": n,
        "corpus": "benchmarks.corpus, default seed",
        "query_questions": questions,
        "query_rounds": rounds,
        "quality_fixtures": str(TEST.relative_to(TEST.parents[2])),
        "quality_tolerance": QUALITY_TOLERANCE,
    }
    result["aims"] = [
        aim(
            f"seed fixtures scoped to the seed keep their quality among {n:,} distractors",
            worst_scoped,
            f"largest drop of any key metric over the {seed['quality']['scoped']['cases']} "
            f"cases that name the seed, >= -{QUALITY_TOLERANCE}",
            None if worst_scoped is None else worst_scoped >= -QUALITY_TOLERANCE,
        ),
        aim(
            f"across the whole archive ({n:,} distractors): loss reported",
            worst_all,
            f"largest drop of any key metric over all {seed['quality']['all']['cases']} cases "
            "unscoped, against the seed alone (reported, no threshold)",
            None,
            report_only=True,
        ),
    ]
    result["tables"] = _tables(result, n)
    return result


def _delta(value: float | None, reference: float | None) -> float | None:
    if value is None or reference is None:
        return None
    return round(value - reference, 4)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _tables(result: dict[str, Any], n: int) -> list[dict[str, Any]]:
    index = result["index"]
    embedded, server, seed = result["embedded"], result["server"], result["seed_alone"]
    index_rows = [
        ["articles (synthetic + seed)", f"{index['articles']:,}"],
        ["passages / sentences", f"{index['passages']:,} / {index['sentences']:,}"],
        ["index time", f"{index['index_s']:,.0f} s ({index['index_s'] / 60:.1f} min)"],
        ["passages/s (vectors/s)", f"{index['passages_per_s']} ({index['vectors_per_s']})"],
        ["store size on disk", f"{index['store_mb']:,} MiB"],
        ["peak RSS while indexing", f"{index['peak_rss_mb_indexing']} MiB"],
        [
            "open the built store: embedded / server",
            f"{embedded['open_s']} s / {server['open_s']} s",
        ],
        [
            "peak RSS while querying: embedded / server (client)",
            f"{embedded['peak_rss_mb_querying']} / {server['peak_rss_mb_querying']} MiB",
        ],
        ["chroma run server peak RSS", f"{server['server_peak_rss_mb']} MiB"],
    ]
    latency_rows = []
    for label, store, scopes in (
        ("seed alone", seed, ("scoped",)),
        ("embedded", embedded, ("scoped", "all")),
        ("server", server, ("scoped", "all")),
    ):
        for scope in scopes:
            q = store["query_ms"][scope]
            key = f"{label}_{scope}_p50 / seed_alone_p50"
            ratio_text = "1.00x" if label == "seed alone" else _x(result["ratios"].get(key))
            latency_rows.append(
                [
                    f"{label}, {'scoped to the seed' if scope == 'scoped' else 'across all'}",
                    f"{q['p50']['median']:.1f}",
                    f"{q['p95']['median']:.1f}",
                    f"{q['p50']['min']:.1f}–{q['p50']['max']:.1f}",
                    ratio_text,
                ]
            )
    quality_rows = []
    for key in KEY_METRICS:
        quality_rows.append(
            [
                key,
                _v(seed["quality"]["scoped"].get(key)),
                _v(seed["quality"]["all"].get(key)),
                _v(embedded["quality"]["scoped"].get(key)),
                _v(embedded["quality"]["all"].get(key)),
                _v(server["quality"]["scoped"].get(key)),
                _v(server["quality"]["all"].get(key)),
            ]
        )
    return [
        {
            "title": f"Scale: index of {n:,} synthetic articles + the seed",
            "columns": ["figure", "value"],
            "rows": index_rows,
        },
        {
            "title": "Scale: Assistant.ask latency, warm (ms)",
            "columns": ["store, scope", "p50", "p95", "p50 min–max", "p50 / seed alone"],
            "rows": latency_rows,
        },
        {
            "title": (
                f"Scale: the seed's test fixtures, scoped ({seed['quality']['scoped']['cases']} "
                f"cases that name the seed) and all ({seed['quality']['all']['cases']} cases, "
                "scope removed)"
            ),
            "columns": [
                "metric",
                "seed alone, scoped",
                "seed alone, all",
                "embedded, scoped",
                "embedded, all",
                "server, scoped",
                "server, all",
            ],
            "rows": quality_rows,
        },
    ]


def _v(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"
