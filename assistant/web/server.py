"""The web app: the HTTP API under ``/api`` and the Gradio UI at ``/``, in one process."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version

import gradio as gr
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.chain import Assistant
from assistant.errors import ConfigError
from assistant.web import api, widget
from assistant.web.limits import RateLimiter, max_body, parse_rate
from assistant.web.ui import CSS, build_ui, theme

logger = logging.getLogger(__name__)

# scheme://host[:port], or "*"; each one ends up inside a CSP header, where a space or
# ";" would smuggle in sources or directives of its own
_ORIGIN = re.compile(r"^(?:\*|https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?)$")


def parse_origins(text: str) -> list[str]:
    """``ASSISTANT_ALLOWED_ORIGINS`` as a list of origins; raises ``ConfigError`` on a bad one."""
    origins = [part.strip().rstrip("/") for part in text.split(",") if part.strip()]
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise ConfigError(
                f"ASSISTANT_ALLOWED_ORIGINS: {origin!r} is not an origin; "
                "use scheme://host[:port], e.g. https://news.example.org"
            )
    return origins


class BodySizeLimit:
    """Refuses an API request body over its route's limit (``limits.max_body``) with a 413.

    The declared Content-Length is checked first; the body is then read here, up to the
    limit, because a chunked upload declares no length. FastAPI reads whole bodies into
    memory anyway, so holding them here costs nothing more.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = max_body(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._too_large(limit)(scope, receive, send)
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
                await self._too_large(limit)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:  # later reads wait for the disconnect, as with the real stream
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    @staticmethod
    def _too_large(limit: int) -> ASGIApp:
        return api.error_response(
            413,
            "body_too_large",
            f"the request body is larger than the {limit // 1024:,} KiB allowed",
        )


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
    """The web app around ``assistant``: ``/api/*``, ``/openapi.json`` and the UI at ``/``."""
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
    app.state.question_limiter = RateLimiter(parse_rate(settings.rate_limit))
    api.add_error_handlers(app)
    app.include_router(api.router)
    app.include_router(widget.router)

    # the last added runs first: security headers, CORS, the catch-all, then body sizes
    app.add_middleware(BodySizeLimit)
    app.add_middleware(CatchAll)
    if origins:  # none: same origin only, so no CORS headers at all
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
        build_ui(assistant),
        path="/",
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        footer_links=["api"],
    )
