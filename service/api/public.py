"""The citizen's status lookup: no login, no personal data, rate-limited, and a wrong secret
answers exactly like an unknown code (so codes cannot be probed; ``service/publicview.py``,
shared with the lookup page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api.schemas.public import PublicStatus
from service.clientip import client_address
from service.deps import SessionDep
from service.problems import Problem
from service.publicview import lookup, public_view

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/dossiers/{code}", summary="Tra cứu tình trạng hồ sơ (công dân)")
def status(code: str, request: Request, session: SessionDep,
           secret: Annotated[str, Query(min_length=1, max_length=64)]) -> PublicStatus:
    wait = request.app.state.limits.lookup.hit(client_address(request))
    if wait:
        raise Problem(429, "rate-limited", "Bạn tra cứu quá nhiều lần; vui lòng thử lại sau.",
                      headers={"Retry-After": str(int(wait) + 1)})
    return public_view(session, lookup(session, code, secret))
