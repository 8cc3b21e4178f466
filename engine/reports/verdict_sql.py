"""A dossier's verdict at the period end as SQL over its stored report columns.

Design for scale: each dossier's verdict is an SQL ``CASE`` over its stored columns
(``received_at``, ``ended_at``, ``due_date``, ``supplement_count`` …), grouped and counted in
the database: nothing is loaded per dossier. The stored columns are the clock's own verdict
(the lifecycle replays the clock after every action), so they equal
:func:`engine.clock.classify` whenever the due date did not move after the period end; before a
dossier's first supplement request or pause the due date was the original one, and inside its
only supplement wait the clock judges at the request (both stored too). The rest — a pause open
at the period end, due dates that moved both before and after it, an end while waiting for a
supplement — get the class ``REPLAY`` here and are judged by :mod:`engine.reports.judge`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, case, literal, or_
from sqlalchemy.sql.elements import ColumnElement

from engine.reports.period import Period
from engine.reports.sql import D, date_param
from engine.reports.verdict import (
    APOLOGY_IN_TIME,
    APOLOGY_LATE,
    APOLOGY_MISSING,
    CARRIED,
    DIRECT,
    EARLY,
    LATE,
    ON_TIME,
    ONLINE,
    PENDING_LATE,
    PENDING_WITHIN,
    POSTAL,
    REPLAY,
)


@dataclass(frozen=True)
class VerdictExprs:
    """The parts of a dossier's verdict as SQL expressions over the ``dossier`` row."""

    population: ColumnElement[bool]
    cls: ColumnElement[Any]
    entry: ColumnElement[Any]
    over_one_supplement: ColumnElement[Any]
    apology: ColumnElement[Any]
    end_kind: Any


def _pending(judged_on: Any, due: Any) -> ColumnElement[Any]:
    """Pending within when the day it is judged on is not after the due date; REPLAY when the
    due date is unknown (a row written before its columns existed)."""
    return case((judged_on <= due, literal(PENDING_WITHIN)),
                (judged_on > due, literal(PENDING_LATE)), else_=literal(REPLAY))


def _moving_case(last: ColumnElement[Any]) -> ColumnElement[Any]:
    """The verdict of a dossier running at the period end whose due date moved after it (or
    whose wait or pause is still open): on the original due date while the clock had not yet
    stopped (``first_wait_on`` after the period) or inside its only supplement wait (judged at
    the request, like :func:`engine.clock.classify`); otherwise REPLAY (a pause open at the
    period end, or moves before and after it)."""
    return case(
        (D.c.first_wait_on > last, _pending(last, D.c.original_due_date)),
        (and_(D.c.supplement_count == 1, D.c.was_paused.is_(False), D.c.first_wait_on <= last),
         _pending(D.c.first_wait_on, D.c.original_due_date)),
        else_=literal(REPLAY))


def _class_case(last: ColumnElement[Any]) -> ColumnElement[Any]:
    """The verdict code at the period's last day ``last`` (REPLAY: judged by the clock)."""
    end_in = D.c.ended_on <= last  # NULL (still running): false
    return case(
        # Ended while waiting for a supplement: the wait's start is the end that counts.
        (end_in, case((D.c.ended_awaiting_supplement, literal(REPLAY)),
                      (D.c.ended_on < D.c.due_date, literal(EARLY)),
                      (D.c.ended_on == D.c.due_date, literal(ON_TIME)), else_=literal(LATE))),
        # Running at the period end with a supplement or a pause in its history that was
        # still moving the due date after the period end (or still is).
        (and_(or_(D.c.supplement_count > 0, D.c.was_paused),
              or_(D.c.clock_settled_on.is_(None), D.c.clock_settled_on > last)),
         _moving_case(last)),
        (or_(D.c.due_date.is_(None), D.c.due_date >= last), literal(PENDING_WITHIN)),
        else_=literal(PENDING_LATE))


def _over_one_supplement(last: ColumnElement[Any], yes: int = 1) -> ColumnElement[Any]:
    """More than one supplement request by the period end (QĐ 766 then counts it late): the
    stored count, except for a dossier whose first wait began after the period end (none
    then). A dossier inside its first wait has one; the rest of the moving ones are replayed."""
    return case((D.c.supplement_count <= 1, literal(0)),
                (D.c.ended_on <= last, literal(yes)),
                (D.c.clock_settled_on <= last, literal(yes)),
                (D.c.first_wait_on > last, literal(0)), else_=literal(yes))


def _entry_case(period: Period, carried: Any, online: Any, postal: Any, direct: Any,
                ) -> ColumnElement[Any]:
    return case((D.c.received_at < period.starts_at, literal(carried)),
                (D.c.channel == "online", literal(online)),
                (D.c.channel == "postal", literal(postal)), else_=literal(direct))


def _apology_case(last: ColumnElement[Any], missing: Any, late: Any, in_time: Any,
                  ) -> ColumnElement[Any]:
    return case((or_(D.c.apology_on.is_(None), D.c.apology_on > last), literal(missing)),
                (D.c.apology_late, literal(late)), else_=literal(in_time))


@lru_cache(maxsize=64)
def verdict_exprs(period: Period, dialect: str) -> VerdictExprs:
    """The per-dossier verdict at the period end, as SQL over the stored report columns.

    Built once per (period, dialect) and kept (SQL expressions are immutable): a report uses
    them in its grouped scan and its replay query, and building them costs milliseconds.

    Every input is a plain column the lifecycle keeps with the clock (migration 0005): no
    function calls, no correlated lookups, so the database evaluates a few comparisons per
    dossier — and can read them all from the narrow ``ix_dossier_report`` index.
    """
    first, last = date_param(period.start), date_param(period.end)
    cls = _class_case(last)
    population = and_(D.c.received_at.is_not(None), D.c.received_at < period.ends_before,
                      or_(D.c.ended_on.is_(None), D.c.ended_on >= first))
    return VerdictExprs(population, cls,
                        _entry_case(period, CARRIED, ONLINE, POSTAL, DIRECT),
                        _over_one_supplement(last),
                        _apology_case(last, APOLOGY_MISSING, APOLOGY_LATE, APOLOGY_IN_TIME),
                        case((D.c.ended_on <= last, D.c.end_kind), else_=None))


#: The entry and apology buckets as small integers, packed with the class into one grouping
#: column: the GROUP BY then compares one integer per row instead of five values.
#: The order of each tuple is the packed value's: :func:`packed_verdict` writes the same.
_ENTRY_CODES = (CARRIED, ONLINE, POSTAL, DIRECT)
_APOLOGY_CODES = (APOLOGY_MISSING, APOLOGY_LATE, APOLOGY_IN_TIME)


@lru_cache(maxsize=64)
def packed_verdict(period: Period, *, use_report_code: bool) -> ColumnElement[Any]:
    """class + 8·entry + 32·(more than one supplement) + 64·apology, in SQL.

    With ``use_report_code`` (PostgreSQL), a dossier that ended by the period end, was received
    in the period and has no apology after it takes the value the database keeps in
    ``report_code`` (the same expression judged once the end is past:
    ``engine.lifecycle.models.REPORT_CODE_SQL``): three comparisons instead of a dozen for most
    of a year's dossiers. SQLite reads its covering index, which does not hold that column, so
    it judges every row.
    """
    last = date_param(period.end)
    judged = (_class_case(last) + _entry_case(period, 0, 8, 16, 24)
              + _over_one_supplement(last, 32)
              + _apology_case(last, 0, 64, 128))
    if not use_report_code:
        return judged
    settled = and_(D.c.ended_on <= last, D.c.received_at >= period.starts_at,
                   or_(D.c.apology_on.is_(None), D.c.apology_on <= last))
    return case((settled, D.c.report_code), else_=judged)


def unpack_verdict(packed: int) -> tuple[int, str, bool, str]:
    """(class, entry, more than one supplement, apology) of a :func:`packed_verdict` value."""
    return (packed & 7, _ENTRY_CODES[(packed >> 3) & 3], bool(packed & 32),
            _APOLOGY_CODES[packed >> 6])
