"""The read journal over HTTP: recording who read a dossier, and showing it to auditors.

``journal_read`` is called by every route that shows a dossier's personal data (the API
detail, each PDF, the staff page); it commits at once, because a read request has no other
write that would commit it. ``GET /api/v1/read-journal`` lists the reads of the dossiers the
caller may see (auditors and leaders only), with the same SQL scope as the dossiers
themselves: a journal of a dossier outside one's agencies is as invisible as the dossier.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from sqlmodel import Session, col, select

from engine.lifecycle.models import Dossier
from engine.readjournal import ReadFilter, ReadJournal, conditions, reads_of, record_read
from engine.timezone import to_local
from engine.users import Role, User
from service.clientip import client_address
from service.deps import SessionDep, request_id, require_roles
from service.problems import Problem

router = APIRouter(prefix="/api/v1/read-journal", tags=["read-journal"])
Reviewer = Annotated[User, Depends(require_roles(Role.AUDITOR, Role.LEADER))]
#: Who may see a dossier's read journal (on the page and over the API).
REVIEWERS = frozenset({Role.AUDITOR.value, Role.LEADER.value})
ROLE_LABELS = {r.value: r.label_vi for r in Role}
WHAT_LABELS = {"detail": "Xem chi tiết", "document": "Xem/in giấy tờ",
               "page": "Mở trang hồ sơ"}


def journal_read(request: Request, session: Session, user: User, dossier_code: str,
                 what: str, document: str | None = None) -> None:
    """Record that ``user`` read ``dossier_code`` in this request, and commit."""
    record_read(session, username=user.username, role=user.role,
                agency_code=user.agency_code, dossier_code=dossier_code, what=what,
                document=document, request_id=request_id(request),
                client_address=client_address(request))
    session.commit()


def entry_json(entry: ReadJournal) -> dict[str, Any]:
    return {"id": entry.id, "at": to_local(entry.at).isoformat(), "username": entry.username,
            "role": entry.role, "agency": entry.agency_code, "dossier": entry.dossier_code,
            "what": entry.what, "document": entry.document, "request_id": entry.request_id,
            "client_address": entry.client_address}


def page_reads(request: Request, session: Session, user: User,
               code: str) -> list[dict[str, Any]] | None:
    """For the staff page ``/ho-so/{code}``: journal the page view of a dossier the user may
    see, and return its latest reads when the user is an auditor or a leader (else None).

    A code outside the user's scope is neither journaled nor answered here: the page's own
    API call then shows "not found", as before.
    """
    from service.api.dossiers import visible_dossier  # that module imports this one

    try:
        visible_dossier(session, user, code)
    except Problem:
        session.rollback()
        return None
    journal_read(request, session, user, code, "page")
    if user.role not in REVIEWERS:
        return None
    return [{**entry_json(e), "at_text": f"{to_local(e.at):%H:%M:%S %d/%m/%Y}",
             "role_label": ROLE_LABELS.get(e.role, e.role),
             "what_label": WHAT_LABELS.get(e.what, e.what)}
            for e in reads_of(session, code, limit=50)]


@router.get("", summary="Nhật ký truy cập dữ liệu hồ sơ")
def list_reads(session: SessionDep, user: Reviewer,
               dossier: Annotated[str | None, Query(max_length=64)] = None,
               username: Annotated[str | None, Query(alias="user", max_length=64)] = None,
               start: Annotated[date | None, Query(alias="from")] = None,
               end: Annotated[date | None, Query(alias="to")] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               before: Annotated[int | None, Query(ge=1, description="Con trỏ: id")] = None,
               ) -> dict[str, Any]:
    """Reads of the dossiers the caller may see, newest first; ``from``/``to`` are local days
    (inclusive); ``next`` is the cursor (``before``) of the following page."""
    from service.api.dossiers import scope  # that module imports this one

    if start and end and start > end:
        raise Problem(422, "validation", "Ngày bắt đầu phải trước ngày kết thúc.",
                      errors=[{"field": "from", "message": "sau ngày 'to'"}])
    wanted = ReadFilter(dossier=dossier, username=username, start=start, end=end)
    query = (select(ReadJournal)
             .join(Dossier, col(Dossier.code) == col(ReadJournal.dossier_code))
             .where(scope(session, user), *conditions(wanted)))
    if before is not None:
        query = query.where(col(ReadJournal.id) < before)
    rows = session.exec(query.order_by(col(ReadJournal.id).desc()).limit(limit + 1)).all()
    items = [entry_json(e) for e in rows[:limit]]
    return {"items": items, "next": rows[limit - 1].id if len(rows) > limit else None}
