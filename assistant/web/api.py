"""The HTTP API under ``/api``: requests in, ``Assistant`` calls, JSON (or error JSON) out.

Every error leaves as ``{"error": {"code": "...", "message": "..."}}`` with a fitting
status; the routes hold no logic of their own beyond that translation.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from http import HTTPStatus
from typing import Annotated, Any, cast
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.exceptions import HTTPException

from assistant.articles import check_article_id, is_web_url
from assistant.chain import Assistant
from assistant.errors import (
    ArticleError,
    ArticleTooLargeError,
    AssistantError,
    IndexNotBuiltError,
    LLMError,
    QuestionError,
    StoreError,
    UnknownArticleError,
)
from assistant.schemas import Answer, Article, Delta, StreamEvent, Turn
from assistant.suggestions import Suggestions
from assistant.text import binary_character, strip_control
from assistant.web.limits import RateLimiter, retry_after

logger = logging.getLogger(__name__)

#: HTTP status of each kind of ``AssistantError`` (first match wins); others are 500
STATUS_OF_ERROR: tuple[tuple[type[AssistantError], int], ...] = (
    (QuestionError, 400),
    (UnknownArticleError, 404),
    (ArticleTooLargeError, 413),
    (ArticleError, 400),
    (StoreError, 503),
    (IndexNotBuiltError, 503),
    (LLMError, 503),
)

#: error codes of the statuses FastAPI and Starlette raise themselves
CODE_OF_STATUS = {413: "body_too_large", 422: "invalid_request"}

#: a validation error names this many problems; the rest are counted
MAX_PROBLEMS_SHOWN = 3

DISABLED_MESSAGE = "article ingestion over HTTP is disabled (set ASSISTANT_ADMIN_TOKEN)"


# -- the JSON ------------------------------------------------------------------------------


class AskRequest(BaseModel):
    """The body of ``POST /api/ask``."""

    # a misspelt field ("article_id") would otherwise be dropped and the scope lost
    model_config = ConfigDict(extra="forbid")

    question: str = Field(description="the reader's question")
    history: list[Turn] = Field(
        default_factory=list, description="earlier turns of the conversation, oldest first"
    )
    article: str | None = Field(None, description="answer from this article id only")


class ArticleRequest(BaseModel):
    """The body of ``POST /api/articles``: an article to add or replace."""

    # stripped here as the articles folder reader strips, so offsets match after a re-index
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, description="letters, digits, '.', '_' and '-'")
    title: str = Field(min_length=1)
    body: str = Field(min_length=1, description="the article text that citations point into")
    url: str | None = Field(None, description="an http(s) link to the article")
    published: str | None = Field(None, description="ISO date")
    author: str | None = None

    @field_validator("id", "title", "body", "url", "published", "author")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        # what the articles folder would refuse as binary, refused before it is saved
        found = binary_character(value) if value is not None else None
        if found:
            raise ValueError(f"holds {found}, which has no place in article text")
        return value

    @field_validator("url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        if value and not is_web_url(value):
            raise ValueError("must be an http:// or https:// link")
        return value or None


class ArticleSummary(BaseModel):
    """One indexed article, as ``GET /api/articles`` lists it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str
    url: str | None
    published: str | None
    passages: int


class Health(BaseModel):
    """``GET /api/health``: the service is up and what it serves."""

    status: str
    articles: int
    passages: int
    mode: str


class ErrorDetail(BaseModel):
    """What went wrong: a stable code and a sentence for a person."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """Every error response."""

    error: ErrorDetail


#: what splits a line (str.splitlines' set), replaced in error messages
_LINE_BREAKS = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")


def error_body(code: str, message: str) -> ErrorBody:
    """An error's JSON, its message on one line whatever of the request it quotes, and
    without the control characters (bidirectional ones too) it might quote."""
    one_line = _LINE_BREAKS.sub(" ", message)
    return ErrorBody(error=ErrorDetail(code=code, message=strip_control(one_line)))


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The error JSON every failure of the API is answered with."""
    body = error_body(code, message)
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error statuses a route can answer with."""
    return {status: {"model": ErrorBody} for status in statuses}


# -- errors --------------------------------------------------------------------------------


class ApiError(Exception):
    """An HTTP-only failure (authentication, rate limit, unknown route)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def status_of(exc: AssistantError) -> int:
    """The HTTP status for an error of the assistant."""
    return next((status for kind, status in STATUS_OF_ERROR if isinstance(exc, kind)), 500)


def describe_validation(errors: Sequence[Any]) -> str:
    """One line saying what is wrong with a request FastAPI could not validate."""
    problems: list[str] = []
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = error.get("ctx", {}).get("error", "cannot be decoded")
            return f"the request body is not valid JSON ({reason})"
        loc = tuple(error.get("loc", ()))
        # FastAPI puts every body problem under "body"; a field may be named "body" too
        where = ".".join(str(part) for part in (loc[1:] if loc[:1] == ("body",) else loc))
        if not where:
            return "the request body must be a JSON object (sent as application/json)"
        problems.append(f"{where}: {_problem(error)}")
    if not problems:
        return "the request is not valid"
    shown = MAX_PROBLEMS_SHOWN
    more = f" (and {len(problems) - shown} more)" if len(problems) > shown else ""
    return "; ".join(problems[:shown]) + more


def _problem(error: Mapping[str, Any]) -> str:
    """What is wrong with one field, in words."""
    message = str(error.get("msg", "invalid value"))
    # a validator's own message, without pydantic's prefix
    return message.removeprefix("Value error, ")


async def handle_error(request: Request, exc: Exception) -> JSONResponse:
    """The error JSON for an exception raised on purpose, by a route or by FastAPI."""
    if isinstance(exc, ApiError):
        return error_response(exc.status, exc.code, exc.message, exc.headers)
    if isinstance(exc, AssistantError):
        status = status_of(exc)
        if status >= 500:  # the operator has something to fix (a store, a model, a setting)
            logger.error("%s %s: %s: %s", request.method, request.url.path, exc.code, exc)
        return error_response(status, exc.code, str(exc))
    if isinstance(exc, RequestValidationError):
        return error_response(422, "invalid_request", describe_validation(exc.errors()))
    if isinstance(exc, HTTPException):
        status = exc.status_code
        code = CODE_OF_STATUS.get(status) or HTTPStatus(status).phrase.lower().replace(" ", "_")
        return error_response(status, code, str(exc.detail), exc.headers)
    raise exc  # not registered for anything else


def add_error_handlers(app: FastAPI) -> None:
    """Answer every error the routes and FastAPI raise with the error JSON."""
    for kind in (ApiError, AssistantError, RequestValidationError, HTTPException):
        app.add_exception_handler(kind, handle_error)


# -- dependencies --------------------------------------------------------------------------


def get_assistant(request: Request) -> Assistant:
    """The assistant ``create_app`` was given."""
    return cast(Assistant, request.app.state.assistant)


AssistantDep = Annotated[Assistant, Depends(get_assistant)]

bearer = HTTPBearer(auto_error=False, description="the ASSISTANT_ADMIN_TOKEN")


def limit_questions(request: Request) -> None:
    """Count a question against its client's rate limit; 429 once it is spent."""
    enforce(cast(RateLimiter, request.app.state.question_limiter), request, "questions")


def enforce(limiter: RateLimiter, request: Request, what: str) -> None:
    """Count one request of ``what`` against its client's ``limiter``: ``ApiError`` 429,
    with Retry-After, once the client has spent it."""
    # the peer address; behind a reverse proxy uvicorn's --forwarded-allow-ips sets it
    # from X-Forwarded-For, which is not read here because any client can forge it
    client = request.client.host if request.client else "unknown"
    wait = limiter.hit(client)
    if wait:
        seconds = retry_after(wait)
        raise ApiError(
            429,
            "rate_limited",
            f"too many {what} (the limit is {limiter.rate} per client); try again in {seconds} s",
            headers={"Retry-After": seconds},
        )


def require_admin(assistant: Assistant, credentials: HTTPAuthorizationCredentials | None) -> None:
    """Let the request through only with ``Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>``."""
    token = assistant.settings.admin_token
    if token is None:
        raise ApiError(403, "ingestion_disabled", DISABLED_MESSAGE)
    # bytes, since compare_digest refuses str with non-ASCII characters
    given = credentials.credentials.encode() if credentials else b""
    if not secrets.compare_digest(given, token.get_secret_value().encode()):
        raise ApiError(
            401,
            "unauthorized",
            "send the header 'Authorization: Bearer <ASSISTANT_ADMIN_TOKEN>' with the right token",
            headers={"WWW-Authenticate": "Bearer"},
        )


class AdminRoute(APIRoute):
    """A route for the admin only: the token is checked before FastAPI reads and validates
    the body (dependencies run after that), so an anonymous caller gets 401, never a
    422 saying what the body should hold."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def authorized_first(request: Request) -> Response:
            require_admin(get_assistant(request), await bearer(request))
            return await handler(request)

        return authorized_first


# -- routes --------------------------------------------------------------------------------

router = APIRouter(prefix="/api")
#: the routes that change the articles (``AdminRoute``); included in ``router``
admin = APIRouter(route_class=AdminRoute)


#: the stream's media type; ``Accept: text/event-stream`` on ``/api/ask`` asks for it
EVENT_STREAM = "text/event-stream"

_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the answer JSON; or, with `Accept: text/event-stream`, server-sent "
        'events: `delta` ({"text"}: the model\'s draft as it is written), then one '
        "`answer` (the answer JSON, verified, with citations) or `error` "
        '({"error": {"code", "message"}})',
        "content": {EVENT_STREAM: {}},
    }
}


def sse(event: str, data: object) -> bytes:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def sse_error(code: str, message: str) -> bytes:
    """The ``error`` event: the error JSON every failure of the API is answered with."""
    return sse("error", error_body(code, message).model_dump())


def event_stream(events: Iterator[StreamEvent]) -> Iterator[bytes]:
    """``Assistant.stream`` events as server-sent events; a failure ends in an ``error`` one."""
    try:
        for event in events:
            if isinstance(event, Delta):
                yield sse("delta", {"text": event.text})
            else:
                yield sse("answer", event.answer.model_dump(mode="json"))
    except AssistantError as exc:  # the status line has gone: the error travels as an event
        logger.error("stream failed: %s: %s", exc.code, exc)
        yield sse_error(exc.code, str(exc))
    except Exception:
        logger.exception("stream failed")
        yield sse_error("internal", "something went wrong on the server; the error was logged")


def stream_response(body: AskRequest, assistant: Assistant) -> StreamingResponse:
    """The answer as server-sent events; a bad question fails before, with its JSON error."""
    events = assistant.stream(body.question, history=body.history, article=body.article or None)
    return StreamingResponse(
        event_stream(events),
        media_type=EVENT_STREAM,
        # proxies (nginx) would otherwise hold the events back until the answer is done
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.post(
    "/ask",
    dependencies=[Depends(limit_questions)],
    responses={**_STREAM_DOC, **_errors(400, 404, 413, 422, 429, 503)},
    response_model=Answer,
)
def ask(body: AskRequest, assistant: AssistantDep, request: Request) -> Response | Answer:
    """Answer a question about the articles, citing the sentences the answer uses.

    With ``Accept: text/event-stream`` the answer streams as server-sent events.
    """
    if EVENT_STREAM in request.headers.get("accept", ""):
        return stream_response(body, assistant)
    # "" is what a form sends for "all articles"
    return assistant.ask(body.question, history=body.history, article=body.article or None)


@router.post(
    "/ask/stream",
    dependencies=[Depends(limit_questions)],
    responses={**_STREAM_DOC, **_errors(400, 404, 413, 422, 429, 503)},
    response_class=StreamingResponse,
)
def ask_stream(body: AskRequest, assistant: AssistantDep) -> StreamingResponse:
    """The answer as server-sent events: ``delta``s of the draft, then ``answer`` (or ``error``)."""
    return stream_response(body, assistant)


@router.get("/articles", responses=_errors(503))
def list_articles(assistant: AssistantDep) -> list[ArticleSummary]:
    """The indexed articles, by title."""
    assistant.refresh_if_changed()
    return [ArticleSummary.model_validate(info) for info in assistant.articles()]


class SuggestedQuestions(BaseModel):
    """``GET /api/articles/{id}/suggestions``: questions the article answers."""

    article: str
    questions: list[str] = Field(description="two or three, from the article's own sentences")


@router.get("/articles/{article_id}/suggestions", responses=_errors(400, 404, 503))
def article_suggestions(
    article_id: str, assistant: AssistantDep, request: Request
) -> SuggestedQuestions:
    """Questions to offer a reader (on an empty chat, under a refusal): ones the assistant
    answers from this article, drawn from its own sentences (names, numbers, quotes)."""
    assistant.refresh_if_changed()
    state = request.app.state
    if getattr(state, "suggestions", None) is None:  # one per app: it remembers answers
        state.suggestions = Suggestions(assistant)
    questions = state.suggestions.for_article(check_article_id(article_id))
    return SuggestedQuestions(article=article_id, questions=questions)


@admin.post(
    "/articles",
    # the check itself is AdminRoute's; this names the scheme in the OpenAPI schema
    dependencies=[Depends(bearer)],
    responses={
        201: {"model": ArticleSummary, "description": "added"},
        **_errors(400, 401, 403, 413, 422, 503),
    },
)
def put_article(
    article: ArticleRequest, assistant: AssistantDep, response: Response
) -> ArticleSummary:
    """Add an article, or replace the one with its id; it is answerable at once."""
    response.status_code = 200 if article.id in assistant.catalog else 201
    info = assistant.add_article(Article(**article.model_dump()))
    return ArticleSummary.model_validate(info)


@admin.delete(
    "/articles/{article_id}",
    dependencies=[Depends(bearer)],
    status_code=204,
    responses=_errors(400, 401, 403, 404, 503),
)
def delete_article(article_id: str, assistant: AssistantDep) -> Response:
    """Remove an article from the articles folder and the index."""
    assistant.remove_article(check_article_id(article_id))
    return Response(status_code=204)


router.include_router(admin)


@router.get("/health", responses=_errors(503))
def health(assistant: AssistantDep) -> Health:
    """Whether the service is up; counting passages asks the store, so a lost store shows,
    and so do its files deleted under the app (which answers from what it has open)."""
    assistant.refresh_if_changed()
    assistant.store.check_files()
    return Health(
        status="ok",
        articles=len(assistant.catalog),
        passages=assistant.store.count(),
        mode=assistant.settings.llm,
    )


# registered last: the gradio app mounted at "/" would otherwise answer these with HTML
@router.api_route(
    "/{path:path}",
    methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    include_in_schema=False,
)
def unknown_route(request: Request, path: str) -> None:
    """404 (or 405 for a known path) in the error JSON, for any other ``/api`` request."""
    allowed = sorted(
        method
        for route in router.routes
        if isinstance(route, APIRoute)
        and route.endpoint is not unknown_route
        and route.path_regex.match(request.scope["path"])
        for method in route.methods or ()
    )
    if allowed:
        raise ApiError(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; use {', '.join(allowed)}",
            headers={"Allow": ", ".join(allowed)},
        )
    raise ApiError(
        404,
        "not_found",
        f"no API route {request.method} /api/{quote(path, safe='/')}; see /openapi.json",
    )
