"""Average processing time per procedure, in the procedure's own unit (QĐ 766 criterion 2.2).

Processing time of a dossier ended in the period = from the start of its legal clock (formal
receipt, or the competent agency's acceptance of a boundary-free transfer) to its end of
processing, counted in the unit of the procedure's time limit (T1): working days (days after
the start up to and including the end day that are working days), calendar days, or office
hours; same-day procedures in working days. Waiting for a supplement is included [I].

Scale: the sum over dossiers of ``index(end) − index(start)`` is computed from the number of
dossiers per (procedure, unit, local day) — or per local minute for hour-based procedures —
grouped in SQL, so nothing is loaded per dossier. ``index`` is the working-day (or office
time) position on the national working calendar [I: agencies' own days off are not applied].
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import String, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.calendar.store import load_calendar
from engine.deadline import TimeUnit
from engine.procedures import ProcedureVersionRow
from engine.reports.period import Period
from engine.reports.sql import D, local_date, local_minute
from engine.timezone import VN_TZ


@dataclass(frozen=True, slots=True)
class ProcedureTime:
    procedure: str
    name: str
    unit: str
    unit_label: str
    count: int
    average: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"procedure": self.procedure, "name": self.name, "unit": self.unit,
                "unit_label": self.unit_label, "count": self.count,
                "average": None if self.average is None else round(self.average, 2)}


def average_processing_time(session: Session, period: Period, *,
                            where: ColumnElement[bool] | None = None) -> list[ProcedureTime]:
    dialect = session.get_bind().dialect.name
    calendar = load_calendar(session)
    ref_day = date(calendar.first_year, 1, 1)
    ref_instant = datetime.combine(ref_day, time(0), tzinfo=VN_TZ)
    ended = and_(D.c.ended_at >= period.starts_at, D.c.ended_at < period.ends_before,
                 D.c.clock_started_at.is_not(None))
    hours = D.c.limit_unit == TimeUnit.WORKING_HOURS.value

    def position(unit: str, text: str) -> float:
        if unit == TimeUnit.WORKING_HOURS.value:
            instant = datetime.fromisoformat(text).replace(tzinfo=VN_TZ)
            return calendar.working_time_between(ref_instant, instant).total_seconds() / 3600
        day = date.fromisoformat(text)
        if unit == TimeUnit.CALENDAR_DAYS.value:
            return day.toordinal()
        return calendar.working_days_between(ref_day, day)

    sums: dict[tuple[str, str], float] = defaultdict(float)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for column, sign in ((D.c.ended_at, 1), (D.c.clock_started_at, -1)):
        bucket = case((hours, local_minute(column, dialect)),
                      else_=cast(local_date(column, dialect), String))
        query = (select(D.c.procedure_code, D.c.limit_unit, bucket.label("b"),
                        func.count().label("n"))
                 .where(ended).group_by(D.c.procedure_code, D.c.limit_unit, bucket))
        if where is not None:
            query = query.where(where)
        for row in session.execute(query):
            key = (row.procedure_code, row.limit_unit)
            sums[key] += sign * row.n * position(row.limit_unit, str(row.b)[:16])
            if sign > 0:
                counts[key] += row.n
    names = _names(session, {k[0] for k in counts})
    out = []
    for key in sorted(counts):
        unit = TimeUnit(key[1])
        shown = TimeUnit.WORKING_DAYS if unit is TimeUnit.SAME_DAY else unit
        out.append(ProcedureTime(key[0], names.get(key[0], key[0]), shown.value,
                                 shown.label_vi, counts[key], sums[key] / counts[key]))
    return out


def _names(session: Session, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    pv = ProcedureVersionRow.__table__
    rows = session.execute(select(pv.c.code, pv.c.name).where(pv.c.code.in_(sorted(codes)))
                           .order_by(pv.c.effective_from))
    return {r.code: r.name for r in rows}
