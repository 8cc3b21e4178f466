"""The data version of closed periods (*phiên bản dữ liệu của kỳ đã qua*): one number that
changes whenever something may have changed a report of a period already over.

Why this scheme (the cheapest one that is correct). A report of a period judges the dossiers
at the period end from what happened *before* it: stored report columns that equal the
clock's answer at any past period end (docs/reports.md), clock records cut at the period end,
outbox deliveries and ratings stamped with the server's instant. An action done now with the
server's clock therefore never changes a period that ended before today; what can is

- an action recorded with an earlier instant than today (a backdated entry, ``at`` before
  today's local midnight by the server's clock), noted by the lifecycle's unit of work;
- an imported history (``engine.reports.history``);
- a calendar edit (a day off or office hours: the replayed dossiers are judged with the
  calendar, and open dossiers' due dates are re-projected), noted by ``engine.calendar.store``,
  and the re-projection itself.

Each of these marks the session (:func:`note_change`); just before the transaction commits,
the one row of ``report_data_version`` gets ``version + 1`` (:func:`bump_on_commit`). Readers
take the version with a primary-key lookup (:func:`current_version`) — never a scan, whatever
the size of the dossier table — and a cached report is valid only for the version it was
computed at (``engine.reports.cache``).

Why one row updated at commit and not a log whose ``max(id)`` is the version: a sequence
hands out ids at insert, not at commit, so a transaction holding id 5 could commit after
another committed id 6 was read — and the report cached at version 6 would miss its data for
ever. The row's lock orders the bumps by commit: a reader sees either the old number (and
the report it computes is stored under it, to be replaced once the new number is read) or
the new number with the data. Taken last, just before commit, the lock cannot close a cycle
with the dossier rows an action locks (no deadlock), and it is taken only by the rare
changes above, never by the day's ordinary actions.

What it does not cover, on purpose: the window around midnight (an action stamped 23:59:59
that commits a moment after midnight is not backdated) is the reader's to leave alone — a
period is cached only once it ended at least :data:`CLOSED_AFTER` ago
(``engine.reports.cache.closed``); and the code computing the figures, which the cache's key
holds instead (a fingerprint of its source).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

from engine.timezone import VN_TZ, to_local

#: How long after a period's end its figures may be cached: longer than any transaction that
#: stamped an instant before midnight may take to commit after it.
CLOSED_AFTER = timedelta(minutes=10)
_MARK = "report_data_changed"


class ReportDataVersion(SQLModel, table=True):
    """The one row (``id = 1``, created by migration 0020) holding the data version."""

    __tablename__ = "report_data_version"

    id: int = Field(primary_key=True)
    version: int = 0
    changed_at: datetime | None = None
    first_day: date | None = None  # the earliest local day the last change touched, if known
    source: str = Field(default="", max_length=32)  # what made the last change


def _utcnow() -> datetime:
    return datetime.now(UTC)


def today_starts(now: datetime | None = None) -> datetime:
    """Local midnight of the server's today (Asia/Ho_Chi_Minh)."""
    local = to_local(now or _utcnow())
    return datetime.combine(local.date(), time(0), tzinfo=VN_TZ)


def note_change(session: OrmSession, source: str, first_day: date | None = None) -> None:
    """Mark the session's transaction as changing closed periods; the version moves when it
    commits (:func:`bump_on_commit`), not at all if it rolls back."""
    noted = session.info.get(_MARK)
    earliest = first_day if noted is None else min(
        (d for d in (noted[1], first_day) if d is not None), default=None)
    session.info[_MARK] = (source if noted is None else noted[0], earliest)


def note_if_backdated(session: OrmSession, at: datetime, now: datetime | None = None) -> None:
    """An action at ``at``: a change to closed periods when ``at`` is before today's local
    midnight by the server's clock (``now``, default the real clock)."""
    if at < today_starts(now):
        note_change(session, "backdated", to_local(at).date())


# An upsert rather than an UPDATE: a database whose row went missing (emptied by hand)
# starts counting again instead of never moving.
_BUMP = text(
    "INSERT INTO report_data_version (id, version, changed_at, first_day, source) "
    "VALUES (1, 1, :now, :day, :source) ON CONFLICT (id) DO UPDATE SET "
    "version = report_data_version.version + 1, changed_at = excluded.changed_at, "
    "first_day = excluded.first_day, source = excluded.source")


@event.listens_for(OrmSession, "before_commit")
def bump_on_commit(session: OrmSession) -> None:
    """The version + 1 in the committing transaction when it was marked (last lock taken);
    a savepoint's release is not that commit (the mark waits for the real one)."""
    if session.in_nested_transaction():
        return
    noted = session.info.pop(_MARK, None)
    if noted is None:
        return
    session.execute(_BUMP, {"now": _utcnow(), "day": noted[1], "source": noted[0][:32]})


@event.listens_for(OrmSession, "after_transaction_end")
def _forget(session: OrmSession, transaction: Any) -> None:
    """A transaction that ended without the commit above (rolled back) changed nothing; a
    savepoint's end is not the transaction's (its mark stays, over-counting at worst)."""
    if transaction.parent is None:
        session.info.pop(_MARK, None)


def current_version(session: Any) -> int:
    """The data version: one primary-key lookup."""
    value = session.execute(text("SELECT version FROM report_data_version WHERE id = 1")
                            ).scalar()
    return int(value or 0)
