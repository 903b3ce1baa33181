"""Readers' thumbs up/down on answers: recorded in one place that every instance shares, and
exported as evaluation cases.

Where a vote goes is ``ASSISTANT_FEEDBACK_STORAGE``:

- ``file``: appended to ``ASSISTANT_FEEDBACK_FILE``, one JSON object a line, under an
  exclusive ``flock`` of the file, so the processes of one host never interleave a line;
- ``redis://host:port``: added to the Redis stream ``FEEDBACK_STREAM``, which instances on
  several hosts share (a stream keeps its entries in order, and an entry is never rewritten).

A line holds at most ``MAX_TEXT_CHARS`` of each text and ``MAX_CITATIONS`` quotes, so no
vote, whatever the answer it rates, writes more than a few tens of kilobytes. A vote that
cannot be stored raises ``OSError`` (what the UI tells the reader); nothing stored before
is touched.
"""

from __future__ import annotations

import errno
import fcntl
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, cast

from assistant.errors import FeedbackError
from assistant.schemas import Answer

if TYPE_CHECKING:
    from assistant.config import Settings

Rating = Literal["up", "down"]

#: the most characters kept of each text (question, answer, quote, comment); a question is
#: 1,000 at most by default, an answer a few sentences
MAX_TEXT_CHARS = 4000
#: the most citations' quotes kept
MAX_CITATIONS = 10
#: the Redis stream of votes
FEEDBACK_STREAM = "assistant:feedback"
#: seconds to wait for Redis before a vote is refused
REDIS_TIMEOUT_S = 2.0
#: entries read from the stream per round trip when exporting
EXPORT_BATCH = 500

# one writer at a time within a process (the web server's threads); flock for the others
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
    cited = sorted({str(c.get("article_id")) for c in citations if c.get("article_id")})
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": _bounded(question),
        "answer": _bounded(data.get("answer", "")),
        "citations": [_bounded(c.get("quote", "")) for c in citations],
        "cited_articles": cited[:MAX_CITATIONS],
        "abstained": bool(data.get("abstained", False)),
        "mode": str(data.get("mode", "")),
        "rating": rating,
        "article": article if article is None else _bounded(article),
        "comment": comment if comment is None else _bounded(comment),
    }


class FeedbackStore(Protocol):
    """Where votes are kept: appended one at a time, read back in the order they came."""

    def append(self, record: dict[str, Any]) -> None: ...

    def records(self) -> Iterator[dict[str, Any]]: ...


class FileFeedback:
    """Votes as JSON lines in one file, appended under an exclusive lock of the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
        with _LOCK:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # append mode, one write per line, under flock: other processes of this host
            # wait for the line to be whole, and earlier lines are never rewritten
            with self.path.open("ab") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    fh.write(line)
                    fh.flush()
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

    def records(self) -> Iterator[dict[str, Any]]:
        try:
            with self.path.open(encoding="utf-8") as fh:
                for number, line in enumerate(fh, 1):
                    if line.strip():
                        yield _decoded(line, f"{self.path}:{number}")
        except FileNotFoundError:
            return
        except OSError as exc:
            raise FeedbackError(f"cannot read {self.path}: {exc.strerror}") from exc


class RedisFeedback:
    """Votes as entries of one Redis stream, shared by every instance that names the server."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client = redis.Redis.from_url(
            url,
            socket_timeout=REDIS_TIMEOUT_S,
            socket_connect_timeout=REDIS_TIMEOUT_S,
            decode_responses=True,
        )

    def append(self, record: dict[str, Any]) -> None:
        import redis

        try:
            self.client.xadd(FEEDBACK_STREAM, {"vote": json.dumps(record, ensure_ascii=False)})
        except redis.RedisError as exc:
            # an OSError, as a full disk would be: what the UI tells the reader
            raise ConnectionError(
                errno.ECONNREFUSED, f"the feedback store {self.url} cannot be reached"
            ) from exc

    def records(self) -> Iterator[dict[str, Any]]:
        import redis

        start = "-"
        try:
            while True:
                batch = cast(
                    list[tuple[str, dict[str, str]]],
                    self.client.xrange(FEEDBACK_STREAM, min=start, count=EXPORT_BATCH),
                )
                for entry_id, fields in batch:
                    yield _decoded(fields.get("vote", ""), f"{FEEDBACK_STREAM} {entry_id}")
                if len(batch) < EXPORT_BATCH:
                    return
                start = "(" + batch[-1][0]  # after the last one read
        except redis.RedisError as exc:
            raise FeedbackError(f"the feedback store {self.url} cannot be read: {exc}") from exc


def _decoded(text: str, where: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except ValueError as exc:
        raise FeedbackError(f"{where}: not a JSON object ({exc})") from exc
    if not isinstance(record, dict):
        raise FeedbackError(f"{where}: not a JSON object")
    return record


def open_feedback(settings: Settings) -> FeedbackStore:
    """The store ``ASSISTANT_FEEDBACK_STORAGE`` names (nothing is connected yet)."""
    if settings.feedback_storage == "file":
        return FileFeedback(settings.feedback_file)
    return RedisFeedback(settings.feedback_storage)


def record_feedback(
    target: Path | Settings,
    *,
    question: str,
    answer: Answer | dict[str, Any],
    rating: Rating,
    article: str | None,
    comment: str | None = None,
) -> None:
    """Store one vote: in the file ``target``, or where the settings ``target`` say."""
    record = feedback_record(
        question=question, answer=answer, rating=rating, article=article, comment=comment
    )
    store = FileFeedback(target) if isinstance(target, Path) else open_feedback(target)
    store.append(record)


def as_case(record: dict[str, Any], number: int) -> dict[str, Any]:
    """A vote as a line shaped like an evaluation fixture, for an editor to finish: the
    question, its article, what was answered and the verdict; ``key_facts`` and
    ``evidence`` are left empty to fill in."""
    cited = record.get("cited_articles") or []
    article = record.get("article") or (cited[0] if len(cited) == 1 else None)
    case: dict[str, Any] = {
        "id": f"feedback-{number}",
        "question": record.get("question", ""),
        "history": [],
        "answer": record.get("answer", ""),
        "verdict": "good" if record.get("rating") == "up" else "bad",
        "abstained": bool(record.get("abstained", False)),
        "citations": record.get("citations", []),
        "key_facts": [],
        "evidence": [],
        "timestamp": record.get("timestamp"),
    }
    if article:
        case["article"] = article
    if record.get("comment"):
        case["comment"] = record["comment"]
    return case


def export_cases(store: FeedbackStore, verdict: str | None = None) -> Iterator[dict[str, Any]]:
    """Every vote in ``store`` as a fixture-shaped case, oldest first; only ``verdict``
    ("good" or "bad") ones when it is given."""
    for number, record in enumerate(store.records(), 1):
        case = as_case(record, number)
        if verdict is None or case["verdict"] == verdict:
            yield case
