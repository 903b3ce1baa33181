"""Run the benchmarks: ``python -m benchmarks run [--quick] [--only NAME ...] [--articles N]``.

Each benchmark prints its tables and writes ``benchmarks/results/<name>.json`` (with
the machine, the versions and the settings used); a summary of every aim, measured
value and met / not met closes the run. ``--quick`` is the short version CI runs.

benchmarks:
  latency    warm Assistant.ask against the onnxruntime floor, sentence-transformers and
             the LangChain tutorial pipeline's similarity search (seed article)
  embedding  query embedding, cold start and ingestion (benchmarks/embedding.py)
  scale      a synthetic archive (1,000 articles quick, 10,000 full): index time, store
             size, memory, query latency scoped and across all, fixture quality kept,
             embedded Chroma and a `chroma run` server
  load       the web app under concurrent clients on 127.0.0.1: throughput, latency,
             errors, intended 429s, server peak memory; one app process against two
             sharing a `chroma run`, with distinct questions
  start      a new process to its first answer (`assistant serve`, `assistant ask`) and
             to the UI, each beside a bare onnxruntime process embedding one question
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

#: in running order
NAMES = ("latency", "embedding", "scale", "load", "start")


def _environment() -> None:
    from benchmarks.stats import offline_environment

    offline_environment()


def runner(name: str) -> Callable[[bool, argparse.Namespace], dict[str, Any]]:
    """The function that runs benchmark ``name`` as ``(quick, args) -> result``."""
    module = importlib.import_module(f"benchmarks.{name}")
    if name == "scale":
        return lambda quick, args: dict(module.run(quick, articles=args.articles))
    if name == "latency":
        return lambda quick, args: dict(module.run(quick, questions=args.questions))
    return lambda quick, args: dict(module.run(quick))


def _console() -> Any:
    from rich.console import Console

    # in a CI log or a file, wide enough that no table wraps
    return Console(width=None if sys.stdout.isatty() else 160)


def print_tables(result: dict[str, Any]) -> None:
    """Each of the result's tables, with rich."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    for spec in result.get("tables", []):
        # Text, not str: "[min–max]" in a cell is data, not rich markup
        table = Table(title=Text(spec["title"]), title_justify="left")
        for i, column in enumerate(spec["columns"]):
            table.add_column(Text(column), justify="left" if i == 0 else "right")
        for row in spec["rows"]:
            table.add_row(*(Text(str(cell)) for cell in row))
        console.print(table)


def print_summary(aims: list[tuple[str, dict[str, Any]]], outcome: dict[str, str]) -> None:
    """Every benchmark's outcome, then every aim with its measured value, met or not."""
    from rich.table import Table

    console = _console()
    table = Table(title="Summary", title_justify="left")
    for column in ("benchmark", "aim", "target", "measured", "met"):
        table.add_column(column)
    for name, status in outcome.items():
        if not status.startswith("ok"):
            table.add_row(name, status, "", "", "")
    for name, item in aims:
        met = (
            "reported"
            if item.get("report_only")
            else {True: "met", False: "NOT met", None: "not measured"}[item["met"]]
        )
        measured = "—" if item["measured"] is None else f"{item['measured']:g}"
        table.add_row(name, item["aim"], item["target"], measured, met)
    console.print(table)


def markdown_tables(result: dict[str, Any]) -> str:
    """The result's tables as Markdown (what docs/performance.md shows), with its command."""
    lines = [f"`{result.get('command', '')}` ({result.get('timestamp', '')})", ""]
    for spec in result.get("tables", []):
        columns = spec["columns"]
        lines += [f"**{spec['title']}**", ""]
        lines.append("| " + " | ".join(columns) + " |")
        lines.append("|---|" + "---:|" * (len(columns) - 1))
        for row in spec["rows"]:
            lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
        lines.append("")
    aims = result.get("aims", [])
    if aims:
        lines += ["| aim | target | measured | met |", "|---|---|---:|---|"]
        for item in aims:
            met = (
                "reported"
                if item.get("report_only")
                else {True: "yes", False: "no"}.get(item["met"], "not measured")
            )
            measured = "—" if item["measured"] is None else f"{item['measured']:g}"
            lines.append(f"| {item['aim']} | {item['target']} | {measured} | {met} |")
        lines.append("")
    return "\n".join(lines)


#: the lines around the part of a Markdown file that ``tables --write`` replaces
GENERATED_BEGIN = "<!-- made by `python -m benchmarks tables --write FILE`: begin -->"
GENERATED_END = "<!-- made by `python -m benchmarks tables --write FILE`: end -->"


def tables_markdown(results: Path, names: Sequence[str]) -> str:
    """The saved results of ``names`` as Markdown; ``OSError``/``ValueError`` name the file."""
    parts = []
    for name in names:
        path = results / f"{name}.json"
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OSError(f"cannot read {path}: {exc}") from exc
        parts.append(f"### {name}\n\n{markdown_tables(result)}\n")
    return "".join(parts)


def replace_generated(document: str, tables: str) -> str:
    """``document`` with the part between the ``GENERATED_*`` lines replaced by ``tables``."""
    before, begin, rest = document.partition(GENERATED_BEGIN + "\n")
    _, end, after = rest.partition(GENERATED_END + "\n")
    if not begin or not end:
        raise ValueError(f"no {GENERATED_BEGIN!r} ... {GENERATED_END!r} lines to replace between")
    return f"{before}{begin}\n{tables}\n{end}{after}"


def cmd_tables(args: argparse.Namespace) -> int:
    """Print saved results as Markdown, or write them into a document (``--write``);
    exit 2 when a result or the document is missing or unreadable."""
    try:
        tables = tables_markdown(args.results, args.only or NAMES)
        if args.write is None:
            print(tables, end="")
            return 0
        document = args.write.read_text(encoding="utf-8")
        args.write.write_text(replace_generated(document, tables), encoding="utf-8")
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the tables into {args.write}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the selected benchmarks; exit 1 when one of them failed to run."""
    from benchmarks.stats import progress, write_result

    selected = list(args.only or NAMES)
    unknown = [n for n in selected if n not in NAMES]
    if unknown:
        print(f"error: unknown benchmark {', '.join(unknown)}; choose from {', '.join(NAMES)}")
        return 2
    aims: list[tuple[str, dict[str, Any]]] = []
    outcome: dict[str, str] = {}
    for name in selected:
        progress(f"{name}: {'quick' if args.quick else 'full'} run")
        started = time.perf_counter()
        try:
            result = runner(name)(args.quick, args)
        except Exception:  # noqa: BLE001 - one broken benchmark must not lose the others' numbers
            traceback.print_exc()
            outcome[name] = "FAILED (traceback above)"
            continue
        seconds = time.perf_counter() - started
        result["quick"] = args.quick
        result["duration_s"] = round(seconds, 1)
        path = write_result(name, result, args.out)
        print_tables(result)
        progress(f"{name}: {seconds:.0f} s, wrote {path}")
        outcome[name] = f"ok ({seconds:.0f} s)"
        aims.extend((name, item) for item in result.get("aims", []))
    print_summary(aims, outcome)
    return 1 if any(s.startswith("FAILED") for s in outcome.values()) else 0


def build_parser() -> argparse.ArgumentParser:
    """``python -m benchmarks``'s arguments."""
    from benchmarks.stats import RESULTS_DIR

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=(__doc__ or "").splitlines()[0],
        epilog=(__doc__ or "").split("\n\n", 2)[-1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="run the benchmarks")
    run.add_argument("--quick", action="store_true", help="the short version (CI)")
    run.add_argument(
        "--only", nargs="+", metavar="NAME", choices=NAMES, help=f"run only these: {NAMES}"
    )
    run.add_argument(
        "--articles",
        type=int,
        metavar="N",
        help="synthetic articles for the scale benchmark (default 1,000 quick, 10,000 full)",
    )
    run.add_argument(
        "--questions",
        type=int,
        metavar="N",
        help="latency: only the first N fixture questions (smoke tests)",
    )
    run_out = run.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="the folder of the JSON results (default benchmarks/results)",
    )
    run.set_defaults(handler=cmd_run)
    tables = commands.add_parser(
        "tables", help="print saved results as Markdown, or --write them into docs/performance.md"
    )
    tables.add_argument(
        "--only", nargs="+", metavar="NAME", choices=NAMES, help=f"only these: {NAMES}"
    )
    tables.add_argument(
        "--results", type=Path, default=RESULTS_DIR, metavar="DIR", help=run_out.help
    )
    tables.add_argument(
        "--write",
        type=Path,
        metavar="FILE",
        help="replace the generated part of FILE (e.g. docs/performance.md) instead of printing",
    )
    tables.set_defaults(handler=cmd_tables)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks``."""
    _environment()
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
