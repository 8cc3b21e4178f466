"""Every request carries an id (``X-Request-ID``): the client's (up to 64 characters) or a
new one. It is written into the events and read-journal entries the request causes, shown on
error pages and problem bodies, and sent back in the answer's header.

A plain ASGI middleware rather than ``@app.middleware("http")``: Starlette's
``BaseHTTPMiddleware`` wraps every ``receive`` of the body in a task group of its own, which
cost an upload of two 1 MB files about 2.5 ms of the event loop (py-spy on
``bench/uploads.py``, issue 16); this one only sets the id and adds the header.
"""

from __future__ import annotations

import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = "X-Request-ID"
MAX_LENGTH = 64


def request_id_of(scope: Scope) -> str:
    """The client's id cut to :data:`MAX_LENGTH`, or a new random one."""
    incoming = Headers(scope=scope).get(HEADER, "")
    return incoming[:MAX_LENGTH] if incoming else uuid.uuid4().hex


class RequestIds:
    """ASGI middleware: ``request.state.request_id`` for the routes, the header on the way
    out (``scope["state"]`` is what ``Request.state`` reads)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ident = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = ident

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = ident
            await send(message)

        await self.app(scope, receive, send_with_id)
