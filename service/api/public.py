"""The citizen's status lookup: no login, no personal data, rate-limited, and a wrong secret
answers exactly like an unknown code (so codes cannot be probed)."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from sqlmodel import select

from engine.lifecycle.models import Dossier
from engine.lifecycle.service import steps_of
from engine.lifecycle.states import State
from engine.timezone import to_local
from service.clientip import client_address
from service.deps import SessionDep
from service.problems import Problem

router = APIRouter(prefix="/api/v1/public", tags=["public"])

NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập."


def lookup(session, code: str, secret: str) -> Dossier:
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    expected = dossier.secret if dossier else "x" * 16
    if not hmac.compare_digest(expected.encode(), secret.encode()) or dossier is None:
        raise Problem(404, "dossier-not-found", NOT_FOUND)
    return dossier


def public_view(session, dossier: Dossier) -> dict[str, Any]:
    state = State(dossier.state)
    return {
        "code": dossier.code,
        "procedure": dossier.procedure_name,
        "status_code": dossier.status_code,
        "status": state.label_vi,
        "received_at": to_local(dossier.received_at).isoformat() if dossier.received_at else None,
        "appointment": dossier.appointment_date.isoformat() if dossier.appointment_date else None,
        "returned_at": to_local(dossier.returned_at).isoformat() if dossier.returned_at else None,
        "steps": [{"name": s.step_name,
                   "started_at": to_local(s.started_at).isoformat(),
                   "finished_at": to_local(s.finished_at).isoformat() if s.finished_at else None}
                  for s in steps_of(session, dossier)],
    }


@router.get("/dossiers/{code}", summary="Tra cứu tình trạng hồ sơ (công dân)")
def status(code: str, request: Request, session: SessionDep,
           secret: Annotated[str, Query(min_length=1, max_length=64)]) -> dict[str, Any]:
    wait = request.app.state.limits.lookup.hit(client_address(request))
    if wait:
        raise Problem(429, "rate-limited", "Bạn tra cứu quá nhiều lần; vui lòng thử lại sau.",
                      headers={"Retry-After": str(int(wait) + 1)})
    return public_view(session, lookup(session, code, secret))
