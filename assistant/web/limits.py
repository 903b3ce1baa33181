"""Request limits of the web app: body sizes, and questions per client over time.

The rate limiter is a few lines of our own rather than slowapi: slowapi wants a
module-level ``Limiter``, a ``request`` argument on every limited route and the
``limits`` package, for what here is one counter per client address in memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

# parsed with the other settings; imported from here by the web layer and its tests
from assistant.config import Rate, parse_rate  # noqa: F401

#: a request body (a question, its history and scope, or an event of the UI's page): a long
#: chat fits many times over
MAX_BODY = 64 * 1024
#: an article's JSON: news articles are tens of kilobytes, long reads a few hundred
ARTICLE_MAX_BODY = 2 * 1024 * 1024


def max_body(path: str) -> int:
    """The most bytes a request body to ``path`` may have, on any route (Gradio's too)."""
    if path == "/api/articles" or path.startswith("/api/articles/"):
        return ARTICLE_MAX_BODY
    return MAX_BODY


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
