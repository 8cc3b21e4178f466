"""The cache of closed periods' reports (*bộ nhớ đệm báo cáo kỳ đã qua*), in the database.

A year's report at 1,000,000 dossiers costs a few hundred milliseconds of database time, and
auditors ask for the same closed year again and again; the figures of a period that is over
change only when the data of the past changes, which :mod:`engine.data_version` counts. So a
report of a *closed* period (:func:`closed`) is stored with the data version it was computed
at, and served again while that version is current: one primary-key read of the version and
one unique-index read of the row instead of a scan of the dossiers.

Why in the database and not in memory: several worker processes serve the same auditors
(issue 18); one computation serves them all, and a restart keeps it.

The key (:class:`CacheKey`, hashed into ``report_cache.key``) holds what the answer depends
on besides the data: the report kind, the period, the reader's scope as the SQL condition
the report filters with (``engine.lifecycle.visibility.visible_to``: a leader's agency, an
auditor's granted agencies — two readers with the same scope share the row), the parameters
(grouping, settings) and a fingerprint of the code computing the figures (a deployment that
changes a rule must not serve the figures of the old rule). One row per key: a row computed
at another data version is a miss, computed again and replaced (no garbage accumulates per
version).

Why not the nightly snapshots (``engine.reports.snapshots``) for closed periods: they are the
figures *as published*, deliberately unchanged by a late entry or a calendar edit; the live
report must show those changes (an auditor compares both), and it is grouped in ways the
snapshots are not. The snapshots stay what the chart over time reads.

Not cached by data version: periods not yet closed (the figures move with every action), and
groupings whose keys come from the directory rather than the dossier row (``level``,
``field``: an agency's level or a procedure's field can be edited without a data version).

**Open periods, by age** (``max_age``, ``MOTCUA_OPEN_REPORT_MAX_AGE``, default
:data:`OPEN_MAX_AGE`; 0 turns it off). The current month's report at 1,000,000 dossiers costs
about half a second of CPU-bound Python, which holds the worker's interpreter lock while the
counter's requests wait; a room of auditors refreshing it recomputed it for each of them
(issue 18: 60 % of the server's CPU in the counter-day mix). So an open period's answer may
be served again for ``max_age`` seconds after it was computed, whatever happened since: the
answer says when it was computed (``Found.computed_at``) and the dashboard shows it. The
key records the age policy, so a row computed while the period was open is never taken for
the closed period's figures. How stale an open figure may be is a local choice [I]: no rule
sets it; a minute is what a dashboard refreshed by hand can tell apart from live.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from time import perf_counter
from typing import Any

from sqlalchemy import Index, Text, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Column, Field, Session, SQLModel

from engine.data_version import CLOSED_AFTER
from engine.reports.period import Period
from engine.reports.totals import By
from engine.timezone import read_instant

log = logging.getLogger("motcua.reports")

#: Groupings whose keys are columns of the dossier row (changed only through the lifecycle).
CACHEABLE_BY = frozenset({By.NONE, By.AGENCY, By.RECEIVING, By.PROCEDURE, By.CHANNEL,
                          By.OFFICER, By.STEP})
#: The code a cached figure depends on (relative to the ``engine`` package), fingerprinted.
CODE_PATHS = ("reports", "calendar", "clock.py", "deadline.py", "lifecycle/visibility.py",
              "lifecycle/models.py")
#: Bump when the stored body's shape changes without a code change in :data:`CODE_PATHS`.
FORMAT = 1
#: How long an open period's answer is served again unless configured (see the module doc).
OPEN_MAX_AGE = timedelta(seconds=60)


class ReportCacheRow(SQLModel, table=True):
    """One cached report (migration 0020)."""

    __tablename__ = "report_cache"
    __table_args__ = (Index("uq_report_cache_key", "key", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=64)  # sha256 of the CacheKey, hex
    kind: str = Field(max_length=32)
    period_from: date
    period_to: date
    data_version: int  # engine.data_version.current_version() when it was computed
    computed_at: datetime
    seconds: float  # how long computing it took
    body: str = Field(sa_column=Column(Text, nullable=False))  # the answer, as JSON


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of the source of the code computing the figures (once per process)."""
    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(str(FORMAT).encode())
    for name in CODE_PATHS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".pyc" or "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def scope_text(where: ColumnElement[bool] | None, dialect: Any) -> str:
    """The reader's scope as the SQL text the report filters with, values inlined."""
    if where is None:
        return ""
    return str(where.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What a cached answer depends on besides the data version."""

    kind: str  # "figures", …
    period: Period
    scope: str  # :func:`scope_text`
    params: tuple[tuple[str, Any], ...] = ()
    #: ``None``: valid while the data version holds (a closed period); else served again for
    #: this long after it was computed (an open period, :func:`key_for`).
    max_age: timedelta | None = None

    def digest(self) -> str:
        policy = None if self.max_age is None else self.max_age.total_seconds()
        parts = [self.kind, self.period.start.isoformat(), self.period.end.isoformat(),
                 self.scope, [list(p) for p in sorted(self.params)], code_fingerprint(),
                 policy]
        text = json.dumps(parts, ensure_ascii=False, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def closed(period: Period, now: datetime) -> bool:
    """The period is over (before today, Asia/Ho_Chi_Minh) by at least
    :data:`~engine.data_version.CLOSED_AFTER`, so its figures move only with the data
    version (see :mod:`engine.data_version` for the minutes after midnight)."""
    return period.ends_before + CLOSED_AFTER <= now


def cacheable(period: Period, now: datetime, by: By | str = By.NONE,
              open_max_age: timedelta | None = None) -> bool:
    """A report of ``period`` grouped ``by`` may come from the cache at ``now``: a closed
    period by data version, an open one by age when ``open_max_age`` is positive."""
    if closed(period, now):
        return By(by) in CACHEABLE_BY
    return open_max_age is not None and open_max_age > timedelta(0)


def key_for(kind: str, period: Period, scope: str, params: tuple[tuple[str, Any], ...],
            *, now: datetime, open_max_age: timedelta | None = None) -> CacheKey:
    """The key of a report: by data version for a closed period, by age for an open one."""
    max_age = None if closed(period, now) else open_max_age
    return CacheKey(kind, period, scope, params, max_age)


@dataclass(frozen=True, slots=True)
class Found:
    """A cache lookup: the key's digest, the data version read first, and the answer when a
    row of that version exists (``None``: compute, then :func:`store`)."""

    key: str
    version: int
    body: Any | None
    #: when the served answer was computed (``None`` on a miss)
    computed_at: datetime | None = None

    @property
    def hit(self) -> bool:
        return self.body is not None


# One round trip: the version (primary key) and the row (unique index) in one statement;
# both are read in the statement's snapshot, the version no later than the row.
_LOOKUP = text(
    "SELECT (SELECT version FROM report_data_version WHERE id = 1), "
    "(SELECT data_version FROM report_cache WHERE key = :key), "
    "(SELECT body FROM report_cache WHERE key = :key), "
    "(SELECT computed_at FROM report_cache WHERE key = :key)")


def lookup(session: Session, key: CacheKey, now: datetime | None = None) -> Found:
    """The cached answer of ``key``, if any: at the current data version (a closed period),
    or computed no longer than ``key.max_age`` before ``now`` (an open one; the real clock
    by default). The version is read *before* the figures are computed: a change committed
    meanwhile can only make the stored row stale (a miss next time), never hide itself under
    the new version."""
    digest = key.digest()
    version, stored, text_, computed_at = session.execute(_LOOKUP, {"key": digest}).one()
    version, computed_at = int(version or 0), read_instant(computed_at)
    if key.max_age is None:
        fresh = stored == version
    else:
        fresh = computed_at is not None and \
            computed_at >= (now or datetime.now(UTC)) - key.max_age
    if text_ is None or not fresh:
        return Found(digest, version, None)
    return Found(digest, version, json.loads(text_), computed_at)


def store(session: Session, key: CacheKey, found: Found, body: Any, seconds: float,
          computed_at: datetime | None = None) -> None:
    """Store ``body`` for ``key`` at the version read by :func:`lookup`, in its own short
    transaction (the report's reading transaction may be too old to write on SQLite). A
    failure is logged, not raised: the reader has the figures, only the next one pays."""
    bind = session.get_bind()
    values = {"key": found.key, "kind": key.kind, "period_from": key.period.start,
              "period_to": key.period.end, "data_version": found.version,
              # when the reading began: the age of an open period's figures counts from it
              "computed_at": computed_at or datetime.now(UTC) - timedelta(seconds=seconds),
              "seconds": seconds,
              "body": json.dumps(body, ensure_ascii=False, separators=(",", ":"))}
    table = ReportCacheRow.__table__
    insert = pg_insert if bind.dialect.name == "postgresql" else sqlite_insert
    statement = insert(table).values(values)
    statement = statement.on_conflict_do_update(
        index_elements=["key"], set_={k: statement.excluded[k] for k in values if k != "key"})
    try:
        with Session(bind) as writer:
            writer.execute(statement)
            writer.commit()
    except Exception:
        log.warning("report cache: could not store %s %s–%s", key.kind, key.period.start,
                    key.period.end, exc_info=True)


def cached(session: Session, key: CacheKey, compute: Callable[[], Any], *,
           now: datetime, by: By | str = By.NONE) -> tuple[Any, bool]:
    """The answer of ``compute`` through the cache when the period allows it; returns
    ``(answer, served_from_cache)``. For callers that need no gate between the lookup and
    the computation (the command line, the benchmark)."""
    if not cacheable(key.period, now, by):
        return compute(), False
    found = lookup(session, key)
    if found.hit:
        return found.body, True
    started = perf_counter()
    body = compute()
    store(session, key, found, body, perf_counter() - started)
    return body, False


def params(**values: Any) -> tuple[tuple[str, Any], ...]:
    """Parameters as a sorted tuple of pairs (enums by value), for :class:`CacheKey`."""
    return tuple(sorted((k, getattr(v, "value", v)) for k, v in values.items()))


def forget(session: Session, kinds: Iterable[str] | None = None) -> int:
    """Delete cached rows (all, or of ``kinds``); the caller commits. Not needed for
    correctness — the data version does that — but frees the space of reports nobody asks
    for any more."""
    table = ReportCacheRow.__table__
    statement = table.delete()
    if kinds is not None:
        statement = statement.where(table.c.kind.in_(list(kinds)))
    return session.execute(statement).rowcount or 0
