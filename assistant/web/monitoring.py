"""``GET /metrics`` and the middleware that counts responses, over ``metrics.QuestionMetrics``.

``/metrics`` is the Prometheus text format. It is not for the public: by default
(``ASSISTANT_METRICS=admin``) it wants the bearer ``ASSISTANT_ADMIN_TOKEN`` and is off while
no token is set; ``open`` serves it to anyone (a port only the scraper reaches), ``off``
never.
"""

from __future__ import annotations

import secrets
from typing import cast

from fastapi import APIRouter, Request, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.metrics import QuestionMetrics, route_label
from assistant.web import api

router = APIRouter(include_in_schema=False)

#: the Prometheus text format's media type (prometheus_client.CONTENT_TYPE_LATEST)
TEXT_FORMAT = "text/plain; version=1.0.0; charset=utf-8"


def _allowed(request: Request) -> None:
    """Raise ``ApiError`` unless the settings let this request read the metrics."""
    settings = api.get_assistant(request).settings
    token = settings.admin_token
    if settings.metrics == "off" or (settings.metrics == "admin" and token is None):
        raise api.ApiError(
            404,
            "metrics_disabled",
            "metrics are off: set ASSISTANT_METRICS=open, or ASSISTANT_ADMIN_TOKEN and send it",
        )
    if settings.metrics == "open" or token is None:
        return
    header = request.headers.get("authorization", "")
    given = header.removeprefix("Bearer ").encode() if header.startswith("Bearer ") else b""
    if not secrets.compare_digest(given, token.get_secret_value().encode()):
        raise api.ApiError(
            401,
            "unauthorized",
            "send the header 'Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>' to read metrics",
            headers={"WWW-Authenticate": "Bearer"},
        )


@router.get("/metrics")
def metrics(request: Request) -> Response:
    """Counts of questions, refusals, fallbacks, error responses, 429s; latency; index size."""
    _allowed(request)
    collected = cast(QuestionMetrics, request.app.state.metrics)
    return Response(collected.exposition(), media_type=TEXT_FORMAT)


class CountResponses:
    """Counts every response's status by route (4xx and 5xx, 429s among them)."""

    def __init__(self, app: ASGIApp, metrics: QuestionMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.metrics.response(route_label(scope["path"]), int(message["status"]))
            await send(message)

        await self.app(scope, receive, counted)
