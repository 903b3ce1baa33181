"""The web app, built and served here: the HTTP API under ``/api``, the widget and the
Gradio UI at ``/``, in one process, every route under the same origin, size and rate rules.

The UI (``ui.py``) is a leaf: it builds the Gradio app and knows nothing of this module.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

import gradio as gr
import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.chain import Assistant
from assistant.config import parse_origins  # parsed with the other settings
from assistant.web import api, widget
from assistant.web.limits import RateLimiter, max_body, parse_rate
from assistant.web.ui import CSS, build_ui, theme
from assistant.web.ui_gate import UIGate, replayed, ui_error

if TYPE_CHECKING:
    from assistant.config import Settings

logger = logging.getLogger(__name__)


class BodySizeLimit:
    """Refuses a request body over its route's limit (``limits.max_body``) with a 413.

    The declared Content-Length is checked first; the body is then read here, up to the
    limit, because a chunked upload declares no length. FastAPI reads whole bodies into
    memory anyway, so holding them here costs nothing more.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = max_body(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(scope["path"], limit)(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await self._too_large(scope["path"], limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, replayed(b"".join(chunks), receive), send)

    @staticmethod
    def _too_large(path: str, limit: int) -> ASGIApp:
        message = f"the request body is larger than the {limit // 1024:,} KiB allowed"
        if path.startswith("/api/"):
            return api.error_response(413, "body_too_large", message)
        return ui_error(413, "body_too_large", message)  # said in the UI's page


class SecurityHeaders:
    """Adds CSP ``frame-ancestors`` (who may frame our pages) and ``nosniff`` to responses."""

    def __init__(self, app: ASGIApp, frame_ancestors: Sequence[str]) -> None:
        self.app = app
        self.policy = " ".join(["frame-ancestors", "'self'", *frame_ancestors])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = self.policy
                headers["X-Content-Type-Options"] = "nosniff"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CatchAll:
    """Answers an unexpected exception with a 500 error JSON; the traceback goes to the log.

    A middleware rather than an ``Exception`` handler: Starlette runs those in its
    outermost layer, where the CORS and CSP headers would be missing from the 500.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            logger.exception("unexpected error in %s %s", scope.get("method"), scope.get("path"))
            if started:  # too late for another response; the server closes the connection
                raise
            response = api.error_response(
                500, "internal", "something went wrong on the server; the error was logged"
            )
            await response(scope, receive, send)


def _version() -> str:
    try:
        return version("article-assistant")
    except PackageNotFoundError:  # run from a checkout that is not installed
        return "0+unknown"


def create_app(assistant: Assistant) -> FastAPI:
    """The web app around ``assistant``: ``/api/*``, the widget and the UI at ``/``."""
    settings = assistant.settings
    origins = parse_origins(settings.allowed_origins)
    app = FastAPI(
        title="Article assistant",
        summary="Answers readers' questions about news articles, citing the sentences used.",
        version=_version(),
        # Swagger UI and ReDoc load their scripts from a CDN: not on newsroom servers
        docs_url=None,
        redoc_url=None,
    )
    app.state.assistant = assistant
    rate = parse_rate(settings.rate_limit)
    # one bucket per client for questions, whether asked through /api or the UI's page
    app.state.question_limiter = RateLimiter(rate)
    # a vote per answer at most, so the question rate bounds the votes of a reader too
    app.state.feedback_limiter = RateLimiter(rate)
    api.add_error_handlers(app)
    app.include_router(api.router)
    app.include_router(widget.router)
    ui = build_ui(assistant)

    # the last added runs first: security headers, CORS, the catch-all, body sizes, the gate
    app.add_middleware(UIGate, blocks=ui)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(CatchAll)
    # always there, granting no origin when none is allowed: Gradio leaves out its own CORS
    # layer (any origin, with credentials, when the Host is not localhost) only when the
    # app it is mounted in has this one
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        max_age=600,
    )
    app.add_middleware(SecurityHeaders, frame_ancestors=origins)

    # mounted last: "/" matches every path, so routes added after it would never be reached
    return gr.mount_gradio_app(
        app,
        ui,
        path="/",
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        footer_links=[],  # its links lead to Gradio's own API page; the API is /api
    )


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Open the index and serve the UI, the widget and the HTTP API until interrupted."""
    app = create_app(Assistant.from_settings(settings))
    # the UI keeps event streams open; without a bound, Ctrl-C would wait for them to end
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=5)
