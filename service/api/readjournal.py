"""``GET /api/v1/read-journal``: who read which dossier, for auditors and leaders.

It lists the reads of the dossiers the caller may see, with the same SQL scope as the
dossiers themselves (``engine.lifecycle.visibility``): a journal of a dossier outside one's
agencies is as invisible as the dossier. Recording a read is ``service/reads.py``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlmodel import col, select

from engine.lifecycle.models import Dossier
from engine.lifecycle.visibility import visible_to
from engine.readjournal import ReadFilter, ReadJournal, conditions
from engine.users import Role, User
from service.api.schemas.readjournal import ReadPage
from service.deps import SessionDep, require_roles
from service.problems import Problem
from service.reads import entry_json

router = APIRouter(prefix="/api/v1/read-journal", tags=["read-journal"])
Reviewer = Annotated[User, Depends(require_roles(Role.AUDITOR, Role.LEADER))]


@router.get("", summary="Nhật ký truy cập dữ liệu hồ sơ")
def list_reads(session: SessionDep, user: Reviewer,
               dossier: Annotated[str | None, Query(max_length=64)] = None,
               username: Annotated[str | None, Query(alias="user", max_length=64)] = None,
               start: Annotated[date | None, Query(alias="from")] = None,
               end: Annotated[date | None, Query(alias="to")] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 100,
               before: Annotated[int | None, Query(ge=1, description="Con trỏ: id")] = None,
               ) -> ReadPage:
    """Reads of the dossiers the caller may see, newest first; ``from``/``to`` are local days
    (inclusive); ``next`` is the cursor (``before``) of the following page."""
    if start and end and start > end:
        raise Problem(422, "validation", "Ngày bắt đầu phải trước ngày kết thúc.",
                      errors=[{"field": "from", "message": "sau ngày 'to'"}])
    wanted = ReadFilter(dossier=dossier, username=username, start=start, end=end)
    query = (select(ReadJournal)
             .join(Dossier, col(Dossier.code) == col(ReadJournal.dossier_code))
             .where(visible_to(session, user), *conditions(wanted)))
    if before is not None:
        query = query.where(col(ReadJournal.id) < before)
    rows = session.exec(query.order_by(col(ReadJournal.id).desc()).limit(limit + 1)).all()
    return ReadPage(items=[entry_json(e) for e in rows[:limit]],
                    next=rows[limit - 1].id if len(rows) > limit else None)
