"""The replay path: dossiers whose clock moved in a way the stored columns cannot judge.

A pause open at the period end, due dates that moved both before and after it, an end while
waiting for a supplement: :mod:`engine.reports.verdict_sql` gives these the class ``REPLAY``.
Their stored clock records are read in one streamed query, decoded by the one decoder
(:meth:`engine.clock.ClockEvent.stored`), cut at the period end and judged by
:func:`engine.clock.classify` and :func:`engine.clock.indicator_classify`, the one
implementation of the on-time rules. A test checks that both paths agree on every dossier at
every day end of two months.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from sqlalchemy import String, func, literal, select, text, union_all
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.agencies import Agency, clock_policy_of
from engine.calendar.store import CalendarDayRow, OfficeHoursRow, load_calendar
from engine.clock import (
    Classification,
    ClockError,
    ClockEvent,
    SupplementEffect,
    classify,
    indicator_classify,
    replay,
)
from engine.deadline import TimeLimit, TimeUnit
from engine.reports.grouping import group_key
from engine.reports.period import Period
from engine.reports.sql import EV, D, date_param
from engine.reports.totals import By
from engine.reports.verdict import (
    APOLOGY_IN_TIME,
    APOLOGY_LATE,
    APOLOGY_MISSING,
    CLS_CODE,
    PENDING_LATE,
    PENDING_WITHIN,
    REPLAY,
)
from engine.reports.verdict_sql import verdict_exprs


class Judge:
    """Judge one dossier from its stored clock events, cut at the period end.

    One per report: it keeps the calendars, clock settings and time limits it has read, so
    the thousands of dossiers of a large report cost no query each."""

    def __init__(self, session: Session, period: Period) -> None:
        self.session, self.period = session, period
        self.period_end = period.period_end  # computed once: judged thousands of times
        self.limits: dict[tuple[float, str], TimeLimit] = {}
        self.calendars: dict[str, Any] = {}
        self.policies: dict[str, Any] | None = None
        self.own_calendar: set[str] | None = None

    def calendar(self, agency: str):
        """The agency's calendar; most agencies have no days of their own and share the
        national one, so a report over fifty agencies asks the database twice, not 150 times."""
        if self.own_calendar is None:
            self.own_calendar = set(self.session.execute(
                select(CalendarDayRow.agency_code).union(select(OfficeHoursRow.agency_code))
            ).scalars())
        code = agency if agency in self.own_calendar else ""
        if code not in self.calendars:
            self.calendars[code] = load_calendar(self.session, agency_code=code)
        return self.calendars[code]

    def policy(self, agency: str):
        """The receiving agency's clock settings (all agencies read at once, on first use)."""
        if self.policies is None:
            a = Agency.__table__
            rows = self.session.execute(select(
                a.c.code, a.c.late_receipt_policy, a.c.late_receipt_cutoff,
                a.c.non_working_day_receipt, a.c.due_time))  # four texts, not whole agencies
            self.policies = {code: clock_policy_of(*settings) for code, *settings in rows}
        return self.policies.get(agency)

    def judge(self, row: Any, records: Iterable[Mapping[str, Any]],
              ) -> tuple[int, bool, str, str | None]:
        """(class code, on time for QĐ 766, apology bucket, end kind) at the period end, from
        the stored ``clock`` records of the dossier's events, in event order."""
        period_end = self.period_end
        events = []
        for record in records:
            event = ClockEvent.stored(record["kind"], record["at"], record.get("reason"),
                                      record.get("new_due"))
            if event.at > period_end:
                break
            events.append(event)
        try:
            if not events:
                raise ClockError("no clock event before the period end")
            limit = self.limits.get((row.limit_amount, row.limit_unit))
            if limit is None:
                limit = self.limits[row.limit_amount, row.limit_unit] = TimeLimit(
                    row.limit_amount, TimeUnit(row.limit_unit))
            state = replay(events, limit, self.calendar(row.competent_agency),
                           policy=self.policy(row.receiving_agency),
                           supplement_effect=SupplementEffect(row.supplement_effect))
        except (ClockError, ValueError, KeyError):
            # Not replayable (an anomaly reported apart): judge on the stored due date.
            due = row.due_date
            cls = PENDING_WITHIN if due is None or due >= self.period.end else PENDING_LATE
            return cls, cls == PENDING_WITHIN, APOLOGY_MISSING, None
        verdict = CLS_CODE[classify(state, period_end)]
        ok766 = indicator_classify(state, period_end) in (
            Classification.EARLY, Classification.ON_TIME, Classification.PENDING_WITHIN)
        if not state.apologies:
            apology = APOLOGY_MISSING
        elif all(a.in_time for a in state.apologies):
            apology = APOLOGY_IN_TIME
        else:
            apology = APOLOGY_LATE
        ended = state.ended_at is not None and state.ended_at <= period_end
        end_kind = state.end_kind.value if ended and state.end_kind else None
        return verdict, ok766, apology, end_kind


@lru_cache(maxsize=4)
def _clock_records(dialect: str) -> ColumnElement[Any]:
    """The ``clock`` records of the dossier's events as one JSON text: ``[[seq, record or
    null], …]`` in no particular order (SQLite 3.40 cannot order inside an aggregate; the
    caller sorts by ``seq``). Each payload is parsed once, by the database; the rest of a
    payload (components, documents) can be large and never leaves it. NULL: no event."""
    events = EV.alias("e")
    if dialect == "sqlite":
        record = func.json(func.json_extract(events.c.payload, "$.clock"))
        element = func.json_group_array(func.json_array(events.c.seq, record))
    else:
        element = func.json_agg(func.json_build_array(
            events.c.seq, events.c.payload.op("->")(literal("clock")))).cast(String)
    return (select(element).where(events.c.dossier_id == D.c.id)
            .correlate(D).scalar_subquery())


def _stored_records(records: str | None) -> list[dict[str, Any]]:
    """The clock records of :func:`_clock_records`' JSON, in event order, without the events
    that moved no clock (decoded by :meth:`engine.clock.ClockEvent.stored` in the judge)."""
    if not records:
        return []
    return [r for _, r in sorted(json.loads(records), key=lambda pair: pair[0])
            if r is not None]


#: The partial index ``ix_dossier_clock_moved`` (migration 0005) covers exactly these rows;
#: the query repeats its condition word for word so that both databases use it.
CLOCK_MOVED_SQL = "supplement_count > 0 OR was_paused"


def _replay_rows(session: Session, period: Period, by: By,
                 where: ColumnElement[bool] | None, key_filter: str | None = None,
                 batch: int = 500) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    """(dossier row with its group key and entry, its events' stored clock records) of every
    dossier to judge by replay.

    One query, ``UNION ALL`` of the two ranges of the partial index — the open waits (no
    settled day) and the due dates settled after the period end (as one ``IS NULL OR >``
    condition PostgreSQL read the whole index and fetched every row whose due date ever
    moved). One row per dossier, its clock records aggregated (:func:`_clock_records`; a join
    sent the dossier's columns again with each of its events), streamed (a server-side cursor
    on PostgreSQL): memory stays flat however many there are, and there is no second round
    trip per batch.
    """
    dialect = session.get_bind().dialect.name
    x = verdict_exprs(period, dialect)
    key, frm = group_key(by, dialect)
    if dialect == "postgresql":
        # A cursor is planned for its first 10 % by default: PostgreSQL then walked the
        # primary key in order over every dossier (~0.4 s at 1,000,000) instead of reading
        # the few rows the partial index finds. All rows are read: plan for all of them.
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))
    records = _clock_records(dialect)

    def candidates(settled: ColumnElement[bool]) -> Any:
        query = (select(D.c.id, D.c.code, D.c.limit_amount, D.c.limit_unit,
                        D.c.supplement_effect, D.c.competent_agency, D.c.receiving_agency,
                        D.c.due_date, key.label("key"), x.entry.label("entry"),
                        records.label("clocks"))
                 .select_from(frm)
                 # the settled day is implied by the REPLAY verdict; it lets the index find
                 # the rows
                 .where(text(f"({CLOCK_MOVED_SQL})"), settled, x.population, x.cls == REPLAY))
        if where is not None:
            query = query.where(where)
        if key_filter is not None:
            query = query.where(key == key_filter)
        return query

    query = union_all(candidates(D.c.clock_settled_on.is_(None)),
                      candidates(D.c.clock_settled_on > date_param(period.end)))
    for row in session.execute(query.execution_options(yield_per=batch)):
        yield row, _stored_records(row.clocks)


def replayed(session: Session, period: Period, by: By, where: ColumnElement[bool] | None,
             key_filter: str | None = None,
             ) -> Iterator[tuple[Any, str, str, tuple[int, bool, str, str | None]]]:
    """(dossier row, group key, entry, judgement) of every dossier judged by replay — the one
    replay path of both the figures and the drill-down."""
    judge = Judge(session, period)
    for row, records in _replay_rows(session, period, by, where, key_filter):
        yield row, row.key, row.entry, judge.judge(row, records)
