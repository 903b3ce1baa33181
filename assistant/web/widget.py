"""The embeddable widget: ``/widget.js`` (the script news sites paste) and ``/widget`` (the
small chat page it frames). Both are static files served from our own server."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@cache
def _asset(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@router.get("/widget.js")
def widget_script() -> Response:
    """The embed script: adds the launcher and frames ``/widget``."""
    return Response(
        _asset("widget.js"),
        media_type="application/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )


@router.get("/widget")
def widget_page() -> HTMLResponse:
    """The chat page inside the iframe (no Gradio bundle: it calls ``/api/ask``)."""
    return HTMLResponse(_asset("widget.html"), headers={"Cache-Control": "no-cache"})
