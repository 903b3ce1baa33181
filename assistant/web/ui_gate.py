"""Gradio's own routes under the API's rules: only what the UI's page uses, and its limits.

Gradio serves many routes beside the page: uploads, files, an API of its own, run history,
monitoring. The page needs a handful (itself, its scripts and styles, and the event queue),
so ``UIGate`` answers every other one with a 404. What the page posts to run an event is
checked before Gradio reads it, and the events that ask a question count against the
client's question limit, the very bucket ``/api/ask`` draws from; the ones that record
feedback count against a feedback limit of their own. Body sizes are ``BodySizeLimit``'s,
origins the app's CORS policy: both apply to every route.

Refusals are the API's error JSON plus ``detail``: the field Gradio's page shows the reader.

The UI may be mounted after the app has started (``server.py`` imports Gradio only once the
API answers): until then ``UISlot`` is empty and every page request is told the UI is
starting (503, ``Retry-After``), while the API answers as usual.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.web import api
from assistant.web.limits import RateLimiter

if TYPE_CHECKING:
    import gradio as gr
    from gradio.block_function import BlockFunction

_READ = frozenset({"GET", "HEAD"})
_POST = frozenset({"POST"})

#: Gradio's routes the page uses (paths below the mount at "/"), as a browser shows them
UI_ROUTES: tuple[tuple[frozenset[str], re.Pattern[str]], ...] = (
    (_READ, re.compile(r"/|/config/?|/theme\.css|/favicon\.ico|/robots\.txt")),
    (_READ, re.compile(r"/(?:assets|static)/.+")),
    (_READ, re.compile(r"/gradio_api/heartbeat/[^/]+")),
    (_READ, re.compile(r"/gradio_api/queue/data")),
    (_POST, re.compile(r"/gradio_api/queue/join")),  # an event that runs in the queue
    (_POST, re.compile(r"/gradio_api/run/predict")),  # one that does not (filling an example)
)


class EventRequest(BaseModel):
    """What the page posts to run one of its events: the part of Gradio's body it sends."""

    # strict: Gradio reads the same body again, so nothing is coerced into shape here
    model_config = ConfigDict(extra="forbid", strict=True)

    data: list[Any] = Field(description="one value per input of the event")
    fn_index: int = Field(description="which event")
    session_hash: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="the page's id")
    trigger_id: int | None = None
    event_data: Any = None


def ui_error(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The API's error JSON, with ``detail``: what Gradio's page shows in its error notice."""
    body = api.error_body(code, message).model_dump()
    return JSONResponse(
        {**body, "detail": body["error"]["message"]}, status_code=status, headers=headers
    )


def replayed(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the app ``body`` (already read) again, then the real stream."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:  # later reads wait for the disconnect, as with the real stream
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


#: what a page request gets while the UI is being built: it reloads itself
STARTING_PAGE = (
    "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=2>"
    "<title>Article assistant: starting</title>"
    "<p>The article assistant is starting; this page reloads itself in a moment."
)


class UISlot:
    """The Gradio UI once it is built; empty before (the page then says "starting")."""

    def __init__(self, blocks: gr.Blocks | None = None) -> None:
        self.events: dict[int, BlockFunction] | None = None
        if blocks is not None:
            self.fill(blocks)

    def fill(self, blocks: gr.Blocks) -> None:
        """The UI is built: its events are the ones pages may run."""
        self.events = dict(blocks.fns)


class UIGate:
    """Lets through the API's routes, and of Gradio's only ``UI_ROUTES``, with their limits.

    Plain ASGI like the app's other middlewares: the page keeps event streams open through
    it, which Starlette's ``BaseHTTPMiddleware`` would relay through a task of its own.
    """

    def __init__(self, app: ASGIApp, ui: UISlot) -> None:
        self.app = app
        self.ui = ui

    @property
    def events(self) -> dict[int, BlockFunction]:
        """The events of the UI's page (none before it is built)."""
        return self.ui.events or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.ui.events is None and _page_request(scope):
            page = HTMLResponse(STARTING_PAGE, status_code=503, headers={"Retry-After": "2"})
            await page(scope, receive, send)
            return
        if scope["type"] != "http" or not _taken_by_gradio(scope):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if not any(method in methods and route.fullmatch(path) for methods, route in UI_ROUTES):
            # quoted as the API quotes an unknown path: no control character comes back
            message = (
                f"no route {method} {quote(path, safe='/=')}; the UI is at /, the API under /api"
            )
            await ui_error(404, "not_found", message)(scope, receive, send)
            return
        if method == "POST":
            request = Request(scope, receive)
            body = await request.body()  # BodySizeLimit, before this, has bounded it
            refusal = self.check_event(request, body, queued=path.endswith("/queue/join"))
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            receive = replayed(body, receive)
        await self.app(scope, receive, send)

    def check_event(self, request: Request, body: bytes, queued: bool) -> JSONResponse | None:
        """``None`` when the page may run this event now, else the refusal to answer with."""
        try:
            event = EventRequest.model_validate_json(body)
        except ValidationError as exc:
            return ui_error(422, "invalid_request", api.describe_validation(exc.errors()))
        from assistant.web.ui import FEEDBACK, QUESTIONS

        fn = self.events.get(event.fn_index)
        if fn is None or fn.queue != queued:
            return ui_error(404, "unknown_event", f"the page has no event {event.fn_index}")
        state = request.app.state
        try:
            if fn.concurrency_id == QUESTIONS:
                api.limit_questions(request)
            elif fn.concurrency_id == FEEDBACK:
                api.enforce(cast(RateLimiter, state.feedback_limiter), request, "votes")
            else:  # the page's own events: loading, picking an article, a new chat
                api.enforce(cast(RateLimiter, state.page_limiter), request, "page requests")
        except api.ApiError as exc:
            return ui_error(exc.status, exc.code, exc.message, exc.headers)
        return None


def _taken_by_gradio(scope: Scope) -> bool:
    """Whether the app's router hands ``scope`` to Gradio: its mount is the first full match.

    The router's own rule, so a path the API takes (or answers with 404, 405) is left to it.
    """
    for route in Request(scope).app.routes:
        if route.matches(scope)[0] is Match.FULL:
            return isinstance(route, Mount)
    return False


def _page_request(scope: Scope) -> bool:
    """Whether no route of the app takes ``scope``: a request for the UI (or for nothing)."""
    if scope["path"].startswith("/api/"):
        return False
    return not any(route.matches(scope)[0] is Match.FULL for route in Request(scope).app.routes)
