"""The working calendar: which days count, and arithmetic on them in O(1) / O(log n).

The calendar is built once per *version* (a set of day entries plus office hours) into a sorted
array of working-day ordinals plus, per day, the index of the next working day. Adding N
working days is then two list lookups (other operations one binary search) instead of a loop
over days; ``bench/calendar.py`` measures the ratio.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from engine.calendar.model import DayEntry, DayKind, OfficeHours
from engine.timezone import local_instant, to_local

WEEKDAY_NAMES_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


class CalendarRangeError(ValueError):
    """A date falls outside the years this calendar was built for."""


@dataclass(frozen=True, slots=True)
class DayNote:
    """Why a day was skipped or counted: one line of a deadline's explanation."""

    day: date
    counted: bool
    reason: str
    kind: str  # "weekend", "makeup_workday", or a DayKind value
    legal_basis: str = ""
    confirmed: bool = True
    estimated: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "date": self.day.isoformat(),
            "weekday": WEEKDAY_NAMES_VI[self.day.weekday()],
            "counted": self.counted,
            "kind": self.kind,
            "reason": self.reason,
            "legal_basis": self.legal_basis,
            "confirmed": self.confirmed,
            "estimated": self.estimated,
        }


class WorkingCalendar:
    """Working days of state agencies between ``first_year`` and ``last_year`` inclusive.

    A day is a working day when it is Monday–Friday and not listed as off, or when it is listed
    as a make-up working day (*làm bù*). Entries with an ``agency_code`` are that agency's own
    (local days off); build one calendar per agency with :meth:`with_overrides`.
    """

    def __init__(
        self,
        entries: Iterable[DayEntry],
        *,
        first_year: int,
        last_year: int,
        office_hours: OfficeHours | None = None,
        label: str = "national",
    ) -> None:
        if first_year > last_year:
            raise ValueError("first_year after last_year")
        self.first_year = first_year
        self.last_year = last_year
        self.office_hours = office_hours or OfficeHours()
        self.label = label
        self._entries: dict[date, DayEntry] = {}
        for entry in entries:
            if first_year <= entry.day.year <= last_year:
                self._entries[entry.day] = entry  # later entries (overrides) win
        self._first = date(first_year, 1, 1)
        self._last = date(last_year, 12, 31)
        self._working = self._build_working_ordinals()
        # Fast path for the hot operation (add N working days): for each day of the range, the
        # index of the first working day strictly after it, and the working days as dates.
        self._base = self._first.toordinal()
        self._after = [bisect_right(self._working, o)
                       for o in range(self._base, self._last.toordinal() + 1)]
        self._working_dates = [date.fromordinal(o) for o in self._working]
        self.version = self._fingerprint()

    # ----- construction -------------------------------------------------------------------
    def _build_working_ordinals(self) -> list[int]:
        ordinals = []
        for ordinal in range(self._first.toordinal(), self._last.toordinal() + 1):
            day = date.fromordinal(ordinal)
            entry = self._entries.get(day)
            working = not entry.is_off if entry is not None else day.weekday() < 5
            if working:
                ordinals.append(ordinal)
        return ordinals

    def _fingerprint(self) -> str:
        """A short stable id of what the calendar says, so stored deadlines can name it."""
        digest = hashlib.sha256()
        digest.update(f"{self.first_year}-{self.last_year}|{self.office_hours.format()}".encode())
        for day in sorted(self._entries):
            e = self._entries[day]
            digest.update(f"|{day.isoformat()}:{e.kind.value}".encode())
        return digest.hexdigest()[:12]

    def with_overrides(
        self,
        entries: Iterable[DayEntry] = (),
        *,
        office_hours: OfficeHours | None = None,
        label: str | None = None,
    ) -> WorkingCalendar:
        """A new calendar with extra entries layered on top (agency days off, admin edits)."""
        merged = [*self._entries.values(), *entries]
        return WorkingCalendar(
            merged,
            first_year=self.first_year,
            last_year=self.last_year,
            office_hours=office_hours or self.office_hours,
            label=label or self.label,
        )

    def entries(self) -> list[DayEntry]:
        return [self._entries[d] for d in sorted(self._entries)]

    def entry(self, day: date) -> DayEntry | None:
        return self._entries.get(day)

    # ----- days ---------------------------------------------------------------------------
    def _check(self, day: date) -> None:
        if not self._first <= day <= self._last:
            raise CalendarRangeError(
                f"ngày {day:%d/%m/%Y} nằm ngoài phạm vi lịch ({self.first_year}–{self.last_year})"
            )

    def is_working_day(self, day: date) -> bool:
        self._check(day)
        i = bisect_left(self._working, day.toordinal())
        return i < len(self._working) and self._working[i] == day.toordinal()

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after ``start`` (the start day itself is never counted, T2).

        ``n == 0`` returns ``start`` when it is a working day, else the next working day.
        """
        offset = start.toordinal() - self._base
        if n > 0 and 0 <= offset < len(self._after):
            i = self._after[offset] + n - 1
            if i < len(self._working_dates):
                return self._working_dates[i]
        if n < 0:
            raise ValueError("n must be >= 0")
        self._check(start)
        if n == 0:
            return self.next_working_day(start, inclusive=True)
        i = bisect_right(self._working, start.toordinal()) + n - 1
        if i >= len(self._working):
            raise CalendarRangeError(
                f"{n} ngày làm việc sau {start:%d/%m/%Y} vượt quá năm {self.last_year}"
            )
        return date.fromordinal(self._working[i])

    def next_working_day(self, day: date, *, inclusive: bool = False) -> date:
        """The first working day after ``day`` (or ``day`` itself when ``inclusive``)."""
        self._check(day)
        search = bisect_left if inclusive else bisect_right
        i = search(self._working, day.toordinal())
        if i >= len(self._working):
            raise CalendarRangeError(f"không có ngày làm việc sau {day:%d/%m/%Y} trong lịch")
        return date.fromordinal(self._working[i])

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        self._check(day)
        i = bisect_left(self._working, day.toordinal()) - 1
        if i < 0:
            raise CalendarRangeError(f"không có ngày làm việc trước {day:%d/%m/%Y} trong lịch")
        return date.fromordinal(self._working[i])

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative when end < start.

        Inverse of :meth:`add_working_days`: ``working_days_between(d, add_working_days(d, n))
        == n`` for n ≥ 1.
        """
        self._check(start)
        self._check(end)
        return bisect_right(self._working, end.toordinal()) - bisect_right(
            self._working, start.toordinal()
        )

    def add_calendar_days(self, start: date, n: int) -> date:
        """``start + n`` days, rolled forward to a working day (BLDS 2015 Art 148(5)).

        A period counted in calendar days (*ngày*) ends on its last day; when that day is a
        weekly rest day or a holiday, the period ends at the end of the next working day.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        return self.next_working_day(start + timedelta(days=n), inclusive=True)

    # ----- hours --------------------------------------------------------------------------
    def _office_seconds_before(self, instant: datetime) -> int:
        """Office seconds from the calendar's first day up to ``instant`` (monotonic)."""
        local = to_local(instant)
        day = local.date()
        self._check(day)
        days_before = bisect_left(self._working, day.toordinal())
        seconds = days_before * self.office_hours.seconds_per_day
        if self.is_working_day(day):
            seconds += self.office_hours.seconds_elapsed(local.time())
        return seconds

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time between two instants (*giờ làm việc*); negative when end < start."""
        return timedelta(
            seconds=self._office_seconds_before(end) - self._office_seconds_before(start)
        )

    def add_working_hours(self, start: datetime, amount: timedelta | float) -> datetime:
        """The instant at which ``amount`` of office time has passed since ``start`` (T6).

        Time outside office sessions and non-working days does not count; a start outside
        office hours effectively begins at the next session's opening.
        """
        if not isinstance(amount, timedelta):
            amount = timedelta(hours=amount)
        if amount < timedelta(0):
            raise ValueError("amount must be >= 0")
        if amount == timedelta(0):
            return to_local(start)
        per_day = self.office_hours.seconds_per_day
        target = self._office_seconds_before(start) + round(amount.total_seconds())
        # The target lies on working day index q (0-based) at offset r seconds into it; an
        # exact multiple of a day means "at closing time of the previous working day".
        q, r = divmod(target, per_day)
        if r == 0:
            q, r = q - 1, per_day
        if q >= len(self._working):
            raise CalendarRangeError(f"thời hạn vượt quá năm {self.last_year}")
        day = date.fromordinal(self._working[q])
        return local_instant(day, self.office_hours.time_after(r))

    # ----- explanation --------------------------------------------------------------------
    def note(self, day: date) -> DayNote:
        """Why ``day`` counts or does not count as a working day."""
        entry = self._entries.get(day)
        if entry is not None:
            return DayNote(
                day=day,
                counted=not entry.is_off,
                reason=entry.name,
                kind=entry.kind.value,
                legal_basis=entry.legal_basis,
                confirmed=entry.confirmed,
                estimated=entry.estimated,
            )
        if day.weekday() >= 5:
            return DayNote(day, False, f"Nghỉ hằng tuần ({WEEKDAY_NAMES_VI[day.weekday()]})",
                           "weekend")
        return DayNote(day, True, "Ngày làm việc", "workday")

    def explain(self, start: date, end: date) -> list[DayNote]:
        """Every day in (start, end] that is skipped, plus make-up days that are counted.

        Ordinary working days are left out: the explanation tells a clerk *why* the appointment
        is later than a naive count, and a citizen *which* days the office was closed.
        """
        notes = []
        day = start + timedelta(days=1)
        while day <= end:
            note = self.note(day)
            if not note.counted or note.kind == DayKind.MAKEUP_WORKDAY.value:
                notes.append(note)
            day += timedelta(days=1)
        return notes

    def __repr__(self) -> str:
        return (f"WorkingCalendar({self.label!r}, {self.first_year}–{self.last_year}, "
                f"version={self.version})")
