"""The citizen's status lookup: no login, no personal data, rate-limited per dossier code and
per address (wrong secrets only), and a wrong secret answers exactly like an unknown code (so
codes cannot be probed; ``service/publicview.py``, shared with the lookup page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from service.api.schemas.public import PublicStatus
from service.clientip import client_address
from service.deps import SessionDep
from service.publicview import guarded_lookup, public_view

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/dossiers/{code}", summary="Tra cứu tình trạng hồ sơ (công dân)")
def status(code: str, request: Request, session: SessionDep,
           secret: Annotated[str, Query(min_length=1, max_length=64)]) -> PublicStatus:
    dossier = guarded_lookup(session, request.app.state.limits, code, secret,
                             client_address(request))
    return public_view(session, dossier)
