"""Due dates (*ngày hẹn trả kết quả*) from a receipt instant and a procedure's time limit.

Pure functions over a :class:`~engine.calendar.WorkingCalendar`; no database. The rules are
domain §3: T1 (units), T2 (the receipt day is not counted), T3 (calendar-day roll-forward),
T5 (the 15:00 cut-off), T6 (office hours).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from engine.calendar import DayNote, WorkingCalendar
from engine.calendar.working import WEEKDAY_NAMES_VI
from engine.timezone import local_instant, to_local


class TimeUnit(StrEnum):
    """Unit of a procedure's time limit (*thời hạn giải quyết*, T1). Never assume days."""

    WORKING_DAYS = "working_days"
    WORKING_HOURS = "working_hours"
    CALENDAR_DAYS = "calendar_days"
    SAME_DAY = "same_day"

    @property
    def label_vi(self) -> str:
        return {
            TimeUnit.WORKING_DAYS: "ngày làm việc",
            TimeUnit.WORKING_HOURS: "giờ làm việc",
            TimeUnit.CALENDAR_DAYS: "ngày",
            TimeUnit.SAME_DAY: "trong ngày",
        }[self]


class LateReceiptPolicy(StrEnum):
    """What a receipt after the cut-off (default 15:00) does to the count (T5) [I].

    - ``same_day_only`` (default): only same-day procedures move to the next working day;
      hour limits simply stop at closing time and carry on the next morning.
    - ``shift_receipt_date``: every procedure counts as received on the next working day.
    - ``none``: the cut-off is ignored.
    """

    SAME_DAY_ONLY = "same_day_only"
    SHIFT_RECEIPT_DATE = "shift_receipt_date"
    NONE = "none"


class NonWorkingDayReceipt(StrEnum):
    """A counter open on a Saturday (T4, case 10) [I].

    ``count_from_receipt`` (default): the receipt day is not counted anyway, so the count starts
    on the next working day. ``next_working_day``: treat the dossier as received on the next
    working day (some provinces do), which moves the due date one working day later.
    """

    COUNT_FROM_RECEIPT = "count_from_receipt"
    NEXT_WORKING_DAY = "next_working_day"


class DueTime(StrEnum):
    """Time of day shown with a day-based due date (T3) [I]. Display only: classification at
    day granularity ignores it."""

    CLOSE_OF_OFFICE = "close_of_office"
    END_OF_DAY = "end_of_day"
    RECEIPT_TIME = "receipt_time"


@dataclass(frozen=True, slots=True)
class TimeLimit:
    """A procedure's legal time limit: an amount and its unit (e.g. 10 working days)."""

    amount: float
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise ValueError("time limit must not be negative")
        if self.unit is not TimeUnit.WORKING_HOURS and self.amount != int(self.amount):
            raise ValueError(f"{self.unit.label_vi}: the amount must be a whole number")

    @property
    def label_vi(self) -> str:
        if self.unit is TimeUnit.SAME_DAY:
            return "Trong ngày"
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount:02d} {self.unit.label_vi}" if isinstance(amount, int) else (
            f"{str(amount).replace('.', ',')} {self.unit.label_vi}")

    @property
    def explained_label_vi(self) -> str:
        """The label with its unit spelled out where the legal wording is ambiguous: "06 ngày"
        alone reads like working days to most people, but calendar days count days off."""
        if self.unit is TimeUnit.CALENDAR_DAYS:
            return f"{self.label_vi} (ngày theo lịch, tính cả ngày nghỉ)"
        return self.label_vi


@dataclass(frozen=True, slots=True)
class ClockPolicy:
    """Per-agency settings for rules the law leaves open (domain §3, marked [I]).

    Every field's default is the reading documented in ``docs/deadlines.md``.
    """

    late_receipt_cutoff: time = time(15, 0)
    late_receipt_policy: LateReceiptPolicy = LateReceiptPolicy.SAME_DAY_ONLY
    non_working_day_receipt: NonWorkingDayReceipt = NonWorkingDayReceipt.COUNT_FROM_RECEIPT
    due_time: DueTime = DueTime.CLOSE_OF_OFFICE

    def with_(self, **changes: object) -> ClockPolicy:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Due:
    """A computed due date with everything needed to explain it to a clerk or a citizen."""

    received_at: datetime
    limit: TimeLimit
    counted_from: date  # the day after which counting starts (the receipt day, or shifted)
    due_date: date
    due_at: datetime
    shift_reason: str | None = None
    #: The calendar the date was computed on; the day-by-day notes are derived from it only
    #: when asked (:attr:`notes`): reports replay thousands of clocks and never read them.
    calendar: WorkingCalendar | None = field(default=None, compare=False, repr=False)
    #: The counter's receipt when the clock starts at another instant (``received_at``): a
    #: boundary-free dossier (the competent agency's acceptance, or the transfer deadline it
    #: assumes) or a restart after a complete supplement (T7). None: the clock starts at it.
    filed_at: datetime | None = None
    #: Why the clock starts at ``received_at`` when that is not the counter's receipt.
    start_reason: str | None = None

    @property
    def receipt_at(self) -> datetime:
        """When the dossier was received at the counter (what the receipt slip prints)."""
        return self.filed_at or self.received_at

    @property
    def clock_starts_at(self) -> datetime:
        """The instant the count is based on: the receipt (or ``received_at`` when the clock
        starts elsewhere), the next working day's opening when a policy shifts the receipt
        (T5, case 10), and for hour limits the next office instant (T6)."""
        calendar = self.calendar
        if calendar is None:
            return self.received_at
        local = to_local(self.received_at)
        if self.counted_from != local.date():
            return local_instant(self.counted_from, calendar.office_hours.opens)
        if self.limit.unit is TimeUnit.WORKING_HOURS:
            return next_office_instant(self.received_at, calendar)
        return self.received_at

    @property
    def first_counted_day(self) -> date | None:
        """The first day counted for a day limit (the day after the start, T2), else None."""
        if self.calendar is None:
            return None
        if self.limit.unit is TimeUnit.WORKING_DAYS:
            return self.calendar.next_working_day(self.counted_from)
        if self.limit.unit is TimeUnit.CALENDAR_DAYS:
            return self.counted_from + timedelta(days=1)
        return None

    @property
    def notes(self) -> tuple[DayNote, ...]:
        """Each day between receipt and the due date that was skipped or specially counted.

        Calendar days (*ngày*) count days off (BLDS Art 147–148): only the days the final day
        was moved over — it fell on a day off — are notes, never the weekends in between."""
        if self.calendar is None:
            return ()
        if self.limit.unit is TimeUnit.CALENDAR_DAYS:
            nominal = self.counted_from + timedelta(days=int(self.limit.amount))
            if self.due_date <= nominal:
                return ()
            return tuple(self.calendar.explain(nominal - timedelta(days=1),
                                               self.due_date - timedelta(days=1)))
        return tuple(self.calendar.explain(to_local(self.received_at).date(), self.due_date))

    def rolled_from(self) -> date | None:
        """Calendar days: the nominal last day when it fell on a day off and the due date
        moved to the next working day (BLDS Art 148(5)); None otherwise."""
        if self.limit.unit is not TimeUnit.CALENDAR_DAYS:
            return None
        nominal = self.counted_from + timedelta(days=int(self.limit.amount))
        return nominal if self.due_date > nominal else None

    def explanation(self) -> dict[str, object]:
        """The machine- and human-readable *why* of the date (CLI, API, receipt screen)."""
        rolled = self.rolled_from()
        first = self.first_counted_day
        return {
            "text": explanation_text(self),
            "received_at": to_local(self.receipt_at).isoformat(),
            "clock_starts_at": to_local(self.clock_starts_at).isoformat(),
            "start_reason": self.start_reason,
            "limit": {"amount": self.limit.amount, "unit": self.limit.unit.value,
                      "label": self.limit.explained_label_vi},
            "counted_from": self.counted_from.isoformat(),
            "first_counted_day": first.isoformat() if first else None,
            "shift_reason": self.shift_reason,
            "rolled_from": rolled.isoformat() if rolled else None,
            "skipped": [n.as_dict() for n in self.notes if not n.counted],
            "makeup_days_counted": [n.as_dict() for n in self.notes if n.counted],
        }

    def starting(self, *, filed_at: datetime, reason: str) -> Due:
        """This due date, told as a clock that starts at ``received_at`` for ``reason``
        although the counter received the dossier at ``filed_at``."""
        return replace(self, filed_at=filed_at, start_reason=reason)


def compute_due(
    received_at: datetime,
    limit: TimeLimit,
    calendar: WorkingCalendar,
    policy: ClockPolicy | None = None,
) -> Due:
    """The due date of a time limit started by the formal receipt at ``received_at`` (T2).

    ``received_at`` must be timezone-aware; it is read on Asia/Ho_Chi_Minh local time.
    """
    policy = policy or ClockPolicy()
    local = to_local(received_at)
    receipt_day = local.date()
    after_cutoff = local.time() > policy.late_receipt_cutoff
    counted_from, shift_reason = receipt_day, None

    if (policy.non_working_day_receipt is NonWorkingDayReceipt.NEXT_WORKING_DAY
            and not calendar.is_working_day(receipt_day)):
        counted_from = calendar.next_working_day(receipt_day)
        shift_reason = "Nhận vào ngày nghỉ: coi như nhận vào ngày làm việc tiếp theo"
    elif (after_cutoff and policy.late_receipt_policy is LateReceiptPolicy.SHIFT_RECEIPT_DATE
            and calendar.is_working_day(receipt_day)):
        counted_from = calendar.next_working_day(receipt_day)
        shift_reason = (f"Nhận sau {policy.late_receipt_cutoff:%H:%M}: "
                        "coi như nhận vào ngày làm việc tiếp theo")

    unit = limit.unit
    if unit is TimeUnit.WORKING_DAYS:
        due_date = calendar.add_working_days(counted_from, int(limit.amount))
    elif unit is TimeUnit.CALENDAR_DAYS:
        due_date = calendar.add_calendar_days(counted_from, int(limit.amount))
    elif unit is TimeUnit.SAME_DAY:
        if after_cutoff and policy.late_receipt_policy is not LateReceiptPolicy.NONE:
            due_date = calendar.next_working_day(receipt_day)
            shift_reason = (f"Nhận sau {policy.late_receipt_cutoff:%H:%M}: "
                            "trả kết quả trong ngày làm việc tiếp theo")
        else:
            due_date = calendar.next_working_day(counted_from, inclusive=True)
    else:  # working hours
        start = received_at
        if counted_from != receipt_day:
            start = local_instant(counted_from, calendar.office_hours.opens)
        due_at = calendar.add_working_hours(start, timedelta(hours=limit.amount))
        return Due(received_at, limit, counted_from, due_at.date(), due_at, shift_reason,
                   calendar)

    due_at = _due_instant(due_date, local, calendar, policy)
    return Due(received_at, limit, counted_from, due_date, due_at, shift_reason, calendar)


def _due_instant(due_date: date, received_local: datetime, calendar: WorkingCalendar,
                 policy: ClockPolicy) -> datetime:
    if policy.due_time is DueTime.END_OF_DAY:
        return local_instant(due_date, time(23, 59, 59))
    if policy.due_time is DueTime.RECEIPT_TIME:
        return local_instant(due_date, received_local.time().replace(microsecond=0))
    return local_instant(due_date, calendar.office_hours.closes)


def extend_due(due: Due, calendar: WorkingCalendar, start: datetime, end: datetime) -> Due:
    """The due date pushed back by a pause from ``start`` to ``end`` (T8, and T7 in pause mode).

    Day-based limits lose the working days in (start day, end day] — the day the pause starts
    is already used, the day it ends is not counted, as with receipt (T2) [I]. Hour limits lose
    the office time in between; calendar-day limits the calendar days, then roll forward.
    """
    unit = due.limit.unit
    if unit is TimeUnit.WORKING_HOURS:
        lost = calendar.working_time_between(start, end)
        due_at = calendar.add_working_hours(due.due_at, lost)
        return replace(due, due_date=due_at.date(), due_at=due_at, calendar=calendar)
    start_day, end_day = to_local(start).date(), to_local(end).date()
    if unit is TimeUnit.CALENDAR_DAYS:
        due_date = calendar.add_calendar_days(due.due_date, max(0, (end_day - start_day).days))
    else:
        lost_days = max(0, calendar.working_days_between(start_day, end_day))
        due_date = calendar.add_working_days(due.due_date, lost_days)
    due_at = local_instant(due_date, to_local(due.due_at).time())
    return replace(due, due_date=due_date, due_at=due_at, calendar=calendar)


# ----- office hours -------------------------------------------------------------------------

def next_office_instant(instant: datetime, calendar: WorkingCalendar) -> datetime:
    """``instant`` if it falls inside an office session of a working day, else the opening of
    the next session (the same day's afternoon, or the next working day's morning)."""
    local = to_local(instant)
    day, now = local.date(), local.time()
    if calendar.is_working_day(day):
        for opens, closes in calendar.office_hours.sessions:
            if opens <= now < closes:
                return local
            if now < opens:
                return local_instant(day, opens)
    return local_instant(calendar.next_working_day(day), calendar.office_hours.opens)


def outside_office_hours(instant: datetime, calendar: WorkingCalendar) -> str | None:
    """Why ``instant`` is outside the agency's office hours (*ngoài giờ làm việc*), or None.

    Pure: the receipt at the counter is never blocked by it (the server's clock decides the
    instant, T2), but the clerk and the applicant are told which instant the clock uses."""
    local = to_local(instant)
    if not calendar.is_working_day(local.date()):
        return f"ngày nghỉ ({calendar.note(local.date()).reason})"
    if next_office_instant(instant, calendar) != local:
        return f"ngoài giờ làm việc ({_sessions_text(calendar)})"
    return None


def _sessions_text(calendar: WorkingCalendar) -> str:
    return ", ".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in calendar.office_hours.sessions)


def receipt_warning(due: Due, calendar: WorkingCalendar | None = None) -> str | None:
    """The counter's warning for a receipt outside office hours, naming the instant the clock
    uses; None inside office hours. ``calendar``: the receiving agency's (its office hours),
    default the due date's."""
    calendar = calendar or due.calendar
    if calendar is None:
        return None
    received = to_local(due.receipt_at)
    why = outside_office_hours(received, calendar)
    if why is None:
        return None
    text = (f"Cảnh báo: tiếp nhận lúc {received:%H:%M} {format_date_vi(received.date())}, "
            f"{why}. Hồ sơ vẫn được tiếp nhận; thời hạn giải quyết tính theo thời điểm "
            f"{_instant_vi(due.clock_starts_at)}")
    return text + f"{_start_clause(due)}."


def _instant_vi(instant: datetime) -> str:
    local = to_local(instant)
    return f"{local:%H:%M} {format_date_vi(local.date())}"


def _start_clause(due: Due) -> str:
    """What the start means for the count: the first day counted, or that hours run."""
    first = due.first_counted_day
    if first is not None:
        return (f" (không tính ngày {due.counted_from:%d/%m/%Y}; bắt đầu đếm từ "
                f"{format_date_vi(first)})")
    if due.limit.unit is TimeUnit.WORKING_HOURS:
        return " (chỉ tính giờ làm việc)"
    return ""


# ----- explanation text ---------------------------------------------------------------------

def format_date_vi(day: date) -> str:
    return f"{WEEKDAY_NAMES_VI[day.weekday()]}, {day:%d/%m/%Y}"


def _group_notes(notes: list[DayNote]) -> list[tuple[date, date, str]]:
    """Merge consecutive days with the same reason ("27/01–31/01: Tết Nguyên đán")."""
    groups: list[tuple[date, date, str]] = []
    for note in notes:
        reason = "Nghỉ hằng tuần" if note.kind == "weekend" else note.reason
        if groups and groups[-1][2] == reason and (note.day - groups[-1][1]).days == 1:
            groups[-1] = (groups[-1][0], note.day, reason)
        else:
            groups.append((note.day, note.day, reason))
    return groups


def _spans(notes: list[DayNote]) -> str:
    return "; ".join((f"{a:%d/%m}" if a == b else f"{a:%d/%m}–{b:%d/%m}") + f" ({reason})"
                     for a, b, reason in _group_notes(notes))


def explanation_text(due: Due) -> str:
    """One Vietnamese paragraph: when the dossier was received, when the clock starts and why,
    the limit with its unit, what was skipped (or, for calendar days, where the last day
    moved), the date."""
    received = to_local(due.receipt_at)
    outside = (outside_office_hours(received, due.calendar)
               if due.calendar is not None else None)
    parts = [f"Tiếp nhận lúc {received:%H:%M} ngày {received:%d/%m/%Y}"
             + (f", {outside}" if outside else "") + "."]
    if due.filed_at is not None:
        parts.append(f"Thời hạn giải quyết bắt đầu tính từ {_instant_vi(due.received_at)}"
                     + (f": {due.start_reason}" if due.start_reason else "") + ".")
    elif outside and due.limit.unit is not TimeUnit.SAME_DAY:
        parts.append(f"Thời hạn tính theo thời điểm {_instant_vi(due.clock_starts_at)}.")
    parts.append(f"Thời hạn giải quyết: {due.limit.explained_label_vi}.")
    if due.shift_reason:
        parts.append(due.shift_reason + ".")
    first = due.first_counted_day
    if first is not None:
        what = "ngày tiếp nhận" if due.filed_at is None else "ngày bắt đầu"
        parts.append(f"Không tính {what} ({due.counted_from:%d/%m/%Y}); bắt đầu đếm từ "
                     f"{format_date_vi(first)}.")
    skipped = [n for n in due.notes if not n.counted]
    rolled = due.rolled_from()
    if due.limit.unit is TimeUnit.CALENDAR_DAYS:
        parts.append("Ngày nghỉ trong thời hạn vẫn được tính.")
        if rolled is not None:
            parts.append(f"Ngày cuối của thời hạn ({format_date_vi(rolled)}) là ngày nghỉ "
                         f"({_spans(skipped)}) nên hạn lùi sang ngày làm việc kế tiếp.")
    elif skipped:
        parts.append(f"Bỏ qua ngày nghỉ: {_spans(skipped)}.")
    makeup = [n for n in due.notes if n.counted]
    if makeup:
        parts.append("Có tính ngày làm bù: " + ", ".join(f"{n.day:%d/%m/%Y}" for n in makeup) + ".")
    when = to_local(due.due_at)
    parts.append(f"Hẹn trả kết quả: {when:%H:%M} {format_date_vi(due.due_date)}.")
    estimated = [n for n in due.notes if n.estimated]
    if estimated:
        parts.append("Lưu ý: lịch nghỉ năm này là dự kiến, chưa có thông báo chính thức.")
    return " ".join(parts)
