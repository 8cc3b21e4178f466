"""Database engines and sessions for SQLite (single office) and PostgreSQL (province).

Timestamps: sqlmodel maps ``datetime`` fields to a UTC type that refuses naive values and reads
back UTC (stack-notes §7.1). Store aware datetimes and convert with ``engine.timezone.to_local``
before any date arithmetic.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, exc, make_url
from sqlmodel import Session, create_engine

from engine.settings import normalize_database_url, seconds_or_zero

SQLITE_PRAGMAS = (
    # WAL lets readers run during a write and gives ~30x more commits/s than the default
    # rollback journal; NORMAL is crash-safe in WAL mode (stack-notes §7.1).
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    # Off by default in SQLite, so foreign keys would silently not be enforced.
    "PRAGMA foreign_keys=ON",
    # Wait for a concurrent writer (web request vs scheduler) instead of failing at once.
    "PRAGMA busy_timeout=5000",
)


# Seconds to wait for a PostgreSQL server to accept a connection. libpq's default is to wait
# forever (in practice the OS's TCP timeout, ~2 minutes), which turns an unreachable host into
# requests hanging until the client gives up; ten seconds fail them with a clear error instead.
POSTGRES_CONNECT_TIMEOUT = 10


#: psycopg prepares a statement on the server after this many runs on one connection (its
#: default 5). Behind PgBouncer older than 1.21 in transaction mode a prepared statement is
#: looked for on another server connection and fails: ``none`` turns preparation off there
#: (docs/scaling.md, "PgBouncer in transaction mode").
PREPARE_THRESHOLD_SETTING = "MOTCUA_PG_PREPARE_THRESHOLD"


#: A pooled PostgreSQL connection that sat unused longer than this (seconds) is pinged before
#: a request gets it; ``0`` pings every checkout (SQLAlchemy's ``pool_pre_ping``).
PING_AFTER_IDLE_SETTING = "MOTCUA_DB_PING_AFTER_IDLE"
PING_AFTER_IDLE_SECONDS = 5.0


def ping_after_idle(env: Mapping[str, str] = os.environ) -> float:
    """``MOTCUA_DB_PING_AFTER_IDLE``: seconds, 0 or more (a bad value stops start-up)."""
    return seconds_or_zero(env, PING_AFTER_IDLE_SETTING, PING_AFTER_IDLE_SECONDS)


def _ping_idle_connections(engine: Engine, after: float) -> None:
    """Ping a pooled connection before use only when it sat idle more than ``after`` seconds.

    Why not ``pool_pre_ping`` on every checkout: that is one more round trip on every request
    (two or three for a receipt, which commits and reads again), and under load, where a
    connection goes back and out of the pool within milliseconds, it never finds anything
    (issue 18). What it guards against happens to connections left idle: a PostgreSQL
    restart, a firewall or PgBouncer dropping them. A connection that breaks while in steady
    use fails its next statement instead; SQLAlchemy then invalidates the whole pool, and
    ``service.resilience.DatabaseRetry`` runs the request again on a fresh connection when
    it broke before COMMIT (tests/service/test_resilience.py kills pooled backends between
    requests)."""

    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_connection: Any, record: Any) -> None:
        record.info["motcua_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("motcua_idle_since")
        if since is None or time.monotonic() - since <= after:
            return  # just connected, or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # dead: the pool drops it and connects again
            raise exc.DisconnectionError() from error


def prepare_threshold(raw: str) -> int | None:
    """The setting's value for psycopg: ``none``/``off``/``0`` → ``None`` (never prepare),
    else a whole number ≥ 1. Anything else stops start-up with the setting named."""
    text = raw.strip().lower()
    if text in {"none", "off", "0"}:
        return None
    if not text.isdigit():
        raise ValueError(f"{PREPARE_THRESHOLD_SETTING}={raw!r}: a whole number ≥ 1, or "
                         f"'none' to never prepare statements (PgBouncer < 1.21)")
    return int(text)


def make_engine(url: str, *, connect_args: Mapping[str, Any] | None = None,
                **options: Any) -> Engine:
    """An engine for ``url`` with the per-dialect settings the application relies on.

    ``connect_args`` go to the DB-API ``connect()`` (e.g. ``{"options": "-csearch_path=x"}``
    or ``{"connect_timeout": 2}`` for psycopg); ``options`` go to ``create_engine`` (e.g.
    ``poolclass``).
    """
    parsed = make_url(normalize_database_url(url))
    backend = parsed.get_backend_name()
    arguments = dict(connect_args or {})
    if backend == "postgresql" and "connect_timeout" not in parsed.query:
        arguments.setdefault("connect_timeout", POSTGRES_CONNECT_TIMEOUT)
    raw_threshold = os.environ.get(PREPARE_THRESHOLD_SETTING, "").strip()
    if backend == "postgresql" and raw_threshold:
        arguments.setdefault("prepare_threshold", prepare_threshold(raw_threshold))
    # A PostgreSQL server restarts or drops idle connections: a pooled connection idle for a
    # while is pinged before use (_ping_idle_connections); SQLite files never go away.
    after = ping_after_idle() if backend == "postgresql" else None
    engine = create_engine(parsed, connect_args=arguments,
                           pool_pre_ping=after == 0, **options)
    if after:
        _ping_idle_connections(engine, after)
    if backend == "sqlite":
        event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit when the block succeeds, roll back when it raises.

    ``expire_on_commit=False`` keeps loaded rows readable after the block (they are detached),
    which is what callers that return rows to the web layer expect.
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
