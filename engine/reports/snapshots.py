"""Daily snapshots (*số liệu chốt theo ngày*): each day's report figures per agency, stored
once the day is over, so that a figure published for a past day stays what it was.

Why: the figures of a past period are otherwise recomputed from the dossiers whenever they are
asked for, so a late entry (a backdated hand-off, an imported history), a calendar edit that
re-projects due dates or a corrected dossier would silently change a figure an auditor has
already read. A snapshot is the figure as published; it changes only when someone re-runs the
day *with a reason*. The earlier row then stays, marked not current, and the new one records
who, when and why: the table is its own journal (migration 0011).

What a row holds, for one competent agency (*cơ quan giải quyết*) and one day D — the report of
the one-day period [D, D] (:func:`engine.reports.figures.figures`, judged at the end of D, T12):

- ``figures``: the counts of :class:`~engine.reports.totals.Totals` and, for the QĐ 766
  numerator and the apology counts, the part that belongs to dossiers still open at the end
  of D (``open_…``);
- ``receiving``: the same split by receiving agency (zero counts left out), because an auditor
  sees the dossiers received *or* processed by the granted agencies
  (``engine.lifecycle.visibility``). Its own column: the other readers never decode it.

With the open parts the days add up *exactly* to any longer period (:func:`compose`):
received and ended counts add up; the carried-over count is the first day's; pending, and the
open parts, are the last day's (tested against the live report for every kind of reader).

Helper for the chart: :func:`over_time` — a month is read from snapshots when every day of it
has one for every agency the viewer may see; otherwise the whole month is computed now and
marked so (``docs/reports.md``, "Daily snapshots").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import JSON, Column, Index, Text, and_, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Field, Session, SQLModel, col, select

from engine.agencies import Agency
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.sql import D
from engine.reports.totals import By, Totals
from engine.text import nfc
from engine.timezone import to_local
from engine.users import Role, granted_agencies

#: Counts of dossiers that entered or ended on a day: a period's count is the days' sum.
FLOWS = ("received_online", "received_direct", "received_postal", "early", "on_time", "late",
         "withdrawn", "refused", "stopped")
#: Counts taken at the period end: the last day's.
AT_END = ("pending_within", "pending_late")
#: Counts over ended *and* still-open dossiers: each day's ended part, plus the last day's
#: open part (stored as ``open_<name>``).
SPLIT = ("on_time_766", "apology_in_time", "apology_late", "apology_missing",
         "apology_reached")
#: Every stored count: the figures of :class:`Totals` (not its ``replayed``, which says how a
#: dossier was judged, not what), and the open parts of :data:`SPLIT`.
COUNTS = tuple(f.name for f in fields(Totals) if f.name != "replayed")
OPEN = tuple(f"open_{name}" for name in SPLIT)

Record = Mapping[str, int]


class SnapshotTooEarly(ValueError):
    """The day is not over: its figures are not final yet (a dossier may still arrive)."""


class IndicatorSnapshot(SQLModel, table=True):
    """One computation of one agency's figures for one day (migration 0011)."""

    __tablename__ = "indicator_snapshot"
    __table_args__ = (
        Index("ix_indicator_snapshot_agency_day", "agency_code", "day"),
        Index("uq_indicator_snapshot_current", "day", "agency_code", unique=True,
              sqlite_where=text('"current"'), postgresql_where=text('"current"')),
    )

    id: int | None = Field(default=None, primary_key=True)
    agency_code: str = Field(max_length=64)  # the competent agency
    day: date  # local day (Asia/Ho_Chi_Minh) the figures are of
    figures: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))  # record()
    #: receiving agency → its part of ``figures`` (zero counts left out)
    receiving: dict[str, dict[str, int]] = Field(sa_column=Column(JSON, nullable=False))
    computed_at: datetime
    computed_by: str = Field(max_length=64)  # "scheduler" or a person's username
    reason: str | None = Field(default=None, sa_column=Column(Text))  # set on a re-run
    current: bool = True  # the one the reports read; earlier computations stay, not current

    def totals(self) -> Totals:
        """The agency's figures of the day (``.dashboard()`` gives the published document)."""
        return Totals(**{name: self.figures.get(name, 0) for name in COUNTS})


# ----- taking ------------------------------------------------------------------------------

def take_daily(session: Session, *, day: date, computed_by: str,
               agencies: Iterable[str] | None = None, reason: str | None = None,
               now: datetime | None = None) -> list[IndicatorSnapshot]:
    """Store the figures of ``day`` for each agency (every one when ``agencies`` is None) and
    return the rows written, in the caller's transaction (the caller commits).

    Without ``reason`` an agency whose day already has a current snapshot is left alone (the
    nightly run and a backfill are idempotent; two at once write each row once). With a
    ``reason`` it is a re-run: the current row is kept, marked not current, and the new one
    records ``computed_by``, the time and the reason. A day is taken only once it is over
    (:class:`SnapshotTooEarly`): the scheduler takes *yesterday*, shortly after midnight.
    """
    now = now or datetime.now(UTC)
    period = Period(day, day)
    if now < period.ends_before:
        raise SnapshotTooEarly(
            f"ngày {day:%d/%m/%Y} chưa kết thúc (bây giờ {to_local(now):%d/%m/%Y %H:%M}):"
            " chỉ chốt số liệu của ngày đã qua")
    who = nfc(computed_by, strip=True)
    if not who or len(who) > 64:
        raise ValueError("người chốt số liệu (computed_by) phải có, tối đa 64 ký tự")
    why = None if reason is None else nfc(reason, strip=True)
    if reason is not None and not why:
        raise ValueError("chạy lại số liệu đã chốt cần nêu lý do")
    known = snapshot_agencies(session)
    codes = known if agencies is None else sorted(set(agencies))
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise ValueError(f"không có cơ quan {', '.join(unknown)}")
    table = IndicatorSnapshot.__table__
    current: dict[str, int] = {code: row_id for code, row_id in session.execute(
        select(table.c.agency_code, table.c.id).where(
            table.c.day == day, table.c.current.is_(True), table.c.agency_code.in_(codes)))}
    written = []
    for code in codes:
        if code in current and why is None:
            continue
        counts, receiving = day_figures(session, period, code)
        if code in current and session.execute(
                update(table).where(table.c.id == current[code], table.c.current.is_(True))
                .values(current=False)).rowcount != 1:
            raise RuntimeError(f"số liệu ngày {day} của {code} vừa được chạy lại ở nơi khác")
        row_id = _insert(session, {"agency_code": code, "day": day, "figures": counts,
                                   "receiving": receiving, "computed_at": now,
                                   "computed_by": who, "reason": why, "current": True},
                         rerun=code in current)
        if row_id is not None:
            written.append(row_id)
    return [session.get_one(IndicatorSnapshot, row_id) for row_id in written]


def snapshot_agencies(session: Session) -> list[str]:
    """The agencies a day is taken for: every agency, and any other code dossiers name as
    competent (a history import of an agency since removed)."""
    codes = set(session.exec(select(Agency.code)))
    codes.update(session.execute(select(D.c.competent_agency).distinct()).scalars())
    return sorted(codes)


def day_figures(session: Session, period: Period, agency: str,
                ) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
    """The ``figures`` and ``receiving`` of one agency for a one-day ``period``: two grouped
    reports over its dossiers (all, and those still open at the day's end), by receiving
    agency. An agency without dossiers that day costs one query and stores zeros."""
    mine = D.c.competent_agency == agency
    whole = figures(session, period, By.RECEIVING, where=mine)
    if not whole.groups:
        return record(Totals(), None), {}
    still_open = figures(session, period, By.RECEIVING, where=and_(
        mine, or_(D.c.ended_on.is_(None), D.c.ended_on > period.end)))
    open_by = {g.key: g.totals for g in still_open.groups}
    receiving = {g.key: {k: v for k, v in record(g.totals, open_by.get(g.key)).items() if v}
                 for g in whole.groups}
    return record(whole.totals, still_open.totals), receiving


def record(day: Totals, still_open: Totals | None) -> dict[str, int]:
    """The stored counts of a day: its totals, and the open part of :data:`SPLIT`."""
    out = {name: getattr(day, name) for name in COUNTS}
    for name in SPLIT:
        out[f"open_{name}"] = getattr(still_open, name) if still_open else 0
    return out


def _insert(session: Session, values: dict[str, Any], *, rerun: bool) -> int | None:
    """Insert one snapshot; the first take of a day does nothing if another process has just
    taken it (``ON CONFLICT`` on the current-row index), a re-run fails instead."""
    table = IndicatorSnapshot.__table__
    dialect = session.get_bind().dialect.name
    statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table).values(values)
    if not rerun:
        statement = statement.on_conflict_do_nothing(
            index_elements=["day", "agency_code"], index_where=text('"current"'))
    return session.execute(statement.returning(table.c.id)).scalar_one_or_none()


def history(session: Session, *, day: date, agency: str | None = None,
            ) -> list[IndicatorSnapshot]:
    """Every computation of ``day`` (of one agency, or all), current or not, oldest first:
    the journal an auditor reads to see what was published before a re-run."""
    query = select(IndicatorSnapshot).where(IndicatorSnapshot.day == day)
    if agency is not None:
        query = query.where(IndicatorSnapshot.agency_code == agency)
    return list(session.exec(query.order_by(col(IndicatorSnapshot.agency_code),
                                            col(IndicatorSnapshot.computed_at),
                                            col(IndicatorSnapshot.id))))


# ----- composing ---------------------------------------------------------------------------

def compose(days: Sequence[Record]) -> Totals:
    """The totals of consecutive days from their records (first day first): exactly the
    report of the whole span, as long as every day of it is given."""
    t = Totals()
    if not days:
        return t
    for day in days:
        for name in FLOWS:
            setattr(t, name, getattr(t, name) + day.get(name, 0))
        for name in SPLIT:
            setattr(t, name, getattr(t, name) + day.get(name, 0) - day.get(f"open_{name}", 0))
    first, last = days[0], days[-1]
    t.carried_over = first.get("carried_over", 0)
    for name in AT_END:
        setattr(t, name, last.get(name, 0))
    for name in SPLIT:
        setattr(t, name, getattr(t, name) + last.get(f"open_{name}", 0))
    return t


def add(records: Iterable[Record], into: dict[str, int] | None = None) -> dict[str, int]:
    """The sum of records of disjoint sets of dossiers on the same day (added ``into`` a
    running sum when given: the chart adds thousands of rows)."""
    out = dict.fromkeys(COUNTS + OPEN, 0) if into is None else into
    for r in records:
        for name, value in r.items():
            if name in out:
                out[name] += value
    return out


@dataclass(frozen=True, slots=True)
class Scope:
    """Which dossiers a reader sees, in the snapshot's terms: those whose competent agency is
    in ``competent`` (every one when None: the whole province) or whose receiving agency is
    in ``receiving``. Mirrors :func:`engine.lifecycle.visibility.visible_to` (tested)."""

    competent: frozenset[str] | None = None
    receiving: frozenset[str] = frozenset()

    @classmethod
    def agency(cls, code: str) -> Scope:
        """Dossiers received or processed by ``code`` (``motcua report --agency``)."""
        return cls(frozenset({code}), frozenset({code}))

    def whole(self, agency: str) -> bool:
        """The reader sees every dossier of this competent agency."""
        return self.competent is None or agency in self.competent

    def parts(self, receiving: Mapping[str, Record]) -> list[Record]:
        """What the reader sees of another agency's dossiers: those received by its own."""
        return [r for key, r in receiving.items() if key in self.receiving]


class Viewer(Protocol):
    username: str
    role: str
    agency_code: str


def viewer_scope(session: Session, viewer: Viewer) -> Scope | None:
    """The reports' readers (leaders, officers, auditors) as a :class:`Scope`; None for a role
    whose view a snapshot cannot express (a clerk also sees the dossiers returned at the unit):
    its chart is computed live."""
    if viewer.role in (Role.OFFICER, Role.LEADER):
        return Scope(frozenset({viewer.agency_code}))
    if viewer.role == Role.AUDITOR:
        grants = frozenset(granted_agencies(session, viewer.username))
        return Scope(grants, grants)
    return None


# ----- reading: the chart over time --------------------------------------------------------

@dataclass
class DaySeen:
    """One day's current snapshots as one reader sees them."""

    record: dict[str, int] = field(default_factory=lambda: add(()))
    agencies: set[str] = field(default_factory=set)  # agencies with a current row that day
    reruns: int = 0  # of the rows read, how many are re-runs


def read_days(session: Session, period: Period, scope: Scope) -> dict[date, DaySeen]:
    """The current snapshots of the period's days, summed over what ``scope`` sees."""
    table = IndicatorSnapshot.__table__
    by_receiving = bool(scope.receiving)
    columns = [table.c.day, table.c.agency_code, table.c.reason, table.c.figures]
    query = select(*columns, table.c.receiving) if by_receiving else select(*columns)
    query = query.where(table.c.current.is_(True), table.c.day >= period.start,
                        table.c.day <= period.end)
    if scope.competent is not None and not by_receiving:
        query = query.where(table.c.agency_code.in_(scope.competent))
    days: dict[date, DaySeen] = {}
    for row in session.execute(query):
        seen = days.get(row.day) or days.setdefault(row.day, DaySeen())
        seen.agencies.add(row.agency_code)
        parts = [row.figures] if scope.whole(row.agency_code) else scope.parts(row.receiving)
        if parts:
            add(parts, into=seen.record)
            seen.reruns += row.reason is not None
    return days


def expected_agencies(session: Session, scope: Scope) -> set[str]:
    """The agencies whose snapshot a day needs before the reader's figure can be read from
    snapshots: the reader's own competent agencies, or — when dossiers *received* by an agency
    count too, or the whole province — every agency (any may process what it received)."""
    if scope.competent is not None and not scope.receiving:
        return set(scope.competent)
    return set(session.exec(select(Agency.code)))


def over_time(session: Session, period: Period, *, scope: Scope | None,
              where: ColumnElement[bool] | None = None) -> list[dict[str, Any]]:
    """The on-time rates per month of ``period`` (clipped to it), for the dashboard's chart.

    A month whose every day has its snapshots is composed from them (``source: "snapshot"``;
    ``reruns`` counts the re-run rows among them); any other month — the current one, one
    with a day never taken — is computed now over the dossiers ``where`` selects
    (``source: "live"``, ``missing_days`` says how many days lacked a snapshot). Not mixed:
    a month made of some published days and some recomputed ones would be neither figure,
    and nobody could reproduce it. ``scope`` None: every month live.
    """
    days = read_days(session, period, scope) if scope is not None else {}
    expected = expected_agencies(session, scope) if scope is not None else set()
    out = []
    for month in period.months():
        span = [month.start + timedelta(days=k) for k in range((month.end - month.start).days
                                                               + 1)]
        covered = [d for d in span if d in days and expected <= days[d].agencies]
        if scope is not None and len(covered) == len(span):
            t, source = compose([days[d].record for d in span]), "snapshot"
            reruns = sum(days[d].reruns for d in span)
        else:
            t, source, reruns = figures(session, month, where=where).totals, "live", 0
        out.append({"period": month.as_dict(), "on_time_rate_766": t.on_time_rate_766,
                    "closed_on_time_rate": t.closed_on_time_rate, "received": t.received,
                    "ended": t.ended, "source": source,
                    "missing_days": len(span) - len(covered), "reruns": reruns})
    return out
