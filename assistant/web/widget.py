"""The embeddable widget: ``/widget.js`` (the script news sites paste), ``/widget`` (the
small chat page it frames) and ``/widget/check`` (what the script asks before framing it).
The first two are static files served from our own server."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from assistant.chain import Assistant
from assistant.config import parse_origins

STATIC = Path(__file__).resolve().parent / "static"

#: where ``widget.html`` takes the question length limit (``ASSISTANT_MAX_QUESTION_CHARS``)
MAX_CHARS_SLOT = b"__MAX_QUESTION_CHARS__"

router = APIRouter(include_in_schema=False)


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


def _assistant(request: Request) -> Assistant:
    return cast(Assistant, request.app.state.assistant)


@router.get("/widget.js")
def widget_script() -> Response:
    """The embed script: adds the launcher and frames ``/widget``."""
    return Response(
        _asset("widget.js"),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget")
def widget_page(request: Request) -> HTMLResponse:
    """The chat page inside the iframe (no Gradio bundle: it calls ``/api/ask``)."""
    limit = str(_assistant(request).settings.max_question_chars).encode()
    page = _asset("widget.html").replace(MAX_CHARS_SLOT, limit)
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


class WidgetCheck(BaseModel):
    """What ``widget.js`` learns before it frames the chat, to tell the site's developer
    (in the browser console) what to fix instead of showing readers a broken frame."""

    origin: str | None = Field(description="the page's origin, as its browser sent it")
    origin_allowed: bool = Field(description="whether that origin may frame the widget")
    article: str | None = Field(description="the data-article asked about")
    article_known: bool = Field(description="whether it is indexed (true when none is asked)")


def origin_allowed(request: Request, origin: str | None) -> bool:
    """Whether a page on ``origin`` may frame ``/widget``: our own origin, or one listed in
    ``ASSISTANT_ALLOWED_ORIGINS`` (the CSP ``frame-ancestors`` of ``server.py``)."""
    if not origin:  # a same-origin request without an Origin header
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    allowed = parse_origins(_assistant(request).settings.allowed_origins)
    return origin == own or origin in allowed


@router.get("/widget/check")
def widget_check(request: Request, article: str = "") -> JSONResponse:
    """Whether the asking page may frame the widget, and whether its article is indexed.

    Readable from any origin (a refused site is the one that needs the answer); it tells
    nothing that ``/api/articles`` and the CSP header do not already."""
    assistant = _assistant(request)
    origin = request.headers.get("origin")
    assistant.refresh_if_changed()
    body = WidgetCheck(
        origin=origin,
        origin_allowed=origin_allowed(request, origin),
        article=article or None,
        article_known=not article or article in assistant.catalog,
    )
    return JSONResponse(
        body.model_dump(),
        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"},
    )
