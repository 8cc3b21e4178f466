"""The report figures of a period, for any grouping: computed in SQL, judged like the clock.

What is counted (definitions and marks in ``docs/reports.md``; rules domain §3 T12, §4.10, §6.2):

- *received*: formal receipt (``received_at``) in the period, split online / direct (counter,
  kiosk) / postal; *carried over*: received before the period and not ended before it;
- *ended*: end of processing (``ended_at``: the first of result ready, returned, refused,
  stopped, withdrawn) in the period, split early / on time / late against the legal due date;
- *pending*: not ended at the end of the period, within time or late;
- *withdrawn*, *refused* (after appraisal): of which, among the ended;
- the on-time rate of QĐ 766 rule 2.1 and the stricter closed on-time rate;
- apology coverage of the late dossiers (ended late or pending late).

How (design for scale): each dossier's verdict at the period end is an SQL ``CASE`` over its
stored columns (``received_at``, ``ended_at``, ``due_date``, ``supplement_count`` …), grouped
and counted in the database: nothing is loaded per dossier. The stored columns are the clock's
own verdict (``engine.lifecycle.service`` replays the clock after every action), so they equal
:func:`engine.clock.classify` whenever the due date did not move after the period end; before a
dossier's first supplement request or pause the due date was the original one, and inside its
only supplement wait the clock judges at the request (both stored too). The rest — a pause open
at the period end, due dates that moved both before and after it, an end while waiting for a
supplement — are flagged by the same query and judged by replaying their stored clock events
(truncated at the period end) through :func:`engine.clock.classify` and
:func:`engine.clock.indicator_classify`, the one implementation of the on-time rules. A test
checks that both paths agree on every dossier at every day end of two months.

Every figure is drillable: :func:`drill` lists the dossier codes behind any number, from the
same per-dossier verdicts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    literal,
    literal_column,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.agencies import Agency, clock_policy_of
from engine.calendar.store import CalendarDayRow, OfficeHoursRow, load_calendar
from engine.clock import (
    Classification,
    ClockError,
    ClockEvent,
    EventKind,
    SupplementEffect,
    classify,
    indicator_classify,
    replay,
)
from engine.deadline import TimeLimit, TimeUnit
from engine.procedures import ProcedureVersionRow
from engine.reports.period import Period
from engine.reports.sql import EV, ST, D, date_param

Progress = Callable[[str, int, int | None], None]


class By(StrEnum):
    """Groupings of the report (``--by``)."""

    NONE = "none"
    AGENCY = "agency"  # competent agency (cơ quan giải quyết)
    RECEIVING = "receiving"  # receiving one-stop unit (nơi tiếp nhận)
    LEVEL = "level"  # bộ / tỉnh / xã of the competent agency
    FIELD = "field"  # lĩnh vực of the procedure version
    PROCEDURE = "procedure"
    CHANNEL = "channel"
    OFFICER = "officer"  # the dossier's (last) assigned processing officer
    STEP = "step"  # hand-off rows of the control sheet, per step


# Per-dossier verdict codes (small integers: cheap to group on).
REPLAY, EARLY, ON_TIME, LATE, PENDING_WITHIN, PENDING_LATE = 0, 1, 2, 3, 4, 5
CLS_CODE = {Classification.EARLY: EARLY, Classification.ON_TIME: ON_TIME,
            Classification.LATE: LATE, Classification.PENDING_WITHIN: PENDING_WITHIN,
            Classification.PENDING_LATE: PENDING_LATE}
ENDED_CODES = (EARLY, ON_TIME, LATE)
#: How a dossier enters the period: received online / direct / postal, or carried over.
ONLINE, DIRECT, POSTAL, CARRIED = "o", "d", "p", "c"
#: Apology of a late dossier: sent in time, sent late, missing.
APOLOGY_IN_TIME, APOLOGY_LATE, APOLOGY_MISSING = "i", "l", "m"


@dataclass(frozen=True, slots=True)
class Options:
    """Settings of the figures (all [I], documented in ``docs/reports.md``)."""

    #: Withdrawn dossiers end processing (QĐ 766 rule 2.1 counts them among the processed,
    #: T11). False: they are reported apart and left out of ended, pending and the rates.
    withdrawn_counts_as_ended: bool = True


@dataclass
class Totals:
    """The counts of one group. Derived figures are properties, never stored twice."""

    received_online: int = 0
    received_direct: int = 0  # counter and kiosk
    received_postal: int = 0
    carried_over: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    pending_within: int = 0
    pending_late: int = 0
    withdrawn: int = 0
    refused: int = 0  # refused after appraisal (T10): the result, among the ended
    stopped: int = 0
    on_time_766: int = 0  # numerator of QĐ 766 rule 2.1
    apology_in_time: int = 0
    apology_late: int = 0
    apology_missing: int = 0
    replayed: int = 0  # dossiers judged by replaying their events (not a figure)

    def add(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def received(self) -> int:
        return self.received_online + self.received_direct + self.received_postal

    @property
    def ended(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def pending(self) -> int:
        return self.pending_within + self.pending_late

    @property
    def on_time_rate_766(self) -> float | None:
        return _rate(self.on_time_766, self.ended + self.pending)

    @property
    def closed_on_time_rate(self) -> float | None:
        return _rate(self.early + self.on_time, self.ended)

    @property
    def online_rate(self) -> float | None:
        return _rate(self.received_online, self.received)

    @property
    def postal_rate(self) -> float | None:
        return _rate(self.received_postal, self.received)

    def dashboard(self) -> dict[str, Any]:
        """The dashboard JSON of one group — a contract: keep keys and shape."""
        return {
            "received": self.received,
            "carried_over": self.carried_over,
            "ended": {"early": self.early, "on_time": self.on_time, "late": self.late},
            "pending": {"within": self.pending_within, "late": self.pending_late},
            "withdrawn": self.withdrawn,
            "refused": self.refused,
            "on_time_rate_766": self.on_time_rate_766,
            "closed_on_time_rate": self.closed_on_time_rate,
            "apology": {"in_time": self.apology_in_time, "late": self.apology_late,
                        "missing": self.apology_missing},
        }

    def flat(self) -> dict[str, Any]:
        """Every figure as one flat row (CSV, tables, Excel)."""
        return {
            "received": self.received, "received_online": self.received_online,
            "received_direct": self.received_direct, "received_postal": self.received_postal,
            "carried_over": self.carried_over, "total_in": self.received + self.carried_over,
            "ended": self.ended, "ended_early": self.early, "ended_on_time": self.on_time,
            "ended_late": self.late, "pending": self.pending,
            "pending_within": self.pending_within, "pending_late": self.pending_late,
            "withdrawn": self.withdrawn, "refused": self.refused, "stopped": self.stopped,
            "on_time_rate_766": self.on_time_rate_766,
            "closed_on_time_rate": self.closed_on_time_rate,
            "online_rate": self.online_rate, "postal_rate": self.postal_rate,
            "apology_in_time": self.apology_in_time, "apology_late": self.apology_late,
            "apology_missing": self.apology_missing,
        }


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


#: What each figure means; shown beside the numbers (table, Excel, PDF, docs).
DEFINITIONS: dict[str, str] = {
    "received": "Tiếp nhận mới trong kỳ (ngày tiếp nhận chính thức trong kỳ) — trực tuyến + "
                "trực tiếp + bưu chính",
    "received_online": "Tiếp nhận trong kỳ, kênh trực tuyến",
    "received_direct": "Tiếp nhận trong kỳ, trực tiếp tại quầy (kể cả ki-ốt)",
    "received_postal": "Tiếp nhận trong kỳ, qua bưu chính công ích",
    "carried_over": "Từ kỳ trước: tiếp nhận trước kỳ, chưa kết thúc xử lý trước ngày đầu kỳ",
    "total_in": "Tổng số phải giải quyết = tiếp nhận mới + từ kỳ trước",
    "ended": "Đã giải quyết: kết thúc xử lý trong kỳ (có kết quả, trả kết quả, từ chối, dừng, "
             "rút) — mặc định tính cả hồ sơ rút (QĐ 766 tiêu chí 2.1)",
    "ended_early": "Trước hạn: ngày kết thúc xử lý < hạn giải quyết theo luật (T12)",
    "ended_on_time": "Đúng hạn: ngày kết thúc xử lý = hạn giải quyết",
    "ended_late": "Quá hạn: ngày kết thúc xử lý > hạn giải quyết (thư xin lỗi không làm hồ sơ "
                  "thành đúng hạn, T9)",
    "pending": "Đang giải quyết tại cuối kỳ",
    "pending_within": "Đang giải quyết, trong hạn: ngày cuối kỳ ≤ hạn giải quyết",
    "pending_late": "Đang giải quyết, quá hạn: ngày cuối kỳ > hạn giải quyết",
    "withdrawn": "Trong số đã giải quyết: công dân rút hồ sơ",
    "refused": "Trong số đã giải quyết: từ chối giải quyết sau thẩm định (Mẫu 03 là kết quả)",
    "stopped": "Trong số đã giải quyết: dừng giải quyết theo yêu cầu",
    "on_time_rate_766": "Tỷ lệ đúng hạn QĐ 766 tiêu chí 2.1 = (trước hạn + đúng hạn + đang "
                        "giải quyết trong hạn) / (đã giải quyết + đang giải quyết); hồ sơ bị "
                        "yêu cầu bổ sung quá 1 lần tính là quá hạn",
    "closed_on_time_rate": "Tỷ lệ đúng hạn (chặt) = (trước hạn + đúng hạn) / đã giải quyết",
    "online_rate": "Tỷ lệ trực tuyến = tiếp nhận trực tuyến / tiếp nhận mới",
    "postal_rate": "Tỷ lệ bưu chính = tiếp nhận qua bưu chính / tiếp nhận mới",
    "apology_in_time": "Hồ sơ quá hạn (đã giải quyết quá hạn hoặc đang quá hạn) có thư xin "
                       "lỗi gửi đúng thời hạn (chậm nhất 1 ngày làm việc trước hạn, T9)",
    "apology_late": "Hồ sơ quá hạn có thư xin lỗi gửi muộn",
    "apology_missing": "Hồ sơ quá hạn chưa có thư xin lỗi (tại cuối kỳ)",
}


@dataclass
class Group:
    key: str
    label: str
    totals: Totals


@dataclass
class Figures:
    period: Period
    by: By
    totals: Totals
    groups: list[Group] = field(default_factory=list)
    options: Options = field(default_factory=Options)

    def dashboard(self) -> dict[str, Any]:
        """The dashboard JSON (a contract: ``{"period", "totals", "groups"}``)."""
        return {"period": self.period.as_dict(), "totals": self.totals.dashboard(),
                "groups": [{"key": g.key, "totals": g.totals.dashboard()}
                           for g in self.groups]}


# ----- the per-dossier verdict in SQL --------------------------------------------------------

@dataclass(frozen=True)
class _Exprs:
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
def _exprs(period: Period, dialect: str) -> _Exprs:
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
    return _Exprs(population, cls,
                  _entry_case(period, CARRIED, ONLINE, POSTAL, DIRECT),
                  _over_one_supplement(last),
                  _apology_case(last, APOLOGY_MISSING, APOLOGY_LATE, APOLOGY_IN_TIME),
                  case((D.c.ended_on <= last, D.c.end_kind), else_=None))


#: The entry and apology buckets as small integers, packed with the class into one grouping
#: column: the GROUP BY then compares one integer per row instead of five values.
_ENTRY_CODES = (CARRIED, ONLINE, POSTAL, DIRECT)
_APOLOGY_CODES = (APOLOGY_MISSING, APOLOGY_LATE, APOLOGY_IN_TIME)


@lru_cache(maxsize=64)
def _packed(period: Period, *, use_report_code: bool) -> ColumnElement[Any]:
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


def _unpack(packed: int) -> tuple[int, str, bool, str]:
    """(class, entry, more than one supplement, apology) of a :func:`_packed` value."""
    return (packed & 7, _ENTRY_CODES[(packed >> 3) & 3], bool(packed & 32),
            _APOLOGY_CODES[packed >> 6])


@lru_cache(maxsize=32)
def group_key(by: By, dialect: str) -> tuple[ColumnElement[Any], Any]:
    """The SQL expression of a grouping key, and the FROM clause it needs."""
    from sqlalchemy import func

    frm: Any = D
    if by is By.NONE:
        key: Any = literal("")
    elif by is By.AGENCY:
        key = D.c.competent_agency
    elif by is By.RECEIVING:
        key = D.c.receiving_agency
    elif by is By.PROCEDURE:
        key = D.c.procedure_code
    elif by is By.CHANNEL:
        key = D.c.channel
    elif by is By.OFFICER:
        key = func.coalesce(D.c.assignee, "")
    elif by is By.LEVEL:
        agency = Agency.__table__
        frm = D.outerjoin(agency, agency.c.code == D.c.competent_agency)
        key = func.coalesce(agency.c.level, "")
    elif by is By.FIELD:
        pv = ProcedureVersionRow.__table__
        frm = D.outerjoin(pv, and_(pv.c.code == D.c.procedure_code,
                                   pv.c.effective_from == D.c.procedure_version))
        key = func.coalesce(pv.c.field, "")
    else:  # pragma: no cover - STEP is handled apart
        raise ValueError(by)
    return key, frm


# ----- folding verdicts into totals ---------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Verdict:
    """One dossier's place in the figures (what :func:`drill` filters on)."""

    code: str
    key: str
    cls: int
    entry: str
    end_kind: str | None
    over_one_supplement: bool
    apology: str
    on_time_766: bool
    replayed: bool = False


def _fold(t: Totals, cls: int, entry: str, end_kind: str | None, ok766: bool, apology: str,
          n: int, options: Options) -> None:
    if entry == CARRIED:
        t.carried_over += n
    elif entry == ONLINE:
        t.received_online += n
    elif entry == POSTAL:
        t.received_postal += n
    else:
        t.received_direct += n
    if cls in ENDED_CODES and end_kind == "withdrawn":
        t.withdrawn += n
        if not options.withdrawn_counts_as_ended:
            return
    if cls == EARLY:
        t.early += n
    elif cls == ON_TIME:
        t.on_time += n
    elif cls == LATE:
        t.late += n
    elif cls == PENDING_WITHIN:
        t.pending_within += n
    elif cls == PENDING_LATE:
        t.pending_late += n
    if cls in ENDED_CODES and end_kind == "refused":
        t.refused += n
    if cls in ENDED_CODES and end_kind == "stopped":
        t.stopped += n
    if ok766:
        t.on_time_766 += n
    if cls in (LATE, PENDING_LATE):
        if apology == APOLOGY_IN_TIME:
            t.apology_in_time += n
        elif apology == APOLOGY_LATE:
            t.apology_late += n
        else:
            t.apology_missing += n


_TOTALS_FIELDS = tuple(f.name for f in fields(Totals))


@lru_cache(maxsize=4096)
def _fold_step(packed: int, end_kind: str | None, options: Options,
               ) -> tuple[tuple[int, int], ...]:
    """What one dossier of a grouped row adds to its group's totals, as (field index, amount)
    pairs — :func:`_fold` applied once per distinct (packed verdict, end kind), so that the
    thousands of grouped rows of a large report are added without judging each again. Empty
    for a dossier to replay."""
    cls, entry, over1, apology = _unpack(packed)
    if cls == REPLAY:
        return ()
    t = Totals()
    ok766 = cls in (EARLY, ON_TIME, PENDING_WITHIN) and not over1
    _fold(t, cls, entry, end_kind if cls in ENDED_CODES else None, ok766, apology, 1, options)
    values = (getattr(t, name) for name in _TOTALS_FIELDS)
    return tuple((i, v) for i, v in enumerate(values) if v)


#: Figure names accepted by :func:`drill`, each a predicate on a :class:`Verdict`.
def _figure_predicates(options: Options) -> dict[str, Callable[[Verdict], bool]]:
    def counted(v: Verdict) -> bool:  # in ended/pending/rates
        return options.withdrawn_counts_as_ended or not (
            v.cls in ENDED_CODES and v.end_kind == "withdrawn")

    late = lambda v: v.cls in (LATE, PENDING_LATE) and counted(v)  # noqa: E731
    return {
        "received": lambda v: v.entry != CARRIED,
        "received_online": lambda v: v.entry == ONLINE,
        "received_direct": lambda v: v.entry == DIRECT,
        "received_postal": lambda v: v.entry == POSTAL,
        "carried_over": lambda v: v.entry == CARRIED,
        "total_in": lambda v: True,
        "ended": lambda v: v.cls in ENDED_CODES and counted(v),
        "ended_early": lambda v: v.cls == EARLY and counted(v),
        "ended_on_time": lambda v: v.cls == ON_TIME and counted(v),
        "ended_late": lambda v: v.cls == LATE and counted(v),
        "pending": lambda v: v.cls in (PENDING_WITHIN, PENDING_LATE),
        "pending_within": lambda v: v.cls == PENDING_WITHIN,
        "pending_late": lambda v: v.cls == PENDING_LATE,
        "withdrawn": lambda v: v.cls in ENDED_CODES and v.end_kind == "withdrawn",
        "refused": lambda v: v.cls in ENDED_CODES and v.end_kind == "refused",
        "stopped": lambda v: v.cls in ENDED_CODES and v.end_kind == "stopped",
        "on_time_766": lambda v: v.on_time_766 and counted(v),
        "not_on_time_766": lambda v: not v.on_time_766 and counted(v),
        "late_any": late,
        "apology_in_time": lambda v: late(v) and v.apology == APOLOGY_IN_TIME,
        "apology_late": lambda v: late(v) and v.apology == APOLOGY_LATE,
        "apology_missing": lambda v: late(v) and v.apology == APOLOGY_MISSING,
    }


FIGURES = tuple(_figure_predicates(Options()))


# ----- the replay path ----------------------------------------------------------------------

_EVENT_KINDS = {kind.value: kind for kind in EventKind}


class _Replayer:
    """Judge one dossier from its stored clock events, cut at the period end."""

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

    def judge(self, row: Any, clocks: Iterable[tuple[str, str, str | None, str | None]],
              ) -> tuple[int, bool, str, str | None]:
        """(class code, on time for QĐ 766, apology bucket, end kind) at the period end, from
        the ``clock`` records of the dossier's events as (at, kind, reason, new_due) text."""
        period_end = self.period_end
        events = []
        for at_text, kind, reason, new_due in clocks:
            at = datetime.fromisoformat(at_text)
            if at > period_end:
                break
            events.append(ClockEvent(at, _EVENT_KINDS.get(kind) or EventKind(kind), reason,
                                     date.fromisoformat(new_due[:10]) if new_due else None))
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
    from sqlalchemy import func

    events = EV.alias("e")
    if dialect == "sqlite":
        record = func.json(func.json_extract(events.c.payload, "$.clock"))
        element = func.json_group_array(func.json_array(events.c.seq, record))
    else:
        element = func.json_agg(func.json_build_array(
            events.c.seq, events.c.payload.op("->")(literal("clock")))).cast(String)
    return (select(element).where(events.c.dossier_id == D.c.id)
            .correlate(D).scalar_subquery())


def _clock_tuples(records: str | None) -> list[tuple[str, str, str | None, str | None]]:
    """(at, kind, reason, new_due) of each clock record, in event order."""
    if not records:
        return []
    return [(r["at"], r["kind"], r.get("reason"), r.get("new_due"))
            for _, r in sorted(json.loads(records), key=lambda pair: pair[0])
            if r is not None]


#: The partial index ``ix_dossier_clock_moved`` (migration 0005) covers exactly these rows;
#: the query repeats its condition word for word so that both databases use it.
CLOCK_MOVED_SQL = "supplement_count > 0 OR was_paused"


def _replay_rows(session: Session, period: Period, by: By,
                 where: ColumnElement[bool] | None, key_filter: str | None = None,
                 batch: int = 500) -> Iterator[tuple[Any, list[Any]]]:
    """(dossier row with its group key and entry, its events' clock records as (at, kind,
    reason, new_due) text) of every dossier to judge by replay.

    One query, ``UNION ALL`` of the two ranges of the partial index — the open waits (no
    settled day) and the due dates settled after the period end (as one ``IS NULL OR >``
    condition PostgreSQL read the whole index and fetched every row whose due date ever
    moved). One row per dossier, its clock records aggregated (:func:`_clock_records`; a join
    sent the dossier's columns again with each of its events), streamed (a server-side cursor
    on PostgreSQL): memory stays flat however many there are, and there is no second round
    trip per batch.
    """
    dialect = session.get_bind().dialect.name
    x = _exprs(period, dialect)
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
        yield row, _clock_tuples(row.clocks)


def _replayed(session: Session, period: Period, by: By, where: ColumnElement[bool] | None,
              key_filter: str | None = None,
              ) -> Iterator[tuple[Any, str, str, tuple[int, bool, str, str | None]]]:
    """(dossier row, group key, entry, judgement) of every dossier judged by replay — the one
    replay path of both the figures and the drill-down."""
    replayer = _Replayer(session, period)
    for row, clocks in _replay_rows(session, period, by, where, key_filter):
        yield row, row.key, row.entry, replayer.judge(row, clocks)


# ----- public API ---------------------------------------------------------------------------

def figures(session: Session, period: Period, by: By | str = By.NONE, *,
            where: ColumnElement[bool] | None = None, options: Options | None = None,
            progress: Progress | None = None) -> Figures:
    """All figures of ``period`` grouped ``by``; ``where`` narrows the dossiers (scoping)."""
    by, options = By(by), options or Options()
    if by is By.STEP:
        from engine.reports.steps import step_figures

        return step_figures(session, period, where=where, options=options)
    dialect = session.get_bind().dialect.name
    query = _grouped_query(period, by, dialect, where)
    if progress:
        progress("Tổng hợp theo nhóm (SQL)", 0, None)
    if dialect == "postgresql":
        _hash_aggregate_memory(session)
    counts: dict[str, list[int]] = {}
    rows = (row for part in session.execute(query).partitions(1000) for row in part)
    for key_value, packed, end_kind, n in rows:  # fetched in chunks: memory stays flat
        step = _fold_step(packed, end_kind, options)
        if not step:  # REPLAY: judged one by one below
            continue
        acc = counts.get(key_value)
        if acc is None:
            acc = counts[key_value] = [0] * len(_TOTALS_FIELDS)
        for index, value in step:
            acc[index] += value * n
    groups = {k: Totals(*acc) for k, acc in counts.items()}
    if progress:
        progress("Phát lại sự kiện của hồ sơ cần xét lại", 1, None)
    for _, key_value, entry, (cls, ok766, apology, end_kind) in _replayed(
            session, period, by, where):
        t = groups.setdefault(key_value, Totals())
        _fold(t, cls, entry, end_kind, ok766, apology, 1, options)
        t.replayed += 1
    total = Totals()
    for t in groups.values():
        total.add(t)
    labels = key_labels(session, by, groups)
    out = [Group(k, labels.get(k, k), groups[k]) for k in sorted(groups)]
    if by is By.NONE:
        out = []
    return Figures(period, by, total, out, options)


def _grouped_query(period: Period, by: By, dialect: str,
                   where: ColumnElement[bool] | None) -> Any:
    """One grouped scan: (group key, packed verdict, end kind, count) — the end kind only
    matters for the ended classes, where it is the real one: no CASE needed around it.

    On PostgreSQL the per-dossier values are computed in a subquery fenced by ``OFFSET NULL``
    (no offset, but the planner keeps the subquery apart instead of pulling it up) and grouped
    outside it. Grouped directly, the packed CASE names a dozen columns, so the planner
    multiplies their distinct counts and expects ~10 % of the rows as groups; at 100,000
    dossiers it then judged a parallel partial aggregate useless and scanned on one core
    (~2.5× the parallel floor). Grouped over the subquery, the packed value counts as one
    column of unknown distinct count (200) and the plan is parallel at every size. ``NULL``,
    not ``0``: ``OFFSET 0`` is a cast PostgreSQL only folds later, and an offset it cannot
    yet read as no offset keeps the subquery off the parallel workers.
    """
    x = _exprs(period, dialect)
    key, frm = group_key(by, dialect)
    packed = _packed(period, use_report_code=dialect == "postgresql")
    rows = (select(key.label("r_key"), packed.label("r_packed"), D.c.end_kind.label("r_end"))
            .select_from(frm).where(x.population))
    if where is not None:
        rows = rows.where(where)
    if dialect != "postgresql":  # SQLite plans the plain grouped scan well
        return rows.add_columns(_count()).group_by(
            literal_column("r_key"), literal_column("r_packed"), literal_column("r_end"))
    v = rows.offset(literal_column("NULL")).subquery("v")
    return (select(v.c.r_key, v.c.r_packed, v.c.r_end, _count())
            .group_by(v.c.r_key, v.c.r_packed, v.c.r_end))


#: Memory for the report's grouping on PostgreSQL (this transaction only). PostgreSQL cannot
#: estimate how many distinct packed verdicts there are and assumes tens of thousands of
#: groups (~40,000 at 1,000,000 dossiers, once grouped over the fenced subquery); with the
#: default 4 MB it then sorts a million rows on disk instead of hashing a few thousand groups
#: (measured: 1.2 s instead of 0.6 s for a year of 1,000,000 dossiers).
REPORT_WORK_MEM = "64MB"


def _hash_aggregate_memory(session: Session) -> None:
    session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def _count():
    from sqlalchemy import func

    return func.count().label("n")


def verdicts(session: Session, period: Period, by: By | str = By.NONE, *,
             key: str | None = None, where: ColumnElement[bool] | None = None,
             ) -> Iterator[Verdict]:
    """Every dossier of the period with its verdict (streamed; for drill-down and checks)."""
    by = By(by)
    if by is By.STEP:
        from engine.reports.steps import step_verdicts

        yield from step_verdicts(session, period, key=key, where=where)
        return
    dialect = session.get_bind().dialect.name
    x = _exprs(period, dialect)
    key_expr, frm = group_key(by, dialect)
    query = (select(D.c.code, key_expr.label("key"), x.cls.label("cls"),
                    x.entry.label("entry"), x.end_kind.label("end_kind"),
                    x.over_one_supplement.label("over1"), x.apology.label("apology"))
             .select_from(frm).where(x.population).order_by(D.c.code))
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(key_expr == key)
    for row in session.execute(query.execution_options(yield_per=5000)):
        if row.cls == REPLAY:
            continue
        yield Verdict(row.code, row.key, row.cls, row.entry, row.end_kind, bool(row.over1),
                      row.apology, row.cls in (EARLY, ON_TIME, PENDING_WITHIN) and not row.over1)
    for row, key_value, entry, (cls, ok766, apology, end_kind) in _replayed(
            session, period, by, where, key):
        yield Verdict(row.code, key_value, cls, entry, end_kind, False, apology, ok766,
                      replayed=True)


def drill(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
          key: str | None = None, where: ColumnElement[bool] | None = None,
          options: Options | None = None) -> list[str]:
    """The dossier codes behind one figure (of one group when ``key`` is given), sorted."""
    predicates = _figure_predicates(options or Options())
    if figure not in predicates:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(predicates)}")
    test = predicates[figure]
    return sorted({v.code for v in verdicts(session, period, by, key=key, where=where)
                   if test(v)})


def key_labels(session: Session, by: By, keys: Iterable[str]) -> dict[str, str]:
    """Human labels of group keys (agency names, procedure names …)."""
    keys = [k for k in keys if k]
    if not keys:
        return {}
    if by in (By.AGENCY, By.RECEIVING):
        agency = Agency.__table__
        rows = session.execute(select(agency.c.code, agency.c.name)
                               .where(agency.c.code.in_(keys)))
        return {r.code: r.name for r in rows}
    if by is By.PROCEDURE:
        pv = ProcedureVersionRow.__table__
        rows = session.execute(select(pv.c.code, pv.c.name).where(pv.c.code.in_(keys))
                               .order_by(pv.c.effective_from))
        return {r.code: r.name for r in rows}
    if by is By.LEVEL:
        return {k: {"bo": "Cấp bộ", "tinh": "Cấp tỉnh", "xa": "Cấp xã",
                    "huyen": "Cấp huyện (trước 01/7/2025)"}.get(k, k) for k in keys}
    if by is By.CHANNEL:
        return {k: {"counter": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính công ích",
                    "kiosk": "Ki-ốt"}.get(k, k) for k in keys}
    if by is By.OFFICER:
        from engine.users import User

        user = User.__table__
        rows = session.execute(select(user.c.username, user.c.full_name)
                               .where(user.c.username.in_(keys)))
        return {r.username: r.full_name for r in rows}
    if by is By.STEP:
        rows = session.execute(select(ST.c.step_id, ST.c.step_name)
                               .where(ST.c.step_id.in_(keys)).distinct())
        return {r.step_id: r.step_name for r in rows}
    return {}
