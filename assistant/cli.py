"""The ``assistant`` command: index, ask, chat, serve.

Only this module turns results into terminal output; errors a user can cause end with
one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from assistant.errors import AssistantError

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
    from assistant.chain import Assistant

    return Assistant.from_settings(settings)


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
    embeddings = load_embeddings(settings)
    assistant = Assistant(settings, embeddings, open_store(settings, embeddings))
    report = assistant.index(rebuild=args.rebuild, progress=lambda a: print(f"embedding {a}"))
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
    from assistant.chain import clean_question

    settings = _settings()
    clean_question(args.question, settings.max_question_chars)  # fail before loading the model
    answer = _open(settings).ask(args.question, article=args.article)
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
    settings = _settings(host=args.host, port=args.port)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from assistant.web.server import launch

    launch(settings, host=settings.host, port=settings.port)
    return 0


def build_parser() -> argparse.ArgumentParser:
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
    from assistant.evaluation.command import add_arguments as add_eval_arguments

    add_eval_arguments(add("eval", cmd_eval))
    serve = add("serve", cmd_serve)
    serve.add_argument("--host", help="address to listen on (default: ASSISTANT_HOST)")
    serve.add_argument("--port", type=int, help="port to listen on (default: ASSISTANT_PORT)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``assistant`` console script."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
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
