"""The grouped scan of the figures: group keys and their labels, and the one query that counts
the dossiers of a period per (group key, packed verdict, end kind).

The dossiers the query cannot judge (class ``REPLAY``) are counted apart, by
:mod:`engine.reports.judge`; :func:`engine.reports.figures.figures` adds both.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, func, literal, literal_column, select, text
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.agencies import Agency
from engine.lifecycle.states import Channel
from engine.procedures import ProcedureVersionRow
from engine.reports.period import Period
from engine.reports.sql import ST, D
from engine.reports.totals import By
from engine.reports.verdict_sql import packed_verdict, verdict_exprs
from engine.users import User


@lru_cache(maxsize=32)
def group_key(by: By, dialect: str) -> tuple[ColumnElement[Any], Any]:
    """The SQL expression of a grouping key, and the FROM clause it needs."""
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
    else:  # pragma: no cover - STEP is handled apart (engine.reports.steps)
        raise ValueError(by)
    return key, frm


def grouped_query(period: Period, by: By, dialect: str,
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
    x = verdict_exprs(period, dialect)
    key, frm = group_key(by, dialect)
    packed = packed_verdict(period, use_report_code=dialect == "postgresql")
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


def hash_aggregate_memory(session: Session) -> None:
    """Give this transaction's grouping :data:`REPORT_WORK_MEM` (PostgreSQL only)."""
    session.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def _count() -> ColumnElement[Any]:
    return func.count().label("n")


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
        channels = {c.value: c.label_vi for c in Channel}
        return {k: channels.get(k, k) for k in keys}
    if by is By.OFFICER:
        user = User.__table__
        rows = session.execute(select(user.c.username, user.c.full_name)
                               .where(user.c.username.in_(keys)))
        return {r.username: r.full_name for r in rows}
    if by is By.STEP:
        rows = session.execute(select(ST.c.step_id, ST.c.step_name)
                               .where(ST.c.step_id.in_(keys)).distinct())
        return {r.step_id: r.step_name for r in rows}
    return {}
