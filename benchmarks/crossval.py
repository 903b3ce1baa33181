"""Choose the answerer's weights by cross-validation grouped by article, and show what
each signal adds (the ablation table).

Every case of the tuning fixtures is asked once through the real assistant (real store,
real embeddings) with the extractive answerer; its reading of the question (refused, or each
sentence's signals) is kept. Then, for every weight setting of a small grid, the answer
each case would get is rebuilt with ``ranking.pick`` and scored for key facts and words.
Leave-one-article-out: the setting that does best on all other articles answers the
held-out article's cases; the pooled figure over held-out cases is the honest estimate.
The ablation repeats that with one signal switched off.

    python -m benchmarks.crossval                 # the tuning pool and the older fixtures
    python -m benchmarks.crossval --fixtures 'tests/fixtures/pool/*.jsonl' ...

Writes benchmarks/results/crossval.json. Never run on tests/fixtures/blind/ (asked only
once, when the work is done, with ``assistant eval``) nor on tests/fixtures/next-blind/
(the group that replaces it, asked by nobody until then).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: find the package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.stats import RESULTS_DIR, ROOT, offline_environment  # noqa: E402

DEFAULT_FIXTURES = (
    "tests/fixtures/pool/*.jsonl",
    "tests/fixtures/tuning/*.jsonl",
    # the seed article's dev split only: its test split is for reporting, never tuning
    "tests/fixtures/north-korean-troops-dev.jsonl",
    "tests/fixtures/port-calder-water-plant.jsonl",
    "tests/fixtures/greyford-bumblebee-rediscovered.jsonl",
)
DEFAULT_ARTICLES = (
    "index/articles",
    "tests/fixtures/articles",
    "tests/fixtures/tuning/articles",
    "tests/fixtures/pool/articles",
)
#: the grid searched for each weight (``ranking.Weights``)
GRID: dict[str, tuple[float, ...]] = {
    "context": (0.4, 0.5, 0.6),
    "first": (0.0, 0.05, 0.1, 0.15),
    # finer near where two sentences reach the 40 words of the gate
    "second_within": (0.0, 0.1, 0.12, 0.13, 0.14, 0.15, 0.17, 0.2, 1.0),
    "skip_headings": (0.0, 1.0),
}
#: answers longer than this on average are penalised when a setting is chosen (the gate)
MAX_WORDS = 40


@dataclass(frozen=True)
class Read:
    """One answerable case as the answerer read it."""

    article: str
    #: the fixture case (``assistant.evaluation.fixtures.Case``)
    case: Any
    #: ``None``: refused; else the sentences and their signals
    reading: Any


def read_cases(fixtures: Sequence[Path], folders: Sequence[Path], **options: bool) -> list[Read]:
    """Ask every answerable case once; keep the answerer's reading of it (``options``
    switch the answerer's typo correction off)."""
    from assistant.answering.extractive import ExtractiveAnswerer, Reading
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.evaluation.command import read_articles, temporary_settings
    from assistant.evaluation.fixtures import load_cases

    cases = [c for c in load_cases(fixtures) if c.answerable]
    read_articles(folders)  # fails early, naming a bad folder
    kept: list[Any] = []

    class Recording(ExtractiveAnswerer):
        def read(self, state):  # type: ignore[no-untyped-def]
            reading = super().read(state)
            kept.append(reading if isinstance(reading, Reading) else None)
            return reading

    with ExitStack() as stack:
        settings = temporary_settings(Settings(), folders, stack)
        assistant = Assistant.from_settings(settings)
        assistant.answerer = Recording(
            assistant.embeddings,
            correct_typos=options.get("correct_typos", True),
        )
        reads = []
        for case in cases:
            kept.clear()
            assistant.ask(case.question, case.history, case.article)
            reads.append(Read(case.article or "", case, kept[0] if kept else None))
    return reads


def score(read: Read, weights: Any) -> tuple[float, int]:
    """Key-fact recall and words of the answer ``weights`` would give this case."""
    from assistant.answering import ranking
    from assistant.citations import word_count
    from assistant.evaluation.metrics import facts_covered
    from assistant.schemas import Answer

    if read.reading is None or read.reading.weak:
        return 0.0, 0
    chosen = ranking.pick(read.reading.signals, weights)
    text = " ".join(read.reading.sentences.texts[i] for i in chosen)
    # scored as the evaluation scores an answer, with its own key-fact matching
    covered = facts_covered(read.case, Answer(question="", answer=text, abstained=False))
    return sum(covered) / len(covered), word_count(text)


def settings_grid(grid: dict[str, tuple[float, ...]]) -> list[Any]:
    from assistant.answering.ranking import Weights

    keys = list(grid)
    return [
        Weights(**dict(zip(keys, values, strict=True)))
        for values in itertools.product(*grid.values())
    ]


def objective(recall: float, words: float) -> float:
    return recall - 0.01 * max(0.0, words - MAX_WORDS)


def leave_one_article_out(
    reads: Sequence[Read], grid: list[Any], scores: dict[tuple[int, Any], Any] | None = None
) -> dict[str, Any]:
    """Pooled and per-article figures over held-out articles, and the setting chosen on all
    (``scores`` keeps each (case, setting)'s score for other grids over the same reads)."""
    known = {} if scores is None else scores

    def scored(i: int, weights: Any) -> tuple[float, int]:
        if (i, weights) not in known:
            known[i, weights] = score(reads[i], weights)
        return known[i, weights]  # type: ignore[no-any-return]

    table = [[scored(i, w) for i in range(len(reads))] for w in grid]
    articles = sorted({r.article for r in reads})
    recall, words, answered = [0.0] * len(reads), [0] * len(reads), [False] * len(reads)

    def figures(g: int, rows: Sequence[int]) -> tuple[float, float]:
        got = [table[g][i] for i in rows]
        said = [w for (_, w) in got if w]
        return sum(r for r, _ in got) / len(got), sum(said) / max(1, len(said))

    per_article = {}
    for article in articles:
        held = [i for i, r in enumerate(reads) if r.article == article]
        train = [i for i, r in enumerate(reads) if r.article != article]
        best = max(range(len(grid)), key=lambda g: objective(*figures(g, train)))
        for i in held:
            recall[i], words[i] = table[best][i]
            answered[i] = bool(words[i])
        per_article[article] = round(figures(best, held)[0], 3)
    every = list(range(len(reads)))
    chosen = max(range(len(grid)), key=lambda g: objective(*figures(g, every)))
    said = [w for w in words if w]
    return {
        "key_fact_recall": round(sum(recall) / len(reads), 3),
        "answer_words_mean": round(sum(said) / max(1, len(said)), 1),
        "answer_rate": round(sum(answered) / len(reads), 3),
        "per_article": per_article,
        "chosen_on_all": asdict(grid[chosen]),
    }


def ablation(
    reads: Sequence[Read], without: Mapping[str, Sequence[Read]]
) -> dict[str, dict[str, Any]]:
    """Grouped cross-validation with all signals, and with each one switched off."""
    # the ablation's grids share most of their settings: each is scored once
    scores: dict[tuple[int, Any], Any] = {}
    rows = {"all signals": leave_one_article_out(reads, settings_grid(GRID), scores)}
    for label, other in without.items():
        rows[label] = leave_one_article_out(other, settings_grid(GRID))
    labels = {"second_within": "one sentence only", "skip_headings": "headings quoted"}
    for name in GRID:
        off = dict(GRID, **{name: (0.0,) if name != "second_within" else (-1.0,)})
        label = labels.get(name, f"without {name}")
        rows[label] = leave_one_article_out(reads, settings_grid(off), scores)
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.crossval", description=__doc__)
    parser.add_argument("--fixtures", nargs="+", default=list(DEFAULT_FIXTURES))
    parser.add_argument("--articles", nargs="+", default=list(DEFAULT_ARTICLES))
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "crossval.json")
    args = parser.parse_args(argv)
    offline_environment()
    fixtures = sorted({p for pattern in args.fixtures for p in ROOT.glob(pattern)})
    if not fixtures:
        parser.error(f"no fixture file matches {' '.join(args.fixtures)}")
    # the blind group, and the next one waiting in tests/fixtures/next-blind/
    if any("blind" in part for p in fixtures for part in p.relative_to(ROOT).parts):
        parser.error("the blind group is not for tuning: run it with `assistant eval` at the end")
    folders = [ROOT / f for f in args.articles]
    reads = read_cases(fixtures, folders)
    without = {
        "without typo correction": read_cases(fixtures, folders, correct_typos=False),
    }
    rows = ablation(reads, without)
    result = {"cases": len(reads), "articles": len({r.article for r in reads}), "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"{len(reads)} answerable cases, {result['articles']} articles, leave-one-article-out:")
    print("| run | key_fact_recall | words | answer_rate |\n|---|---:|---:|---:|")
    for label, row in rows.items():
        print(
            f"| {label} | {row['key_fact_recall']:.3f} | {row['answer_words_mean']:.1f} | "
            f"{row['answer_rate']:.3f} |"
        )
    print("chosen on all:", rows["all signals"]["chosen_on_all"])
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
