"""The national calendar: announced days off as data, other years estimated by rule.

Announced years (domain §5.2) come from ``data/vn_official.yaml`` and decide. Every other year
is generated from the Labour Code (BLLĐ 2019 Arts 111–112) and the **Vietnamese** lunar calendar
(UTC+7, via ``vnlunar``; a Chinese-calendar library gets Tết wrong in 2030 and Giỗ Tổ wrong in
2037–2038, domain §5.3) and marked ``estimated`` (*dự kiến*) until an administrator confirms the
government's plan. The ``holidays`` package is used only in tests, as a cross-check.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from importlib import resources

import vnlunar
import yaml

from engine.calendar.model import DayEntry, DayKind, OfficeHours
from engine.calendar.working import WorkingCalendar

#: Years the default national calendar covers. Old enough for imported history, far enough
#: ahead for long procedures; outside it arithmetic raises a clear error instead of guessing.
FIRST_YEAR = 2015
LAST_YEAR = 2040

VN_LUNAR_TIME_ZONE = 7.0
CULTURE_DAY_FROM = 2026  # 24/11 "Ngày Văn hóa Việt Nam" (domain §5.1, flagged)

_ESTIMATE_BASIS = "Ước tính theo BLLĐ 2019 Điều 111, 112 và âm lịch Việt Nam (chưa có thông báo)"


def lunar_to_solar(day: int, month: int, lunar_year: int) -> date:
    """Solar date of a Vietnamese lunar date (non-leap month), computed at UTC+7."""
    result = vnlunar.convert_lunar_to_solar(day, month, lunar_year, 0, VN_LUNAR_TIME_ZONE)
    if not result:
        raise ValueError(f"no solar date for lunar {day}/{month}/{lunar_year}")
    d, m, y = result
    return date(y, m, d)


def tet_day(year: int) -> date:
    """Mùng 1 Tết of the lunar year that begins in solar ``year``."""
    return lunar_to_solar(1, 1, year)


def hung_kings_day(year: int) -> date:
    """Giỗ Tổ Hùng Vương, 10/3 lunar."""
    return lunar_to_solar(10, 3, year)


def _national_day_companion(year: int) -> date:
    """The adjacent day given with 2/9 (BLLĐ Art 112(1)(đ): one day before or after).

    The Prime Minister picks it each year; the estimate picks the side that joins the weekend,
    as the 2024–2026 plans did (Mon→3/9, Tue/Wed→1/9, Thu→3/9, Fri/Sat→1/9, Sun→3/9).
    """
    national = date(year, 9, 2)
    after = national.weekday() in (0, 3, 6)
    return national + timedelta(days=1 if after else -1)


def estimated_year(year: int) -> list[DayEntry]:
    """Days off of a year not yet announced, generated from the Labour Code rules.

    Tết is taken as the eve plus mùng 1–4 (five days); a holiday on a Saturday or Sunday adds a
    compensatory day on the next free weekday (Art 111(3)). Real plans often swap days to make
    longer breaks; those must be entered when announced, which is why these are estimates.
    """
    holidays: list[tuple[date, str, str]] = [
        (date(year, 1, 1), "Tết Dương lịch", "BLLĐ 2019 Điều 112(1)(a)"),
    ]
    tet = tet_day(year)
    for offset in range(-1, 4):
        holidays.append((tet + timedelta(days=offset), "Tết Nguyên đán",
                         "BLLĐ 2019 Điều 112(1)(b)"))
    holidays += [
        (hung_kings_day(year), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "BLLĐ 2019 Điều 112(1)(g)"),
        (date(year, 4, 30), "Ngày Chiến thắng", "BLLĐ 2019 Điều 112(1)(c)"),
        (date(year, 5, 1), "Ngày Quốc tế lao động", "BLLĐ 2019 Điều 112(1)(d)"),
        (date(year, 9, 2), "Quốc khánh", "BLLĐ 2019 Điều 112(1)(đ)"),
        (_national_day_companion(year), "Quốc khánh", "BLLĐ 2019 Điều 112(1)(đ)"),
    ]
    if year >= CULTURE_DAY_FROM:
        holidays.append((date(year, 11, 24), "Ngày Văn hóa Việt Nam",
                         "Nghị quyết 28/2026/QH16 (theo nguồn thứ cấp)"))
    holidays.sort()

    off = {d for d, _, _ in holidays}
    def estimate(day: date, kind: DayKind, name: str, basis: str) -> DayEntry:
        return DayEntry(day, kind, name, f"{basis}. {_ESTIMATE_BASIS}", confirmed=False,
                        estimated=True)

    entries = [estimate(d, DayKind.HOLIDAY, name, basis) for d, name, basis in holidays]
    for d, name, _ in holidays:
        if d.weekday() >= 5:
            comp = d + timedelta(days=1)
            while comp.weekday() >= 5 or comp in off:
                comp += timedelta(days=1)
            off.add(comp)
            entries.append(estimate(comp, DayKind.COMPENSATORY, f"Nghỉ bù {name}",
                                    "BLLĐ 2019 Điều 111(3)"))
    return sorted(entries, key=lambda e: e.day)


@lru_cache(maxsize=1)
def official_data() -> tuple[str, tuple[int, ...], tuple[DayEntry, ...]]:
    """(data version, announced years, entries) from the shipped YAML file."""
    text = resources.files("engine.calendar").joinpath("data/vn_official.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    entries = tuple(
        DayEntry(
            day=item["date"],
            kind=DayKind(item["kind"]),
            name=item["name"],
            legal_basis=item.get("basis", ""),
            confirmed=item.get("confirmed", True),
        )
        for item in raw["entries"]
    )
    return str(raw["version"]), tuple(raw["years"]), entries


def national_entries(first_year: int = FIRST_YEAR, last_year: int = LAST_YEAR) -> list[DayEntry]:
    """Official entries for announced years, estimated ones for every other year."""
    _, years, official = official_data()
    entries = [e for e in official if first_year <= e.day.year <= last_year]
    for year in range(first_year, last_year + 1):
        if year not in years:
            entries.extend(estimated_year(year))
    return entries


@lru_cache(maxsize=4)
def national_calendar(office_hours: OfficeHours | None = None) -> WorkingCalendar:
    """The default calendar every agency starts from (cached: building it takes ~10 ms)."""
    return WorkingCalendar(
        national_entries(),
        first_year=FIRST_YEAR,
        last_year=LAST_YEAR,
        office_hours=office_hours,
        label="national",
    )
