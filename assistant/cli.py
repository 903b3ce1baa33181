"""The ``assistant`` command: index, ask, chat, eval, serve, feedback export.

Only this module turns results into terminal output; errors a user can cause end with
one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from assistant.errors import AssistantError, FeedbackError
from assistant.startup import collector_paused

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.config import Settings
    from assistant.schemas import Answer

EXIT_ERROR, EXIT_INTERRUPTED = 1, 130


def _settings(**overrides: object) -> Settings:
    """The settings; a bad value ends the command with one line naming the setting."""
    from assistant.config import load_settings

    return load_settings(**overrides)


def _open(settings: Settings) -> Assistant:
    with collector_paused():  # this process's start: its imports and opening (startup.py)
        from assistant.chain import Assistant

        show_progress(settings)
        assistant = Assistant.opened(settings)
    # with the collector: a first start indexes every article here
    assistant.reconcile()
    return assistant


def show_progress(settings: Settings) -> None:
    """What a first start does while it works (the model's export, the index build), one
    line a step on stderr; a start that reuses both says nothing."""
    import logging

    from assistant.knowledge import PROGRESS_LOG

    log = logging.getLogger(PROGRESS_LOG)
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    if settings.onnx:
        from assistant.onnx_embedder import announce_export

        announce_export(settings.model_dir(), settings.onnx_cache())


def render_answer(answer: Answer) -> str:
    """The answer and its sources as plain text for the terminal."""
    lines = [answer.answer]
    if answer.note:  # a fallback, or sentences left out
        lines.append(f"({answer.note})")
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            lines.append(f"  [{c.n}] “{c.quote}”")
            lines.append(f"      {c.article_title} ({c.article_id}, characters {c.start}-{c.end})")
    return "\n".join(lines)


def cmd_index(args: argparse.Namespace) -> int:
    """Build or update the store from the articles folder; only changed articles are re-embedded."""
    from assistant.chain import Assistant
    from assistant.embeddings import load_embeddings
    from assistant.store import open_store

    settings = _settings()
    show_progress(settings)
    embeddings = load_embeddings(settings)
    assistant = Assistant(settings, embeddings, open_store(settings, embeddings))
    report = assistant.index(
        rebuild=args.rebuild, progress=lambda line: print(line, file=sys.stderr, flush=True)
    )
    for error in report.errors:
        print(f"skipped: {error}", file=sys.stderr)
    print(
        f"{len(assistant.catalog)} articles indexed: {len(report.added)} added, "
        f"{len(report.updated)} updated, {len(report.unchanged)} unchanged, "
        f"{len(report.removed)} removed"
        + (f", {len(report.errors)} unreadable (kept as they were)" if report.errors else "")
    )
    return EXIT_ERROR if report.errors else 0


def cmd_ask(args: argparse.Namespace) -> int:
    """Answer one question about the articles."""
    with collector_paused():  # this process's start (startup.py)
        from assistant.chain import clean_question

        settings = _settings()
    clean_question(args.question, settings.max_question_chars)  # fail before loading the model
    assistant = _open(settings)
    # the one question imports what answering it needs (wordfreq when a word looks like a
    # typo): a start's imports too; frozen, they also spare the collector's walk at exit
    with collector_paused():
        answer = assistant.ask(args.question, article=args.article)
    if args.json:
        print(json.dumps(answer.model_dump(), ensure_ascii=False, indent=2))
    else:
        print(render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Chat in the terminal; follow-up questions use the conversation. Ctrl-D or 'exit' ends."""
    assistant = _open(_settings())
    history: list[dict[str, str]] = []
    print("Ask about the article (Ctrl-D or 'exit' to leave).")
    while True:
        try:
            question = input("> ")
        except EOFError:
            print()
            return 0
        if question.strip().lower() in {"exit", "quit", ":q"}:
            return 0
        if not question.strip():
            continue
        try:
            answer = assistant.ask(question, history=history, article=args.article)
        except AssistantError as exc:
            # a bad question should not end the conversation
            print(f"error: {exc}", file=sys.stderr)
            continue
        print(render_answer(answer))
        print()
        history += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": answer.answer},
        ]


def cmd_eval(args: argparse.Namespace) -> int:
    """Run evaluation fixtures, print metrics, write reports; exit 1 when a gate fails."""
    from assistant.evaluation.command import run

    return run(args, _settings())


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the web app (the same as ``python app.py``)."""
    from assistant.errors import ConfigError

    with collector_paused():  # this process's start (startup.py)
        settings = _settings(host=args.host, port=args.port)
    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: give 1 or more")
    if args.workers > 1 and settings.chroma_url is None:
        # an embedded store belongs to one process
        raise ConfigError(
            "--workers needs a Chroma server (ASSISTANT_CHROMA_URL): the embedded store in "
            f"{settings.chroma_dir} belongs to one process; see docs/operations.md"
        )
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    with collector_paused():  # this process's start: FastAPI, uvicorn, the chain (startup.py)
        from assistant.web.server import launch

    launch(settings, host=settings.host, port=settings.port, workers=args.workers)
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    """Write readers' votes as JSON lines shaped like evaluation fixtures (question, article,
    answer, verdict; key_facts and evidence left to fill in), oldest first."""
    from assistant.feedback import export_cases, open_feedback

    verdict = {"down": "bad", "up": "good"}.get(args.rating or "")
    lines = (
        json.dumps(case, ensure_ascii=False) + "\n"
        for case in export_cases(open_feedback(_settings()), verdict)
    )
    if args.out is not None:
        count = _write_atomically(args.out, lines)
    else:
        count = 0
        for line in lines:
            sys.stdout.write(line)
            count += 1
    print(f"{count} vote(s) exported", file=sys.stderr)
    return 0


def _write_atomically(path: str, lines: Iterable[str]) -> int:
    """Write ``lines`` to ``path`` through a temporary file renamed into place: a failure
    half-way leaves the earlier file as it was. Returns how many lines were written."""
    from pathlib import Path

    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as fh:
            for line in lines:
                fh.write(line)
                count += 1
        partial.replace(target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise FeedbackError(f"cannot write {target}: {exc.strerror}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return count


def build_parser(wants_eval: bool = True) -> argparse.ArgumentParser:
    """The command's arguments; ``wants_eval=False`` leaves out ``eval``'s own (costly to
    import) when another command runs."""
    parser = argparse.ArgumentParser(
        prog="assistant", description="Answers questions about news articles, with citations."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        doc = (handler.__doc__ or "").strip()
        sub = commands.add_parser(name, help=doc, description=doc)
        sub.set_defaults(handler=handler)
        return sub

    index = add("index", cmd_index)
    index.add_argument("--rebuild", action="store_true", help="re-embed every article")
    ask = add("ask", cmd_ask)
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--article", metavar="ID", help="only answer from this article")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    chat = add("chat", cmd_chat)
    chat.add_argument("--article", metavar="ID", help="only answer from this article")
    evaluate = add("eval", cmd_eval)
    if wants_eval:  # its arguments import the metrics' modules: only for `assistant eval`
        from assistant.evaluation.command import add_arguments as add_eval_arguments

        add_eval_arguments(evaluate)
    serve = add("serve", cmd_serve)
    serve.add_argument("--host", help="address to listen on (default: ASSISTANT_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: ASSISTANT_PORT)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes sharing the port (needs ASSISTANT_CHROMA_URL; default 1)",
    )
    feedback = commands.add_parser("feedback", help="readers' thumbs up/down")
    actions = feedback.add_subparsers(dest="action", required=True, metavar="ACTION")
    doc = (cmd_feedback_export.__doc__ or "").strip()
    export = actions.add_parser("export", help=doc.split("(")[0].strip(), description=doc)
    export.set_defaults(handler=cmd_feedback_export)
    export.add_argument("--out", metavar="FILE", help="write here instead of standard output")
    export.add_argument(
        "--rating", choices=("up", "down"), help="only these votes (down: the bad answers)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    given = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(wants_eval="eval" in given[:1] or not given).parse_args(given)
    try:
        return int(args.handler(args))
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # output piped into `head` and the like: not an error of ours
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
