"""A reporting period: local dates [from, to] in Asia/Ho_Chi_Minh, and the instants around it.

Reports are asked for in local dates (domain §3: every date computation is local). The period
covers the whole of both days: it starts at 00:00 of ``start`` and ends just before 00:00 of the
day after ``end``. Dossiers are judged *at the end of the period* (T12): the instant
``period_end`` is the last microsecond of ``end``, local time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from engine.calendar.national import FIRST_YEAR, LAST_YEAR
from engine.timezone import local_instant

#: The days a report can cover: those of the working calendar (earlier or later days cannot
#: be judged; a probe's ``from=0001-01-01`` was an OverflowError, ``to=9999-12-31`` a 500).
SUPPORTED_FIRST = date(FIRST_YEAR, 1, 1)
SUPPORTED_LAST = date(LAST_YEAR, 12, 31)


class PeriodOutOfRange(ValueError):
    """A period outside :data:`SUPPORTED_FIRST` … :data:`SUPPORTED_LAST`."""


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"kỳ báo cáo không hợp lệ: {self.start} sau {self.end}")
        if self.start < SUPPORTED_FIRST or self.end > SUPPORTED_LAST:
            raise PeriodOutOfRange(
                f"kỳ báo cáo phải nằm trong {SUPPORTED_FIRST:%d/%m/%Y}–{SUPPORTED_LAST:%d/%m/%Y}"
                " (những năm có lịch làm việc)")

    @property
    def starts_at(self) -> datetime:
        """00:00 local of the first day (inclusive)."""
        return local_instant(self.start, time(0))

    @property
    def ends_before(self) -> datetime:
        """00:00 local of the day after the last day (exclusive bound)."""
        return local_instant(self.end + timedelta(days=1), time(0))

    @property
    def period_end(self) -> datetime:
        """The instant dossiers still running are judged at (T12): the end of the last day."""
        return self.ends_before - timedelta(microseconds=1)

    def months(self) -> list[Period]:
        """The calendar months (clipped to the period) it spans, for charts over time."""
        out, day = [], self.start
        while day <= self.end:
            nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            out.append(Period(day, min(self.end, nxt - timedelta(days=1))))
            day = nxt
        return out

    def as_dict(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}
