"""Errors as RFC 9457 problem documents: a stable ``type``, a Vietnamese ``title`` for
people, field-level details for programs, and never a stack trace. A browser opening a page
gets the same error as a Vietnamese HTML page (:func:`answer`)."""

from __future__ import annotations

import http
import logging
import os
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from engine.lifecycle.errors import LifecycleError
from engine.lifecycle.machine import IllegalAction
from service.validation import readable_errors

log = logging.getLogger("motcua")
TYPE_BASE = "https://motcua.example/problems/"
MEDIA_TYPE = "application/problem+json"

TITLES = {
    400: "Yêu cầu không hợp lệ",
    401: "Chưa đăng nhập hoặc phiên đăng nhập đã hết hạn",
    403: "Không có quyền thực hiện",
    404: "Không tìm thấy",
    405: "Phương thức không được hỗ trợ",
    409: "Xung đột dữ liệu",
    413: "Dữ liệu gửi lên quá lớn",
    422: "Dữ liệu không hợp lệ",
    429: "Quá nhiều yêu cầu, vui lòng thử lại sau",
    500: "Lỗi hệ thống",
}


class Problem(Exception):
    """Raise from a route to answer with a problem document."""

    def __init__(self, status: int, type_: str, detail: str, *, title: str | None = None,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.type, self.detail = status, type_, detail
        self.title = title or TITLES.get(status, "Lỗi")
        self.headers, self.extra = headers, extra
        #: Also a page under /api/ when a browser opened the address itself (a download
        #: link: the 503 of a busy report, ``service.report_gate``).
        self.page = False


def problem_response(status: int, type_: str, title: str, detail: str | None = None,
                     request: Request | None = None, headers: dict[str, str] | None = None,
                     **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": TYPE_BASE + type_, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = getattr(request.state, "request_id", None)
        if request_id:
            body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


#: A last look at an unexpected error before it becomes a 500: an answer, or None.
Fallback = Callable[[Request, Exception], Response | None]
#: ``app.state.error_page`` (``service.web.pages.install`` sets it): an error as an HTML page
#: for a browser — ``(request, status, title, detail, headers, extra) -> Response``.
ErrorPage = Callable[[Request, int, str, str | None, dict[str, str] | None, dict[str, Any]],
                     Response]


def _quality(accept: str, *media: str) -> float:
    """The highest ``q`` the Accept header gives any of ``media`` (0 when absent)."""
    best = 0.0
    for item in accept.split(","):
        kind, *params = (part.strip() for part in item.split(";"))
        if kind.lower() not in media:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_html(request: Request) -> bool:
    """A person's browser opening a page, not a program: outside ``/api/`` (and the
    OpenAPI document), with an Accept header that prefers HTML to JSON. ``*/*`` alone (curl,
    test clients) stays problem+json."""
    path = request.url.path
    if path.startswith("/api/") or path == "/openapi.json":
        return False
    return prefers_html(request)


def prefers_html(request: Request) -> bool:
    """The Accept header prefers HTML to JSON (a browser opening the address)."""
    accept = request.headers.get("accept", "")
    html = _quality(accept, "text/html", "application/xhtml+xml")
    return html > 0 and html >= _quality(accept, "application/json", MEDIA_TYPE)


async def answer(request: Request, status: int, type_: str, title: str,
                 detail: str | None = None, headers: dict[str, str] | None = None,
                 *, api_page: bool = False, **extra: Any) -> Response:
    """The error as an HTML page for a browser (with the navigation of whoever is signed
    in), as problem+json for everyone else. A page that cannot be drawn falls back to the
    document: an error must never hide behind another one. ``api_page``: a page under
    /api/ too, when the browser prefers HTML (it opened a download link)."""
    page: ErrorPage | None = getattr(request.app.state, "error_page", None)
    html = prefers_html(request) if api_page else wants_html(request)
    if page is not None and html:
        try:
            return await run_in_threadpool(page, request, status, title, detail, headers,
                                           extra)
        except Exception:
            log.exception("error page failed on %s %s", request.method, request.url.path)
    return problem_response(status, type_, title, detail, request, headers, **extra)


def install(app: FastAPI, *, fallback: Fallback | None = None) -> None:
    """Every error as problem+json, or as a Vietnamese page for a browser (:func:`answer`).
    ``fallback`` may answer an unexpected error otherwise
    (``service.resilience.unavailable_answer``: 503 while the database is away)."""
    document_validation_problems(app)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return await answer(request, exc.status, exc.type, exc.title, exc.detail, exc.headers,
                            api_page=exc.page, **exc.extra)

    @app.exception_handler(IllegalAction)
    async def _illegal(request: Request, exc: IllegalAction) -> Response:
        """``allowed_actions``: the codes the *caller* may use now (the policy's), else the
        state's; the sentence names them by their labels."""
        allowed = exc.allowed if exc.permitted is None else exc.permitted
        return await answer(request, 409, "illegal-action",
                            "Thao tác không hợp lệ ở trạng thái này", str(exc),
                            state=exc.state, action=exc.action, allowed_actions=allowed)

    @app.exception_handler(LifecycleError)
    async def _lifecycle(request: Request, exc: LifecycleError) -> Response:
        return await answer(request, exc.status, exc.type, TITLES.get(exc.status, "Lỗi"),
                            exc.message, **_jsonable(exc.details))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        """pydantic's English becomes Vietnamese naming each field by its Vietnamese name
        (``service.validation.readable_errors``); ``field``/``loc``/``type`` stay for
        programs."""
        malformed = [e for e in exc.errors() if e.get("type") == "json_invalid"]
        if malformed:
            return _malformed_json(request, malformed[0])
        route = getattr(request.scope.get("route"), "path", None)
        errors = readable_errors(list(exc.errors()), route)
        return await answer(request, 422, "validation", TITLES[422],
                            f"Có {len(errors)} trường dữ liệu chưa hợp lệ.", errors=errors)

    # Starlette's own class, not FastAPI's subclass: the router raises Starlette's for an
    # unknown route (404) or a wrong method (405), and those must be problem documents too.
    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        return await answer(request, exc.status_code, f"http-{exc.status_code}",
                            TITLES.get(exc.status_code, "Lỗi"), _http_detail(request, exc),
                            getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> Response:
        """A value the database cannot store (e.g. a NUL character): the client's input."""
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return await answer(request, 422, "invalid-data", TITLES[422],
                            "Dữ liệu chứa ký tự hoặc giá trị không được phép.")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        fallen = fallback(request, exc) if fallback else None
        if fallen is not None:
            return fallen
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return await answer(request, 500, "internal", TITLES[500],
                            "Đã ghi nhận lỗi; vui lòng thử lại hoặc báo quản trị.")


#: The problem document of a refused request (422) as /openapi.json describes it: what
#: every problem carries, and the field-level ``errors`` of a validation error. Other
#: members (``field``, ``state``…) depend on the problem, so more are allowed.
VALIDATION_PROBLEM = {
    "title": "ValidationProblem",
    "description": "RFC 9457 problem document; `errors` names each refused field "
                   "(`field`, `loc`, `type` for programs; `label`, `message` in Vietnamese).",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object",
            "properties": {
                "field": {"type": "string"},
                "loc": {"type": "array", "items": {"anyOf": [{"type": "string"},
                                                             {"type": "integer"}]}},
                "type": {"type": "string"},
                "label": {"type": "string"},
                "message": {"type": "string"},
            },
        }},
    },
}


def document_validation_problems(app: FastAPI) -> None:
    """/openapi.json says what a 422 really is (``application/problem+json``), not FastAPI's
    default ``HTTPValidationError`` shape that no answer of this service has."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = build()
        for operations in spec.get("paths", {}).values():
            for operation in operations.values():
                answer = operation.get("responses", {}).get("422")
                if answer is not None:
                    answer["description"] = TITLES[422]
                    answer["content"] = {MEDIA_TYPE: {"schema": {
                        "$ref": "#/components/schemas/ValidationProblem"}}}
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        schemas["ValidationProblem"] = VALIDATION_PROBLEM
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


def _malformed_json(request: Request, error: dict[str, Any]) -> JSONResponse:
    """A body that is not JSON at all is a 400 (the request's syntax), not a field error."""
    loc = error.get("loc", ())
    position = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    where = f" (tại vị trí {position})" if position is not None else ""
    return problem_response(400, "malformed-json", TITLES[400],
                            f"Nội dung gửi lên không phải JSON hợp lệ{where}.", request)


def _http_detail(request: Request, exc: HTTPException) -> str | None:
    """Starlette's English default ("Not Found") becomes a Vietnamese sentence; a detail a
    route chose itself is kept."""
    detail = exc.detail if isinstance(exc.detail, str) else None
    try:
        default = http.HTTPStatus(exc.status_code).phrase
    except ValueError:
        default = None
    if detail and detail != default:
        return detail
    if exc.status_code == 404:
        return f"Không có địa chỉ {request.url.path}."
    if exc.status_code == 405:
        return f"Địa chỉ {request.url.path} không nhận phương thức {request.method}."
    return None


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | list | dict | type(None))
                else str(v)) for k, v in details.items()}


#: Default cap on a request body: far above any form or JSON body the pages send (a dossier
#: is a few KB; the catalogue upload stops at 256 KiB), far below what would hurt memory.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024


def max_body_bytes(env: dict[str, str] | None = None) -> int:
    """``MOTCUA_MAX_BODY_BYTES`` (default 1 MiB); a bad value stops the start-up."""
    raw = (env if env is not None else os.environ).get("MOTCUA_MAX_BODY_BYTES", "").strip()
    value = int(raw) if raw else DEFAULT_MAX_BODY_BYTES
    if value <= 0:
        raise ValueError("MOTCUA_MAX_BODY_BYTES must be a positive number of bytes")
    return value


class RejectNul:
    """Refuse NUL characters anywhere in the URL or a JSON body: no field may hold them, and
    PostgreSQL cannot store them (it would otherwise surface as a server error).

    Since it buffers the body, it also caps it (413): a declared ``Content-Length`` above the
    limit is refused before reading a byte, and a chunked body is counted as it arrives and
    refused as soon as it passes the limit, so no body larger than the limit is ever held.
    """

    def __init__(self, app, max_body: int | None = None) -> None:
        self.app = app
        self.max_body = max_body if max_body is not None else max_body_bytes()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in raw or b"\x00" in raw:
            await _reject(scope, receive, send)
            return
        if _declared_length(scope) > self.max_body:
            await _too_large(scope, receive, send, self.max_body)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        messages = []
        while more:
            message = await receive()
            messages.append(message)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _too_large(scope, receive, send, self.max_body)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"\x00" in body or b"\\u0000" in body:
            await _reject(scope, receive, send)
            return

        await self.app(scope, replaying(messages, receive), send)


def replaying(messages: list, receive):
    """An ASGI ``receive`` that gives the buffered body messages once (a copy, so a caller
    may replay them again), then the real channel: a response that listens for the client
    going away (Starlette's FileResponse does) must not be told it already has."""
    pending = list(messages)

    async def replay():
        return pending.pop(0) if pending else await receive()

    return replay


async def _reject(scope, receive, send) -> None:
    response = problem_response(422, "invalid-data", TITLES[422],
                                "Dữ liệu chứa ký tự NUL không được phép.", Request(scope))
    await response(scope, receive, send)


def _declared_length(scope) -> int:
    """The ``Content-Length`` header, 0 when absent (a malformed one is refused by the server
    before the app sees it)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _too_large(scope, receive, send, limit: int) -> None:
    response = problem_response(413, "too-large", TITLES[413],
                                f"Nội dung yêu cầu vượt quá giới hạn {limit} byte.",
                                Request(scope), headers={"Connection": "close"})
    await response(scope, receive, send)
