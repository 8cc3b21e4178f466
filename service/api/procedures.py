"""The procedure catalogue: ranked accent-insensitive search, one procedure's current version."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from sqlmodel import col, select

from engine.catalogue_search import rank
from engine.lifecycle.queries import recent_procedures
from engine.procedures import ProcedureVersionRow, version_in_force
from engine.settings import positive_number
from engine.text import nfc
from engine.timezone import now_local
from service.api.schemas.procedures import ProcedureDetail, ProcedureFound
from service.deps import CurrentUser, SessionDep
from service.problems import Problem

router = APIRouter(prefix="/api/v1/procedures", tags=["procedures"])

#: Default of ``MOTCUA_RECENT_PROCEDURE_DAYS``.
RECENT_DAYS = 30


def _latest_rows(session, on: date) -> dict[str, ProcedureVersionRow]:
    rows = session.exec(select(ProcedureVersionRow)
                        .where(col(ProcedureVersionRow.effective_from) <= on)
                        .order_by(col(ProcedureVersionRow.code),
                                  col(ProcedureVersionRow.effective_from))).all()
    latest: dict[str, ProcedureVersionRow] = {}
    for row in rows:
        latest[row.code] = row
    return latest


def recent_days(env: Mapping[str, str] = os.environ) -> float:
    """How many days back a clerk's receipts make a procedure "recent" [I: a counter's habit,
    not the law's; ``MOTCUA_RECENT_PROCEDURE_DAYS``, default 30]."""
    return positive_number(env, "MOTCUA_RECENT_PROCEDURE_DAYS", RECENT_DAYS)


@router.get("", summary="Tìm thủ tục (không phân biệt dấu), thủ tục vừa tiếp nhận lên trước")
def search(session: SessionDep, user: CurrentUser,
           q: Annotated[str, Query(max_length=200)] = "",
           level: Annotated[str | None, Query(pattern="^(bo|tinh|xa)$")] = None,
           ) -> list[ProcedureFound]:
    """``q`` matches code, name or field without diacritics: "dang ky khai sinh" finds
    "Đăng ký khai sinh". Best first (``engine.catalogue_search``): the code typed exactly, the
    whole name, the name's beginning, the words together, the words anywhere in the name, then
    partial matches; within each, the procedures the caller received in the last
    ``MOTCUA_RECENT_PROCEDURE_DAYS`` days, then shorter names. An empty ``q`` lists the recent
    procedures first, then the catalogue by name."""
    rows = [row for row in _latest_rows(session, now_local().date()).values()
            if level is None or row.level == level]
    since = datetime.now(UTC) - timedelta(days=recent_days())
    recent = recent_procedures(session, user.username, since)
    return [ProcedureFound(code=hit.entry.code, name=hit.entry.name, field=hit.entry.field,
                           level=hit.entry.level,
                           effective_from=hit.entry.effective_from.isoformat(),
                           time_limit=hit.entry.spec["time_limit"], recent=hit.recent)
            for hit in rank(nfc(q), rows, recent)]


@router.get("/{code}", summary="Chi tiết thủ tục (phiên bản hiệu lực)")
def detail(code: str, session: SessionDep, _user: CurrentUser,
           on: date | None = None) -> ProcedureDetail:
    try:
        spec = version_in_force(session, code=code, on=on or now_local().date())
    except LookupError as exc:
        raise Problem(404, "procedure-not-found", str(exc)) from None
    return ProcedureDetail(**spec.to_dict(), time_limit_label=spec.limit.explained_label_vi,
                           required_components=[c.name for c in spec.components
                                                if c.required])
