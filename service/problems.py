"""Errors as RFC 9457 problem documents: a stable ``type``, a Vietnamese ``title`` for
people, field-level details for programs, and never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError

from engine.lifecycle.errors import LifecycleError
from engine.lifecycle.machine import IllegalAction

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


def install(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status, exc.type, exc.title, exc.detail, request,
                                exc.headers, **exc.extra)

    @app.exception_handler(IllegalAction)
    async def _illegal(request: Request, exc: IllegalAction) -> JSONResponse:
        return problem_response(409, "illegal-action", "Hành động không hợp lệ ở trạng thái này",
                                str(exc), request, state=exc.state, action=exc.action,
                                allowed_actions=exc.allowed)

    @app.exception_handler(LifecycleError)
    async def _lifecycle(request: Request, exc: LifecycleError) -> JSONResponse:
        return problem_response(exc.status, exc.type, TITLES.get(exc.status, "Lỗi"),
                                exc.message, request, **_jsonable(exc.details))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                   "message": e.get("msg", ""), "type": e.get("type", "")}
                  for e in exc.errors()]
        return problem_response(422, "validation", TITLES[422],
                                "Một số trường dữ liệu không hợp lệ", request, errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        detail = exc.detail if isinstance(exc.detail, str) else None
        return problem_response(exc.status_code, f"http-{exc.status_code}",
                                TITLES.get(exc.status_code, "Lỗi"), detail, request,
                                getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        """A value the database cannot store (e.g. a NUL character): the client's input."""
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(422, "invalid-data", TITLES[422],
                                "Dữ liệu chứa ký tự hoặc giá trị không được phép.", request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal", TITLES[500],
                                "Đã ghi nhận lỗi; vui lòng thử lại hoặc báo quản trị.", request)


def _jsonable(details: dict[str, Any]) -> dict[str, Any]:
    return {k: (v if isinstance(v, str | int | float | bool | list | dict | type(None))
                else str(v)) for k, v in details.items()}


class RejectNul:
    """Refuse NUL characters anywhere in the URL or a JSON body: no field may hold them, and
    PostgreSQL cannot store them (it would otherwise surface as a server error)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"%00" in raw or b"\x00" in raw:
            await _reject(scope, receive, send)
            return
        body, more = b"", True
        messages = []
        while more:
            message = await receive()
            messages.append(message)
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if b"\x00" in body or b"\\u0000" in body:
            await _reject(scope, receive, send)
            return

        async def replay():
            # The body once, then the real channel: a response that listens for the client
            # going away (Starlette's FileResponse does) must not be told it already has.
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _reject(scope, receive, send) -> None:
    response = problem_response(422, "invalid-data", TITLES[422],
                                "Dữ liệu chứa ký tự NUL không được phép.")
    await response(scope, receive, send)
