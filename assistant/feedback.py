"""Readers' thumbs up/down on answers, appended to a JSON-lines file.

A line holds at most ``MAX_TEXT_CHARS`` of each text and ``MAX_CITATIONS`` quotes, so
no vote, whatever the answer it rates, writes more than a few tens of kilobytes.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.schemas import Answer

Rating = Literal["up", "down"]

#: the most characters kept of each text (question, answer, quote, comment); a question is
#: 1,000 at most by default, an answer a few sentences
MAX_TEXT_CHARS = 4000
#: the most citations' quotes kept
MAX_CITATIONS = 10

# one writer at a time: concurrent appends from the web server's threads must not interleave
_LOCK = threading.Lock()


def _bounded(text: object) -> str:
    text = str(text)
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"


def feedback_record(
    *,
    question: str,
    answer: Answer | dict[str, Any],
    rating: Rating,
    article: str | None,
    comment: str | None = None,
) -> dict[str, Any]:
    """The JSON object written for one piece of feedback."""
    if rating not in ("up", "down"):
        raise ValueError(f"rating must be 'up' or 'down', not {rating!r}")
    data = answer.model_dump() if isinstance(answer, Answer) else answer
    citations = list(data.get("citations") or [])[:MAX_CITATIONS]
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": _bounded(question),
        "answer": _bounded(data.get("answer", "")),
        "citations": [_bounded(c.get("quote", "")) for c in citations],
        "abstained": bool(data.get("abstained", False)),
        "rating": rating,
        "article": article if article is None else _bounded(article),
        "comment": comment if comment is None else _bounded(comment),
    }


def record_feedback(
    path: Path,
    *,
    question: str,
    answer: Answer | dict[str, Any],
    rating: Rating,
    article: str | None,
    comment: str | None = None,
) -> None:
    """Append one feedback line to ``path`` (created with its folders when missing)."""
    record = feedback_record(
        question=question, answer=answer, rating=rating, article=article, comment=comment
    )
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _LOCK:
        path.parent.mkdir(parents=True, exist_ok=True)
        # append mode and a single write per line: earlier lines are never rewritten
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line)
