"""The legal working calendar (*lịch làm việc*) of state agencies (domain §5).

Deadline code asks only ``is_working_day``, ``add_working_days`` and friends on a
:class:`WorkingCalendar`; where the days come from (announced plans, estimates, an agency's own
days off) is decided here.
"""

from engine.calendar.model import DayEntry, DayKind, OfficeHours
from engine.calendar.national import national_calendar, national_entries
from engine.calendar.working import CalendarRangeError, DayNote, WorkingCalendar

__all__ = [
    "CalendarRangeError",
    "DayEntry",
    "DayKind",
    "DayNote",
    "OfficeHours",
    "WorkingCalendar",
    "national_calendar",
    "national_entries",
]
