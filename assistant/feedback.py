"""Readers' thumbs up/down on answers, appended to a JSON-lines file."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from assistant.schemas import Answer

Rating = Literal["up", "down"]

# one writer at a time: concurrent appends from the web server's threads must not interleave
_LOCK = threading.Lock()


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
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": question,
        "answer": str(data.get("answer", "")),
        "citations": [str(c.get("quote", "")) for c in data.get("citations") or []],
        "abstained": bool(data.get("abstained", False)),
        "rating": rating,
        "article": article,
        "comment": comment,
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
