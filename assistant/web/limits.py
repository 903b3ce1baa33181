"""Request limits of the HTTP API: body sizes, and questions per client over time.

The rate limiter is a few lines of our own rather than slowapi: slowapi wants a
module-level ``Limiter``, a ``request`` argument on every limited route and the
``limits`` package, for what here is one counter per client address in memory.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.errors import ConfigError

#: an API request body (a question, its history and scope): a long chat fits many times over
MAX_BODY = 64 * 1024
#: an article's JSON: news articles are tens of kilobytes, long reads a few hundred
ARTICLE_MAX_BODY = 2 * 1024 * 1024

_UNITS = {"second": 1.0, "minute": 60.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/|per)\s*(second|minute|hour)s?\s*$", re.IGNORECASE)


def max_body(path: str) -> int | None:
    """The most bytes a request body to ``path`` may have; ``None`` outside the API."""
    if path == "/api/articles" or path.startswith("/api/articles/"):
        return ARTICLE_MAX_BODY
    if path.startswith("/api/"):
        return MAX_BODY
    return None  # the Gradio UI sets its own limits


@dataclass(frozen=True)
class Rate:
    """At most ``count`` requests per ``period_s`` seconds."""

    count: int
    period_s: float

    def __str__(self) -> str:
        unit = next(name for name, seconds in _UNITS.items() if seconds == self.period_s)
        return f"{self.count}/{unit}"


def parse_rate(text: str) -> Rate:
    """``"30/minute"`` (or ``N/second``, ``N/hour``) as a ``Rate``; raises ``ConfigError``."""
    match = _RATE.match(text)
    if not match or int(match[1]) < 1:
        raise ConfigError(
            f"ASSISTANT_RATE_LIMIT={text!r} is not a rate: use N/second, N/minute or N/hour "
            "with N of at least 1, e.g. 30/minute"
        )
    return Rate(int(match[1]), _UNITS[match[2].lower()])


class RateLimiter:
    """A token bucket per client: ``rate.count`` at once, then one per ``period/count``.

    Each client costs one float (the GCRA "theoretical arrival time"), and clients
    idle long enough to have a full bucket again are dropped now and then, so a
    crowd of addresses cannot grow memory without bound.
    """

    def __init__(self, rate: Rate, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        self._interval = rate.period_s / rate.count
        self._due: dict[str, float] = {}
        self._sweep_at = 1024
        # routes run in a thread pool, so two requests of one client may race
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many clients are tracked."""
        return len(self._due)

    def hit(self, client: str) -> float:
        """Count one request of ``client``: 0 when allowed, else seconds until it would be."""
        with self._lock:
            now = self._clock()
            due = max(self._due.get(client, now), now) + self._interval
            wait = due - now - self.rate.period_s
            if wait > 0:
                return wait
            self._due[client] = due
            if len(self._due) >= self._sweep_at:
                self._due = {key: t for key, t in self._due.items() if t > now}
                self._sweep_at = max(1024, 2 * len(self._due))
            return 0.0


def retry_after(wait_s: float) -> str:
    """A ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s)))
