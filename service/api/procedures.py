"""The procedure catalogue: accent-insensitive search and one procedure's current version."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from engine.procedures import ProcedureVersionRow, version_in_force
from engine.text import fold
from engine.timezone import now_local
from service.api.schemas.procedures import ProcedureDetail, ProcedureFound
from service.deps import CurrentUser, SessionDep
from service.problems import Problem

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])


def _latest_rows(session, on: date) -> dict[str, ProcedureVersionRow]:
    rows = session.exec(select(ProcedureVersionRow)
                        .where(col(ProcedureVersionRow.effective_from) <= on)
                        .order_by(col(ProcedureVersionRow.code),
                                  col(ProcedureVersionRow.effective_from))).all()
    latest: dict[str, ProcedureVersionRow] = {}
    for row in rows:
        latest[row.code] = row
    return latest


@router.get("", summary="Tìm thủ tục (không phân biệt dấu)")
def search(session: SessionDep, _user: CurrentUser,
           q: Annotated[str, Query(max_length=200)] = "",
           level: Annotated[str | None, Query(pattern="^(bo|tinh|xa)$")] = None,
           ) -> list[ProcedureFound]:
    """``q`` matches code, name or field without diacritics: "dang ky khai sinh" finds
    "Đăng ký khai sinh"."""
    words = fold(q).split()
    result = []
    for row in _latest_rows(session, now_local().date()).values():
        haystack = fold(f"{row.code} {row.name} {row.field}")
        if all(w in haystack for w in words) and (level is None or row.level == level):
            result.append(ProcedureFound(
                code=row.code, name=row.name, field=row.field, level=row.level,
                effective_from=row.effective_from.isoformat(),
                time_limit=row.spec["time_limit"]))
    return sorted(result, key=lambda r: r.name)


@router.get("/{code}", summary="Chi tiết thủ tục (phiên bản hiệu lực)")
def detail(code: str, session: SessionDep, _user: CurrentUser,
           on: date | None = None) -> ProcedureDetail:
    try:
        spec = version_in_force(session, code=code, on=on or now_local().date())
    except LookupError as exc:
        raise Problem(404, "procedure-not-found", str(exc)) from None
    return ProcedureDetail(**spec.to_dict(), time_limit_label=spec.limit.label_vi,
                           required_components=[c.name for c in spec.components
                                                if c.required])
