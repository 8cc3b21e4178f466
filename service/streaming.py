"""Uploads streamed to the file store, shared by every route that takes files (staff
attachments, the online submission and the applicant's supplement, the national portal's
inbound dossiers): the app's file settings and store, the refusal of a file as a problem
document, and the middleware that hands an upload route its real body channel.

The global body cap and NUL check (``problems.RejectNul``) and the retry middleware
(``resilience.DatabaseRetry``) both buffer a whole body, which would hold a 50 MB scan in
memory and refuse any PDF (PDFs contain NUL bytes). :class:`StreamedUploads`, the outermost
middleware, hands the upload routes' real body channel to the route through the scope (key
:data:`RECEIVE`) and passes the buffering middlewares an empty body instead; it applies the
route's own cap: a declared ``Content-Length`` above it is refused before a byte is read, a
chunked body as soon as it passes it. Route modules register their paths with
:func:`stream_route`. (Not a route module itself: route modules do not import each other.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from engine.files.settings import FileSettings, blob_store, file_settings
from engine.files.store import BlobStore, FileRefused, FileTooLarge
from service.problems import Problem, RejectNul, problem_response

#: the multipart envelope around one file (boundaries, headers, the text fields)
FORM_OVERHEAD = 64 * 1024
RECEIVE = "motcua.upload_receive"  # the scope key of the real body channel
_STATUS = {"file-empty": 422, "file-too-large": 413, "dossier-files-too-large": 413,
           "file-type": 415, "component-unknown": 422}


# ----- settings and store ------------------------------------------------------------------

def files_config(app: Any) -> tuple[FileSettings, BlobStore]:
    """The app's file settings and store, made on first use (tests set ``app.state.files``)."""
    current = getattr(app.state, "files", None)
    if current is None:
        settings = file_settings()
        current = app.state.files = (settings, blob_store(settings))
    return current


# ----- streamed uploads --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StreamedRoute:
    """A POST route whose body is streamed to the file store; ``cap`` its body limit."""

    method: str
    path: re.Pattern[str]
    cap: Callable[[FileSettings], int]


#: The routes that take files. Another upload route (the online submission) adds its own.
STREAMED_ROUTES: list[StreamedRoute] = [
    StreamedRoute("POST", re.compile(r"^/api/v1/dossiers/[^/]+/attachments/?$"),
                  lambda s: s.max_file_bytes + FORM_OVERHEAD),
]


class StreamedUploads:
    """ASGI middleware (outermost, in place of ``RejectNul``): streamed routes get their own
    cap and no buffering; every other request goes through ``RejectNul`` as before."""

    def __init__(self, app: ASGIApp, settings: Callable[[], FileSettings] | None = None) -> None:
        self.app, self.buffered = app, RejectNul(app)
        self.settings = settings

    def route(self, scope: Scope) -> StreamedRoute | None:
        if scope["type"] != "http":
            return None
        return next((r for r in STREAMED_ROUTES if r.method == scope["method"]
                     and r.path.match(scope["path"])), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.route(scope)
        raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if route is None or b"%00" in raw or b"\x00" in raw:
            await self.buffered(scope, receive, send)
            return
        settings = self.settings() if self.settings else files_config(scope["app"])[0]
        cap = route.cap(settings)
        if _declared_length(scope) > cap:
            await _too_large(settings)(scope, receive, send)
            return
        scope[RECEIVE] = _capped(receive, cap, settings)
        await self.app(scope, _empty_body(receive), send)


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else 0
    return 0


def _too_large(settings: FileSettings):
    return problem_response(413, FileTooLarge.code, "Tệp quá lớn",
                            str(FileTooLarge(settings.max_file_bytes)),
                            headers={"Connection": "close"})


def _capped(receive: Receive, cap: int, settings: FileSettings) -> Receive:
    """The body channel, refusing (413) as soon as more than ``cap`` bytes came."""
    seen = 0

    async def counted():
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise Problem(413, FileTooLarge.code, str(FileTooLarge(settings.max_file_bytes)),
                          title="Tệp quá lớn", headers={"Connection": "close"})
        return message

    return counted


def _empty_body(receive: Receive) -> Receive:
    """What the buffering middlewares read instead: an empty body, then the real channel
    (a client going away is still seen)."""
    sent = False

    async def empty():
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return await receive()

    return empty


def stream_route(method: str, pattern: str, cap: Callable[[FileSettings], int]) -> None:
    """Register a route whose body is streamed (once, whatever the number of apps built)."""
    if all(r.path.pattern != pattern for r in STREAMED_ROUTES):
        STREAMED_ROUTES.append(StreamedRoute(method, re.compile(pattern), cap))


def refused(exc: FileRefused, field: str | None = None) -> Problem:
    """The store's refusal as a problem document: 413 too large, 415 not PDF/JPEG/PNG, 422
    empty or an unknown component; ``type`` ends with the store's code; the form's field
    named when known."""
    errors = [{"field": field, "message": str(exc)}] if field else []
    return Problem(_STATUS.get(exc.code, 422), exc.code, str(exc), title="Tệp không hợp lệ",
                   errors=errors)
