"""A reader's page of the Gradio UI, driven over HTTP as the browser drives it: an event is
posted to ``/gradio_api/queue/join``, its result read from the ``/gradio_api/queue/data``
event stream. Events are named by the UI's handler (``respond``, ``on_like``, ...), as the
page's ``/config`` lists them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Result:
    """How an event ended: its outputs, or the error the page would show."""

    success: bool
    data: list[Any] = field(default_factory=list)
    error: str | None = None


def _event_lines(stream: httpx.Response) -> Iterator[str]:
    """The stream's lines as an event stream has them: split at line feeds only (httpx's
    ``iter_lines`` splits at every Unicode line break, which JSON strings may hold)."""
    pending = b""
    for chunk in stream.iter_bytes():
        *lines, pending = (pending + chunk).split(b"\n")
        yield from (line.rstrip(b"\r").decode() for line in lines)


class Page:
    """One page session (its own ``session_hash``) on the app at ``base``."""

    def __init__(self, base: str, client: httpx.Client | None = None) -> None:
        self.base = base
        self.client = client or httpx.Client(timeout=60)
        self.session = secrets.token_hex(6)
        config = self.client.get(f"{base}/config").raise_for_status().json()
        self.events = {dep["api_name"]: dep["id"] for dep in config["dependencies"]}

    def join(self, event: str, data: list[Any], event_data: Any = None) -> httpx.Response:
        """Post the event as the page does; the response says whether it was taken."""
        body = {
            "data": data,
            "event_data": event_data,
            "fn_index": self.events[event],
            "trigger_id": None,
            "session_hash": self.session,
        }
        return self.client.post(f"{self.base}/gradio_api/queue/join", json=body)

    def result(self, event_id: str) -> Result:
        """Wait for the event's end on the session's event stream."""
        url = f"{self.base}/gradio_api/queue/data"
        with self.client.stream("GET", url, params={"session_hash": self.session}) as stream:
            for line in _event_lines(stream):
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("event_id") != event_id:
                    continue
                if message.get("msg") == "process_completed":
                    output = message.get("output") or {}
                    if message.get("success"):
                        return Result(True, data=output.get("data", []))
                    return Result(False, error=str(output.get("error")))
                if message.get("msg") == "unexpected_error":
                    return Result(False, error=str(message.get("message")))
        raise AssertionError(f"the event stream ended before event {event_id} did")

    def run(self, event: str, data: list[Any], event_data: Any = None) -> Result:
        """Post the event and wait for its end; the post must be taken."""
        joined = self.join(event, data, event_data)
        assert joined.status_code == 200, joined.text
        return self.result(joined.json()["event_id"])

    def ask(self, question: str, article: str = "") -> Result:
        """Submit a question as the page does: the check, then the answer."""
        checked = self.run("check", [question, None, article])
        if not checked.success:
            return checked
        return self.run("respond", [question, None, article])
