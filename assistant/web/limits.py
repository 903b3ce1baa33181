"""Request limits of the web app: body sizes, and questions per client over time.

Questions are counted by the ``limits`` library in a moving window per client address:
in this process (``memory://``) or in Redis (``redis://host:port``), where every instance
that names the same Redis draws from one count per client, so two app processes allow
the limit once, not twice.

A limit is a guard, not a reason to stop answering: when Redis cannot be reached the
request is let through (fail open), one warning says so, and for ``RETRY_S`` no request
waits on the storage again; the next one after that tries it, and once Redis answers
again the limit holds as before (with the counts Redis kept).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

# parsed with the other settings; imported from here by the web layer and its tests
from assistant.config import Rate, parse_rate  # noqa: F401

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.storage import Storage
    from limits.strategies import MovingWindowRateLimiter

logger = logging.getLogger(__name__)

#: a request body (a question, its history and scope, or an event of the UI's page): a long
#: chat fits many times over
MAX_BODY = 64 * 1024
#: an article's JSON: news articles are tens of kilobytes, long reads a few hundred
ARTICLE_MAX_BODY = 2 * 1024 * 1024

#: seconds a Redis that failed is left alone before a request tries it again
RETRY_S = 1.0
#: seconds a request may wait on Redis (connecting or answering) before it is let through
REDIS_TIMEOUT_S = 0.5


def max_body(path: str) -> int:
    """The most bytes a request body to ``path`` may have, on any route (Gradio's too)."""
    if path == "/api/articles" or path.startswith("/api/articles/"):
        return ARTICLE_MAX_BODY
    return MAX_BODY


def open_storage(uri: str) -> Storage:
    """The ``limits`` storage at ``uri`` (``memory://`` or ``redis://...``); connects lazily,
    with short timeouts, and wraps Redis' errors in ``limits.errors.StorageError``."""
    from limits.storage import storage_from_string

    if uri.startswith("memory://"):
        return cast("Storage", storage_from_string(uri))
    storage = storage_from_string(
        uri,
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
        key_prefix="assistant-limits",
    )
    return cast("Storage", storage)


def _item(rate: Rate) -> RateLimitItem:
    from limits import RateLimitItemPerHour, RateLimitItemPerMinute, RateLimitItemPerSecond

    kinds = {1.0: RateLimitItemPerSecond, 60.0: RateLimitItemPerMinute}
    return kinds.get(rate.period_s, RateLimitItemPerHour)(rate.count)


class RateLimiter:
    """At most ``rate`` requests per client in any window of ``rate.period_s`` seconds.

    ``scope`` keeps two limiters on one storage apart (questions, feedback). Storage
    failures let requests through (see the module's docstring).
    """

    def __init__(
        self,
        rate: Rate,
        storage: Storage | None = None,
        scope: str = "questions",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from limits.strategies import MovingWindowRateLimiter

        self.rate = rate
        self.scope = scope
        self.storage = storage if storage is not None else open_storage("memory://")
        self._limiter: MovingWindowRateLimiter = MovingWindowRateLimiter(self.storage)
        self._item = _item(rate)
        self._clock = clock
        #: when the storage last failed (``None``: it works); guarded by ``_lock``
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    @property
    def failing(self) -> bool:
        """Whether the storage failed at the last try (requests are let through meanwhile)."""
        return self._failed_at is not None

    def hit(self, client: str) -> float:
        """Count one request of ``client``: 0 when allowed, else seconds until it would be."""
        from limits.errors import StorageError

        with self._lock:
            failed_at = self._failed_at
        if failed_at is not None and self._clock() - failed_at < RETRY_S:
            return 0.0
        try:
            if self._limiter.hit(self._item, self.scope, client):
                self._recovered()
                return 0.0
            reset_at = self._limiter.get_window_stats(self._item, self.scope, client).reset_time
        except StorageError as exc:
            self._failed(exc)
            return 0.0
        self._recovered()
        return max(reset_at - time.time(), 0.001)

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._failed_at is None
            self._failed_at = self._clock()
        if first:  # once per outage, not once per request
            logger.warning(
                "rate limits are not enforced: their storage failed (%s); questions are "
                "answered meanwhile, and the limit holds again once it is back",
                getattr(exc, "storage_error", exc),
            )

    def _recovered(self) -> None:
        with self._lock:
            was_failing = self._failed_at is not None
            self._failed_at = None
        if was_failing:
            logger.warning("rate limits are enforced again: their storage is back")


def retry_after(wait_s: float) -> str:
    """A ``Retry-After`` header value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(wait_s)))
