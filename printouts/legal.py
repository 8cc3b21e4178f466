"""How the law writes dates, times and numbers on administrative documents (ND 30/2020).

Phụ lục I, Nghị định 30/2020/NĐ-CP (domain §7.7): the day below 10 and the months 1 and 2 take
a leading zero ("ngày 05 tháng 02 năm 2026"); the other months do not ("ngày 15 tháng 3 năm
2026"; October–December are two digits anyway). The place name comes first, then a comma.
"""

from __future__ import annotations

from datetime import date, datetime

from engine.text import nfc
from engine.timezone import to_local

#: The same dotted blank the annexes print where a value is not known.
BLANK = "…"


def day_vi(day: int) -> str:
    return f"{day:02d}"


def month_vi(month: int) -> str:
    """Months 1 and 2 get a leading zero (so "01"/"02" cannot be misread as 11/12)."""
    return f"{month:02d}" if month <= 2 else str(month)


def date_vi(value: date | None) -> str:
    """``ngày 05 tháng 02 năm 2026`` (or blanks when the date is not known)."""
    if value is None:
        return f"ngày {BLANK} tháng {BLANK} năm {BLANK}"
    if isinstance(value, datetime):
        value = to_local(value).date()
    return f"ngày {day_vi(value.day)} tháng {month_vi(value.month)} năm {value.year}"


def place_date(place: str | None, value: date | None) -> str:
    """The place-and-date line: ``Hải Phòng, ngày 05 tháng 02 năm 2026``."""
    return f"{place or BLANK}, {date_vi(value)}"


def instant_vi(value: datetime | None) -> str:
    """``09 giờ 15 phút, ngày 05 tháng 02 năm 2026`` in Vietnam local time."""
    if value is None:
        return f"{BLANK} giờ {BLANK} phút, {date_vi(None)}"
    local = to_local(value)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {date_vi(local.date())}"


def instant_short_vi(value: datetime | None) -> str:
    """``14 giờ 30 phút, ngày 05/02/2026`` (the control sheet's cells)."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, ngày {short_date(local.date())}"


def short_date(value: date | datetime | None) -> str:
    """``05/02/2026`` for table cells (the register, the control sheet)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value).date()
    return f"{value.day:02d}/{value.month:02d}/{value.year}"


def short_instant(value: datetime | None) -> str:
    """``09 giờ 15, 05/02/2026`` for table cells."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{local.hour:02d} giờ {local.minute:02d}, {short_date(local.date())}"


def two_digits(number: int | None) -> str:
    """Counts and sequence numbers below 10 take a leading zero (``Số: 05``, ``02 bộ``)."""
    return BLANK if number is None else f"{number:02d}"


def upper_vi(text: str | None) -> str:
    """Upper case that keeps Vietnamese letters composed (``đ`` → ``Đ``, NFC)."""
    return nfc((text or "").upper())
