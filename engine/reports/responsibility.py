"""Who made a late dossier late: the first step whose own budget overran (TT 01/2018 Art 13(2)).

For each dossier late in the period (ended late, or pending and late at the period end), the
hand-off rows of its control sheet are read in order and the first one that overran its own
deadline names the step and the unit — the unit that must apologise (ND 61 Art 19(9)). A row
overran when it closed by the period end classified *late*, or was still open at the period end
after its due instant. When no row overran (each unit kept its budget but the total did not, or
the dossier is imported history without hand-offs), the dossier is *unattributed*.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.drilldown import verdicts
from engine.reports.period import Period
from engine.reports.sql import ST, D
from engine.reports.verdict import LATE, PENDING_LATE

UNATTRIBUTED = ""


@dataclass(frozen=True, slots=True)
class Responsible:
    code: str
    verdict: str  # late | pending_late
    step_id: str
    step_name: str
    unit: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "verdict": self.verdict, "step": self.step_id or None,
                "step_name": self.step_name or None, "unit": self.unit or None}


@dataclass
class ResponsibilityReport:
    dossiers: list[Responsible] = field(default_factory=list)

    def by_unit_step(self) -> list[dict[str, Any]]:
        counts = Counter((r.unit, r.step_id, r.step_name) for r in self.dossiers)
        return [{"unit": u or None, "step": s or None, "step_name": n or None, "late": c}
                for (u, s, n), c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]

    def as_dict(self) -> dict[str, Any]:
        return {"summary": self.by_unit_step(),
                "dossiers": [r.as_dict() for r in self.dossiers]}


def responsibility(session: Session, period: Period, *,
                   where: ColumnElement[bool] | None = None,
                   batch: int = 500) -> ResponsibilityReport:
    report = ResponsibilityReport()
    late = ((v.code, v.cls) for v in verdicts(session, period, where=where)
            if v.cls in (LATE, PENDING_LATE))
    for chunk in _chunks(late, batch):
        report.dossiers.extend(_attribute(session, period, dict(chunk)))
    return report


def _attribute(session: Session, period: Period, late: dict[str, int]) -> Iterator[Responsible]:
    end = period.period_end
    rows = session.execute(
        select(D.c.code, ST.c.seq, ST.c.step_id, ST.c.step_name, ST.c.unit, ST.c.due_at,
               ST.c.finished_at, ST.c.classification, ST.c.started_at)
        .select_from(ST.join(D, D.c.id == ST.c.dossier_id))
        .where(D.c.code.in_(list(late)), ST.c.started_at <= end)
        .order_by(D.c.code, ST.c.seq))
    first: dict[str, Any] = {}
    for row in rows:
        if row.code in first:
            continue
        closed = row.finished_at is not None and row.finished_at <= end
        overran = (row.classification == "late") if closed else (
            row.due_at is not None and row.due_at < end)
        if overran:
            first[row.code] = row
    for code, cls in late.items():
        verdict = "late" if cls == LATE else "pending_late"
        row = first.get(code)
        if row is None:
            yield Responsible(code, verdict, UNATTRIBUTED, UNATTRIBUTED, UNATTRIBUTED)
        else:
            yield Responsible(code, verdict, row.step_id, row.step_name, row.unit)


def _chunks(items, size):
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
