"""The web app, built and served here: the HTTP API under ``/api``, the widget and the
Gradio UI at ``/``, in one process, every route under the same origin, size and rate rules.

The UI (``ui.py``) is a leaf: it builds the Gradio app and knows nothing of this module.
Served by ``launch``, the API answers as soon as the index is open; Gradio (seconds to
import) is imported and mounted afterwards in a thread of its own, and until then ``/``
says the UI is starting.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any, Literal

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.chain import Assistant
from assistant.config import Rate, parse_origins  # parsed with the other settings
from assistant.metrics import QUESTION_LOG, QuestionMetrics, clear_multiprocess_dir
from assistant.startup import collector_paused
from assistant.web import api, monitoring, widget
from assistant.web.limits import RateLimiter, max_body, open_storage, parse_rate
from assistant.web.ui_gate import UIGate, UISlot, replayed, ui_error

if TYPE_CHECKING:
    import gradio as gr

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


#: when the Gradio UI is built: at once (``create_app`` returns it mounted), or once the app
#: has started (in a thread; ``/`` says "starting" until it is mounted)
UIWhen = Literal["now", "later"]


#: how many of the page's own events (not questions, not votes) a client may send for
#: each question the limit allows
PAGE_EVENTS_PER_QUESTION = 4


def create_app(assistant: Assistant, ui: UIWhen = "now") -> FastAPI:
    """The web app around ``assistant``: ``/api/*``, the widget, ``/metrics`` and the UI."""
    settings = assistant.settings
    origins = parse_origins(settings.allowed_origins)
    slot = UISlot()
    app = FastAPI(
        title="Article assistant",
        summary="Answers readers' questions about news articles, citing the sentences used.",
        version=_version(),
        # Swagger UI and ReDoc load their scripts from a CDN: not on newsroom servers
        docs_url=None,
        redoc_url=None,
        lifespan=_build_ui_later(assistant, slot) if ui == "later" else None,
    )
    app.state.assistant = assistant
    rate = parse_rate(settings.rate_limit)
    # one storage for both limits: this process's memory, or the Redis every instance shares
    storage = open_storage(settings.rate_limit_storage)
    # one count per client for questions, whether asked through /api or the UI's page
    app.state.question_limiter = RateLimiter(rate, storage, scope="questions")
    # a vote per answer at most, so the question rate bounds the votes of a reader too
    app.state.feedback_limiter = RateLimiter(rate, storage, scope="feedback")
    # the page's other events (loading it, picking an article, a new chat) cost a read of
    # the catalog or an article: a reader makes a few per question, a script no more
    page_rate = Rate(rate.count * PAGE_EVENTS_PER_QUESTION, rate.period_s)
    app.state.page_limiter = RateLimiter(page_rate, storage, scope="page")
    app.state.metrics = metrics = QuestionMetrics(assistant, settings.metrics_dir)
    assistant.observers.append(metrics.observe)
    api.add_error_handlers(app)
    app.include_router(api.router)
    app.include_router(widget.router)
    app.include_router(monitoring.router)

    # the last added runs first: security headers, CORS, counting, the catch-all, body
    # sizes, the gate
    app.add_middleware(UIGate, ui=slot)
    app.add_middleware(BodySizeLimit)
    app.add_middleware(CatchAll)
    app.add_middleware(monitoring.CountResponses, metrics=metrics)
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
    if ui == "now":
        mount_ui(app, build_blocks(assistant), slot)
    return app


def build_blocks(assistant: Assistant) -> gr.Blocks:
    """The Gradio UI (importing Gradio, which takes seconds)."""
    from assistant.web.ui import build_ui

    return build_ui(assistant)


def mount_ui(app: FastAPI, blocks: gr.Blocks, slot: UISlot) -> None:
    """Mount the UI at ``/``, after every other route ("/" matches every path, so a route
    added after it would never be reached), and let the gate send pages to it."""
    import gradio as gr

    from assistant.web.ui import CSS, theme

    gr.mount_gradio_app(
        app,
        blocks,
        path="/",
        theme=theme(),
        css=CSS,
        ssr_mode=False,
        footer_links=[],  # its links lead to Gradio's own API page; the API is /api
    )
    slot.fill(blocks)


#: how long the UI's build waits for the first answer before it starts anyway: importing
#: Gradio holds the one GIL the first question needs too (it took 1.5 s longer beside it)
UI_WAITS_FOR_FIRST_ANSWER_S = 3.0


def _build_ui_later(assistant: Assistant, slot: UISlot):  # type: ignore[no-untyped-def]
    """A lifespan that builds the UI in a thread once the app serves (after its first answer,
    or ``UI_WAITS_FOR_FIRST_ANSWER_S`` without one), mounts it, then prepares the
    archive-wide lexical index."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        answered = threading.Event()
        assistant.observers.append(lambda _answer: answered.set())

        def build() -> None:
            answered.wait(UI_WAITS_FOR_FIRST_ANSWER_S)
            try:
                blocks = build_blocks(assistant)
                asyncio.run_coroutine_threadsafe(_start_ui(app, blocks, slot), loop).result()
            except Exception:
                logger.exception("the UI could not be built; the API goes on answering")
            # then the archive-wide lexical index (seconds for a large archive), which only
            # a question across all articles needs: the widget's name their article
            assistant.knowledge.prepare_archive()

        threading.Thread(target=build, name="build-ui", daemon=True).start()
        yield

    return lifespan


async def _start_ui(app: FastAPI, blocks: gr.Blocks, slot: UISlot) -> None:
    # in the event loop: the routes change between two requests, and Gradio's queue
    # starts its tasks here (what its own lifespan would have done at start-up)
    mount_ui(app, blocks, slot)
    blocks.run_startup_events()
    await blocks.run_extra_startup_events()
    logger.info("the UI is ready at /")


def app_from_environment() -> FastAPI:
    """The app of one worker of ``assistant serve --workers N``: settings from the
    environment, the index opened, the UI built once the worker serves."""
    from assistant.config import load_settings

    settings = load_settings()
    show_logs()
    return create_app(open_assistant(settings), ui="later")


def open_assistant(settings: Settings) -> Assistant:
    """This process's assistant, opened as a start should (``startup.py``: the collector
    paused over the imports and the opening, not over indexing a first start's articles)."""
    announce_start(settings)
    with collector_paused():
        assistant = Assistant.opened(settings)
    assistant.reconcile()
    return assistant


def announce_start(settings: Settings) -> None:
    """Log that this start exports the model first, when it does (the first start)."""
    if settings.onnx:
        from assistant.onnx_embedder import announce_export

        announce_export(settings.model_dir(), settings.onnx_cache())


def show_logs() -> None:
    """The app's own INFO lines on stderr (uvicorn sets up only its own loggers): the
    progress of a first start, and one JSON line per question."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(message)s"))
    for name in ("assistant", QUESTION_LOG):
        log = logging.getLogger(name)
        log.setLevel(logging.INFO)
        if not log.handlers:
            log.addHandler(handler)
    logging.getLogger(QUESTION_LOG).propagate = False


#: no route speaks WebSocket (the API is HTTP, Gradio's queue uses server-sent events):
#: uvicorn then neither imports the websockets library at start (a few hundredths of a
#: second before the first answer) nor accepts an upgrade no route would serve
WEBSOCKETS = "none"


def launch(settings: Settings, host: str = "127.0.0.1", port: int = 7860, workers: int = 1) -> None:
    """Open the index and serve the HTTP API, the widget and then the UI until interrupted;
    ``workers`` processes share the port (each opens the index and answers)."""
    show_logs()
    if settings.metrics_dir is not None:
        clear_multiprocess_dir(settings.metrics_dir)  # the counts of an earlier run
    # the UI keeps event streams open; without a bound, Ctrl-C would wait for them to end
    served: dict[str, Any] = {
        "host": host,
        "port": port,
        "timeout_graceful_shutdown": 5,
        "ws": WEBSOCKETS,
    }
    if workers > 1:
        factory = "assistant.web.server:app_from_environment"
        uvicorn.run(factory, factory=True, workers=workers, **served)
        return
    uvicorn.run(create_app(open_assistant(settings), ui="later"), **served)
