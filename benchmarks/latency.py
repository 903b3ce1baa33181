"""Warm latency of ``Assistant.ask`` against its floor and a peer, measured in one run.

On the seed article alone, for each fixture question in turn (interleaved, so every
measure sees the same machine load):

- ``floor``: one bare onnxruntime query embedding of the same model (missing until
  ``assistant.onnx_embedder`` exists; the table says so);
- ``sentence-transformers``: one query embedding through sentence-transformers;
- ``tutorial search``: the LangChain tutorial pipeline's bare similarity search
  (1000/200 chunks, Chroma, same model, top 4), query embedding included;
- ``Assistant.ask``: the whole answer, end to end.

The query-vector cache is cleared before each ask and each tutorial search, so both pay
for their own embedding. Each round's p50/p95 is one figure; figures and the ratios
between them are reported as median, min and max over the rounds.

``python -m benchmarks run --only latency`` (``python benchmarks/latency.py`` still works).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

if __package__ in (None, ""):  # run as a script (python benchmarks/latency.py): find the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stats import (  # noqa: E402
    ROOT,
    aim,
    distribution,
    progress,
    ratio,
    spread,
    timed_ms,
)

if TYPE_CHECKING:
    from assistant.config import Settings

SEED_ID = "north-korean-troops-in-ukraine"
SEED_FILE = ROOT / "index" / "articles" / f"{SEED_ID}.txt"
DEV = ROOT / "tests" / "fixtures" / "north-korean-troops-dev.jsonl"
TEST = ROOT / "tests" / "fixtures" / "north-korean-troops-test.jsonl"
#: rounds over the questions: quick (CI) and full
ROUNDS = {True: 2, False: 5}
MEASURES = ("floor", "sentence_transformers", "tutorial_search", "answer")
LABELS = {
    "floor": "floor: onnxruntime query embedding",
    "sentence_transformers": "sentence-transformers query embedding",
    "tutorial_search": "tutorial pipeline: similarity search",
    "answer": "Assistant.ask (end to end)",
}


#: where the ONNX export of the model is cached between runs (git-ignored); benchmarks
#: work in temporary folders and would otherwise export the model again every time
ONNX_CACHE = ROOT / "index" / "onnx"


def _settings_have(field: str) -> bool:
    from assistant.config import Settings

    return field in Settings.model_fields


def shared_onnx(settings: Settings) -> Settings:
    """``settings`` with the ONNX export cached in ``index/onnx`` (when settings have one)."""
    if not _settings_have("onnx_dir"):
        return settings
    return settings.model_copy(update={"onnx_dir": ONNX_CACHE})


def shared_onnx_env() -> dict[str, str]:
    """The same as environment variables, for the web app's process."""
    return {"ASSISTANT_ONNX_DIR": str(ONNX_CACHE)} if _settings_have("onnx_dir") else {}


def fixture_questions(paths: tuple[Path, ...]) -> list[dict[str, Any]]:
    """The fixture cases' question, history and article scope, in file order."""
    cases = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                cases.append(
                    {
                        "question": case["question"],
                        "history": case.get("history") or [],
                        "article": case.get("article"),
                    }
                )
    return cases


def load_floor(model_dir: Path, cache_dir: Path) -> tuple[Callable[[str], object] | None, str]:
    """The bare onnxruntime query embedding, or ``None`` and the reason it is missing."""
    try:
        from assistant.onnx_embedder import load_onnx
    except ImportError:
        return None, "assistant.onnx_embedder is not there yet"
    try:
        encoder = load_onnx(model_dir, cache_dir)
    except Exception as exc:  # noqa: BLE001 - a broken floor must not stop the other figures
        return None, f"the ONNX encoder failed to load: {exc}".splitlines()[0]
    if encoder is None:
        return None, "no ONNX export of the model is available (onnxruntime or the export missing)"
    return (lambda text: encoder.encode([text])), "onnxruntime"


def run(
    quick: bool,
    rounds: int | None = None,
    questions: int | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Measure the four latencies on the seed article; the result for ``latency.json``."""
    from assistant import Assistant, Settings
    from assistant.articles import read_article
    from assistant.evaluation.tutorial import TOP_K, TutorialPipeline

    rounds = rounds or ROUNDS[quick]
    fixtures = (DEV,) if quick else (DEV, TEST)
    cases = fixture_questions(fixtures)[:questions]
    samples: dict[str, list[list[float]]] = {m: [] for m in MEASURES}
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp:
        root = Path(tmp)
        (root / "articles").mkdir()
        shutil.copy(SEED_FILE, root / "articles" / SEED_FILE.name)
        settings = shared_onnx(
            Settings(articles_dir=root / "articles", chroma_dir=root / "chroma", _env_file=None)
        )
        progress("latency: loading the model and indexing the seed article")
        assistant = Assistant.from_settings(settings)
        embeddings = assistant.embeddings
        tutorial = TutorialPipeline.build([read_article(SEED_FILE)], embeddings)
        floor, floor_note = load_floor(settings.model_dir(), cache_dir or ONNX_CACHE)
        # questions go through the ONNX encoder when there is one; this is the torch path
        st_encode = getattr(embeddings, "encode_with_sentence_transformers", embeddings.encode)
        progress(f"latency: floor = {floor_note}")

        def search(text: str) -> None:
            embeddings.clear_cache()
            tutorial.vectorstore.similarity_search_with_score(text, k=TOP_K)

        def ask(case: dict[str, Any]) -> None:
            embeddings.clear_cache()
            assistant.ask(case["question"], history=case["history"], article=case["article"])

        measures: dict[str, Callable[[dict[str, Any]], object] | None] = {
            "floor": (lambda c: floor(c["question"])) if floor else None,
            "sentence_transformers": lambda c: st_encode([c["question"]]),
            "tutorial_search": lambda c: search(c["question"]),
            "answer": ask,
        }
        # one unrecorded pass: lazy set-up (tokenizers, query plans, sentence vectors)
        for case in cases:
            for action in measures.values():
                if action is not None:
                    action(case)
        for r in range(rounds):
            progress(f"latency: round {r + 1}/{rounds} over {len(cases)} questions")
            current: dict[str, list[float]] = {m: [] for m in MEASURES}
            for case in cases:
                for name, action in measures.items():
                    if action is not None:
                        current[name].append(timed_ms(partial(action, case)))
            for name in MEASURES:
                if current[name]:
                    samples[name].append(current[name])
        tutorial.close()
        # the answer and the tutorial embed questions the same way: ONNX when it is there
        embedder = "onnxruntime" if getattr(embeddings, "onnx", None) else "sentence-transformers"
    result = summarise(samples, rounds, len(cases), fixtures, floor_note, settings.top_k)
    result["settings"]["question_embedder"] = embedder
    return result


def summarise(
    samples: dict[str, list[list[float]]],
    rounds: int,
    questions: int,
    fixtures: tuple[Path, ...],
    floor_note: str,
    top_k: int,
) -> dict[str, Any]:
    """Per-round figures, their spread, the same-round ratios, the aims and the table."""
    per_round = {name: [distribution(r) for r in runs] for name, runs in samples.items() if runs}
    latency: dict[str, dict[str, Any]] = {
        name: {
            "p50": spread(d["p50"] for d in dists),
            "p95": spread(d["p95"] for d in dists),
            "all_samples": distribution([x for r in samples[name] for x in r]),
        }
        for name, dists in per_round.items()
    }

    def round_ratios(numerator: str, denominator: str) -> dict[str, float | None]:
        if numerator not in per_round or denominator not in per_round:
            return spread([])
        return spread(
            ratio(a["p50"], b["p50"])
            for a, b in zip(per_round[numerator], per_round[denominator], strict=True)
        )

    ratios = {
        "answer_p50 / floor_p50": round_ratios("answer", "floor"),
        "answer_p50 / tutorial_p50": round_ratios("answer", "tutorial_search"),
        "answer_p50 / sentence_transformers_p50": round_ratios("answer", "sentence_transformers"),
        "sentence_transformers_p50 / floor_p50": round_ratios("sentence_transformers", "floor"),
    }
    to_floor = ratios["answer_p50 / floor_p50"]["median"]
    to_tutorial = ratios["answer_p50 / tutorial_p50"]["median"]
    aims = [
        aim(
            "answer under 2x the floor on one article",
            to_floor,
            "answer_p50 / floor_p50 < 2",
            None if to_floor is None else to_floor < 2,
        ),
        aim(
            "faster than the tutorial pipeline's bare similarity search",
            to_tutorial,
            "answer_p50 / tutorial_p50 < 1",
            None if to_tutorial is None else to_tutorial < 1,
        ),
    ]
    rows: list[list[Any]] = []
    for name in MEASURES:
        if name not in latency:
            rows.append([LABELS[name], "missing", "", "", floor_note])
            continue
        p50, p95 = latency[name]["p50"], latency[name]["p95"]
        rows.append(
            [LABELS[name], fmt_ms(p50["median"]), fmt_ms(p95["median"]), fmt_range(p50), ""]
        )
    for label, value in ratios.items():
        rows.append([label, fmt_ratio(value["median"]), "", fmt_range(value, "x"), "ratio"])
    return {
        "settings": {
            "article": SEED_ID,
            "fixtures": [str(p.relative_to(ROOT)) for p in fixtures],
            "questions": questions,
            "rounds": rounds,
            "top_k": top_k,
            "query_cache": "cleared before every ask and tutorial search",
            "floor": floor_note,
        },
        "latency_ms": latency,
        "ratios": ratios,
        "aims": aims,
        "tables": [
            {
                "title": f"Latency, warm, seed article ({questions} questions x {rounds} rounds)",
                "columns": ["measure", "p50 ms", "p95 ms", "p50 min–max over rounds", "note"],
                "rows": rows,
            }
        ],
    }


def fmt_ms(value: float | None) -> str:
    """A millisecond figure for a table cell."""
    return "—" if value is None else f"{value:.1f}"


def fmt_ratio(value: float | None) -> str:
    """A ratio for a table cell."""
    return "—" if value is None else f"{value:.2f}x"


def fmt_range(figure: dict[str, float | None], unit: str = "") -> str:
    """``min–max`` of a figure over repeated runs."""
    if figure.get("min") is None:
        return "—"
    low, high = figure["min"], figure["max"]
    digits = 2 if unit == "x" else 1
    return f"{low:.{digits}f}–{high:.{digits}f}{unit}"


if __name__ == "__main__":  # the old entry point: python benchmarks/latency.py
    from benchmarks.__main__ import main

    sys.exit(main(["run", "--only", "latency", *sys.argv[1:]]))
