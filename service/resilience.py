"""Staying correct when the database is not there: one safe retry, readiness, start-up wait.

Three pieces, each small:

- :class:`DatabaseRetry` (ASGI middleware): a request whose database connection broke *before
  its transaction tried to COMMIT* is run once more on a fresh connection; anything else that
  means "database unavailable" becomes a 503 problem document with ``Retry-After``, never a
  500. Why a retry is safe: when the connection dies before COMMIT was sent, the server rolls
  the transaction back, so nothing of the first attempt was written. Once COMMIT was sent we
  cannot know whether it landed, so we never repeat the request (the client may, with the same
  ``Idempotency-Key``).
- :func:`readiness`: the named checks behind ``GET /readyz`` (database reachable, migrations
  current). ``/healthz`` stays a liveness probe that never touches the database.
- :func:`wait_for_database`: ``motcua serve`` waits for the database at start-up instead of
  dying at once when both are started together.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.db import make_engine
from engine.migrate import current_revision, head_revision
from engine.settings import seconds_or_zero
from service.problems import problem_response, replaying

log = logging.getLogger("motcua")

RETRY_AFTER_SECONDS = 5
UNAVAILABLE_TITLE = "Cơ sở dữ liệu tạm thời không sẵn sàng, vui lòng thử lại sau"
DEFAULT_DB_WAIT_SECONDS = 60.0
DB_WAIT_INTERVAL_SECONDS = 2.0
READINESS_TIMEOUT_SECONDS = 2  # libpq's connect_timeout counts whole seconds, minimum 2


# ----- what counts as "the database is unavailable" -------------------------------------------

def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from (a route may wrap the database error)."""
    chain, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__
    return chain


def connection_lost(exc: BaseException) -> bool:
    """The connection under a statement broke (server restarted, backend terminated, network
    cut): SQLAlchemy marks such errors ``connection_invalidated`` and drops the connection."""
    return any(isinstance(e, DBAPIError) and e.connection_invalidated for e in _causes(exc))


def database_unavailable(exc: BaseException) -> bool:
    """A lost connection, or no connection at all (connection refused, unknown host, timeout:
    SQLAlchemy reports a failed connect as an ``OperationalError`` without a statement)."""
    return connection_lost(exc) or any(
        isinstance(e, OperationalError) and e.statement is None for e in _causes(exc))


def unavailable_response(request: Request | None = None) -> Response:
    """The 503 problem document a client gets instead of a 500 while the database is away."""
    return problem_response(
        503, "database-unavailable", UNAVAILABLE_TITLE,
        "Mất kết nối tới cơ sở dữ liệu; yêu cầu chưa được xử lý xong. Hãy thử lại sau ít "
        "giây (giữ nguyên Idempotency-Key nếu có).", request,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def unavailable_answer(request: Request, exc: Exception) -> Response | None:
    """The app's last-resort handler asks here first (``problems.install(fallback=…)``): a
    database that is away is a 503, not a 500 — normally :class:`DatabaseRetry` answers it
    before, this catches what escapes it."""
    if not database_unavailable(exc):
        return None
    log.error("database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return unavailable_response(request)


# ----- one retry of a request whose connection broke before COMMIT ----------------------------

@dataclass
class _Attempt:
    """What one run of the app did so far; shared with worker threads through a contextvar
    (a sync route runs in a copy of the context: the *object* is shared, so its flags are)."""

    commit_attempted: bool = False
    response_started: bool = False


_attempt: ContextVar[_Attempt | None] = ContextVar("motcua_request_attempt", default=None)


def _note_commit(_connection: Any) -> None:
    """Engine ``commit`` event: fires just *before* COMMIT is sent to the server."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.commit_attempted = True


@dataclass
class DatabaseRetry:
    """ASGI middleware: run a request once more when its connection broke before COMMIT;
    answer 503 (problem+json, ``Retry-After``) for any other database unavailability.

    The request body is buffered so that the second run reads the same bytes. A response
    already started is never retried (its first bytes are on the wire): the error goes on.
    """

    app: ASGIApp
    engine: Engine
    retries: int = 1

    def __post_init__(self) -> None:
        if not event.contains(self.engine, "commit", _note_commit):
            event.listen(self.engine, "commit", _note_commit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        for run in range(self.retries + 1):
            attempt = _Attempt()
            token = _attempt.set(attempt)
            try:
                await self.app(scope, replaying(body, receive), _watch(attempt, send))
                return
            except Exception as exc:
                if attempt.response_started or not database_unavailable(exc):
                    raise
                if run < self.retries and connection_lost(exc) and not attempt.commit_attempted:
                    log.warning("database connection lost on %s %s before commit; retrying "
                                "once: %s", scope["method"], scope["path"], _first_line(exc))
                    continue
                log.error("database unavailable on %s %s (commit attempted: %s): %s",
                          scope["method"], scope["path"], attempt.commit_attempted,
                          _first_line(exc))
                await unavailable_response(Request(scope))(scope, receive, send)
                return
            finally:
                _attempt.reset(token)


async def _read_body(receive: Receive) -> list[Message]:
    messages, more = [], True
    while more:
        message = await receive()
        messages.append(message)
        more = message["type"] == "http.request" and message.get("more_body", False)
    return messages


def _watch(attempt: _Attempt, send: Send) -> Send:
    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            attempt.response_started = True
        await send(message)

    return watched


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# ----- readiness ------------------------------------------------------------------------------

class NotReady(Exception):
    """A readiness check failed; the message is safe to show on the public ``/readyz``."""


@dataclass(frozen=True, slots=True)
class Check:
    """One named readiness check: ``probe(engine)`` returns a short detail or raises."""

    name: str
    probe: Callable[[Engine], str]


def _database_reachable(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except DBAPIError as exc:
        log.warning("readiness: database unreachable: %s", _first_line(exc))
        # The reason (host, port, driver text) stays in the log: /readyz is public.
        raise NotReady("không kết nối được cơ sở dữ liệu") from exc
    return "kết nối được"


def _migrations_current(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # A running migration locks alembic_version: say "not ready", do not hang.
                connection.execute(text(f"SET statement_timeout = "
                                        f"{READINESS_TIMEOUT_SECONDS * 1000}"))
            current = current_revision(connection)
    except DBAPIError as exc:
        raise NotReady("không đọc được phiên bản lược đồ cơ sở dữ liệu") from exc
    head = head_revision()
    if current != head:
        raise NotReady(f"cơ sở dữ liệu ở phiên bản {current or 'chưa khởi tạo'}, mã nguồn cần "
                       f"{head}: chạy 'motcua db upgrade'")
    return head


# The scheduler heartbeat (a later issue) is one more Check appended here.
READINESS_CHECKS: tuple[Check, ...] = (
    Check("database", _database_reachable),
    Check("migrations", _migrations_current),
)


def readiness_engine(url: str) -> Engine:
    """A separate engine for probes: a new connection each time (a pooled one could hide an
    unreachable server) and a short connect timeout (a probe must answer quickly)."""
    backend = make_url(url).get_backend_name()
    connect_args = {"connect_timeout": READINESS_TIMEOUT_SECONDS} if backend == "postgresql" \
        else {}
    return make_engine(url, connect_args=connect_args, poolclass=NullPool)


def readiness(engine: Engine, checks: tuple[Check, ...] = READINESS_CHECKS
              ) -> tuple[bool, dict[str, Any]]:
    """Run every check; ready only if all pass. The body names each check and its result."""
    results: dict[str, dict[str, Any]] = {}
    for check in checks:
        try:
            results[check.name] = {"ok": True, "detail": check.probe(engine)}
        except NotReady as exc:
            results[check.name] = {"ok": False, "detail": str(exc)}
        except Exception:  # a broken check must report "not ready", never crash the probe
            log.exception("readiness check %s failed", check.name)
            results[check.name] = {"ok": False, "detail": "lỗi khi kiểm tra"}
    ready = all(r["ok"] for r in results.values())
    return ready, {"status": "ready" if ready else "not_ready", "checks": results}


# ----- start-up: wait for the database --------------------------------------------------------

class DatabaseWaitError(Exception):
    """The database did not answer within ``MOTCUA_DB_WAIT_SECONDS``."""


def db_wait_seconds(env: Mapping[str, str] = os.environ) -> float:
    """``MOTCUA_DB_WAIT_SECONDS`` (default 60; 0 = try once); a bad value is a clear error."""
    return seconds_or_zero(env, "MOTCUA_DB_WAIT_SECONDS", DEFAULT_DB_WAIT_SECONDS)


def describe_database(url: str) -> str:
    """Where the database is, for people: host, port and name, or the SQLite file; never the
    user's password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database or ':memory:'}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def _reason(exc: BaseException, url: str) -> str:
    orig = getattr(exc, "orig", None) or exc
    line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    password = make_url(url).password
    return line.replace(str(password), "***") if password else line


def wait_for_database(url: str, wait_seconds: float, *, say: Callable[[str], Any] = print,
                      sleep: Callable[[float], Any] = time.sleep,
                      clock: Callable[[], float] = time.monotonic,
                      interval: float = DB_WAIT_INTERVAL_SECONDS) -> int:
    """Try ``SELECT 1`` every ``interval`` seconds until it works (returns the number of
    attempts) or ``wait_seconds`` have passed (raises :class:`DatabaseWaitError`).

    Containers and system services often start the application and its database together:
    failing on the first refused connection would make the service flap.
    """
    where = describe_database(url)
    engine = readiness_engine(url)
    deadline = clock() + wait_seconds
    attempts = 0
    try:
        while True:
            attempts += 1
            try:
                with engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return attempts
            except DBAPIError as exc:
                reason = _reason(exc, url)
            if clock() + interval > deadline:
                raise DatabaseWaitError(
                    f"không kết nối được cơ sở dữ liệu {where} sau {wait_seconds:g} giây "
                    f"({attempts} lần thử): {reason}. Kiểm tra MOTCUA_DATABASE_URL và máy chủ "
                    f"cơ sở dữ liệu. / Could not reach the database at {where} within "
                    f"{wait_seconds:g} s; check MOTCUA_DATABASE_URL and the database server.")
            say(f"Đang chờ cơ sở dữ liệu {where} ({reason}); thử lại sau {interval:g} giây… "
                f"/ waiting for the database at {where}")
            sleep(interval)
    finally:
        engine.dispose()
