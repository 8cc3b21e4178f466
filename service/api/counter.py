"""``GET /api/v1/counter/today``: what the clerk's counter did today (*hôm nay tại quầy*).

The counter screen listed only results waiting and supplements awaited, so after three
receipts it still said "Không có." (issue 15). This lists the day's work at the clerk's unit
(the one-stop unit the clerk belongs to, whoever of its clerks did it, each line naming them):
dossiers received, results returned, supplements received and refusals at reception, with
the day's counts. Today is the Asia/Ho_Chi_Minh calendar day of the server's clock; a line's
time is the action's instant (a back-dated entry counts on the day it is dated).
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func
from sqlmodel import col, select

from engine.lifecycle.models import Dossier, DossierEvent
from engine.lifecycle.states import Action
from engine.lifecycle.visibility import visible_to
from engine.timezone import local_instant, now_local, to_local
from engine.users import Role, User, full_names
from service.api.schemas.counter import CounterCounts, CounterLine, CounterToday
from service.deps import SessionDep, require_roles

router = APIRouter(prefix="/api/v1/counter", tags=["dossiers"])
Clerk = Annotated[User, Depends(require_roles(Role.CLERK))]

#: The counter's actions, by the name of their count.
KINDS = {Action.RECEIVE.value: "received", Action.RETURN_RESULT.value: "returned",
         Action.RECEIVE_SUPPLEMENT.value: "supplements",
         Action.REFUSE_AT_RECEPTION.value: "refused"}
LABELS = {Action.RECEIVE.value: "Tiếp nhận", Action.RETURN_RESULT.value: "Trả kết quả",
          Action.RECEIVE_SUPPLEMENT.value: "Nhận bổ sung",
          Action.REFUSE_AT_RECEPTION.value: "Từ chối tiếp nhận"}


@router.get("/today", summary="Công việc hôm nay tại quầy")
def today(session: SessionDep, user: Clerk,
          limit: Annotated[int, Query(ge=1, le=500)] = 100) -> CounterToday:
    """The day's receipts, returns, supplements and refusals at the clerk's unit, newest
    first, with the day's counts (the counts cover every line, ``items`` the latest
    ``limit``)."""
    day = now_local().date()
    start = local_instant(day, time(0, 0))
    end = local_instant(day + timedelta(days=1), time(0, 0))
    where = (col(DossierEvent.actor_agency) == user.agency_code,
             col(DossierEvent.action).in_(sorted(KINDS)),
             col(DossierEvent.at) >= start, col(DossierEvent.at) < end,
             visible_to(session, user))
    joined = (col(Dossier.id) == col(DossierEvent.dossier_id))
    counts = dict.fromkeys(KINDS.values(), 0)
    for action, count in session.exec(
            select(DossierEvent.action, func.count()).join(Dossier, joined).where(*where)
            .group_by(col(DossierEvent.action))):
        counts[KINDS[action]] = count
    rows = session.exec(
        select(DossierEvent.action, DossierEvent.at, DossierEvent.actor_id, Dossier.code,
               Dossier.applicant_name, Dossier.procedure_name)
        .join(Dossier, joined).where(*where)
        .order_by(col(DossierEvent.at).desc(), col(DossierEvent.id).desc()).limit(limit)).all()
    names = full_names(session, (r.actor_id for r in rows))
    return CounterToday(
        day=day.isoformat(), agency=user.agency_code, counts=CounterCounts(**counts),
        total=sum(counts.values()),
        items=[CounterLine(at=to_local(r.at).isoformat(), kind=KINDS[r.action],
                           label=LABELS[r.action], code=r.code, applicant=r.applicant_name,
                           procedure=r.procedure_name, by=r.actor_id,
                           by_name=names.get(r.actor_id, r.actor_id))
               for r in rows])
