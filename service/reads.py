"""Reading a dossier leaves a trace (*nhật ký truy cập*), for the API and the pages alike.

``journal_read`` is called by every route that shows a dossier's personal data (the API
detail, each PDF, the staff page); it commits at once, because a read request has no other
write that would commit it. ``page_reads`` is the staff page's share: journal the view and,
for a reviewer, show the dossier's latest reads. The list over HTTP is
``service/api/readjournal.py``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from sqlmodel import Session

from engine.lifecycle.errors import LifecycleError
from engine.lifecycle.visibility import visible_dossier
from engine.readjournal import (
    ReadJournal,
    ReadKind,
    reads_of,
    record_read,
)
from engine.timezone import to_local
from engine.users import Role, User, full_names
from service.api.schemas.readjournal import ReadEntry
from service.clientip import client_address
from service.deps import request_id

#: Who may see a dossier's read journal (on the page and over the API).
REVIEWERS = frozenset({Role.AUDITOR.value, Role.LEADER.value})
#: Labels of the stored codes, from their enums (a code no enum knows prints as it is).
ROLE_LABELS = {r.value: r.label_vi for r in Role}
WHAT_LABELS = {k.value: k.label_vi for k in ReadKind}


def journal_read(request: Request, session: Session, user: User, dossier_code: str,
                 what: str, document: str | None = None) -> None:
    """Record that ``user`` read ``dossier_code`` in this request, and commit (without
    waiting for the disk unless ``MOTCUA_READ_JOURNAL_SYNC`` says so: docs/security.md)."""
    record_read(session, username=user.username, role=user.role,
                agency_code=user.agency_code, dossier_code=dossier_code, what=what,
                document=document, request_id=request_id(request),
                client_address=client_address(request),
                wait_for_disk=request.app.state.read_journal_sync)
    session.commit()


def entry_json(entry: ReadJournal) -> ReadEntry:
    return ReadEntry(id=entry.id, at=to_local(entry.at).isoformat(), username=entry.username,
                     role=entry.role, agency=entry.agency_code, dossier=entry.dossier_code,
                     what=entry.what, document=entry.document, request_id=entry.request_id,
                     client_address=entry.client_address)


def page_reads(request: Request, session: Session, user: User,
               code: str) -> list[dict[str, Any]] | None:
    """For the staff page ``/ho-so/{code}``: journal the page view of a dossier the user may
    see, and return its latest reads when the user is an auditor or a leader (else None).

    A code outside the user's scope is neither journaled nor answered here: the page's own
    API call then shows "not found", as before.
    """
    try:
        visible_dossier(session, user, code)
    except LifecycleError:  # not found, or a role that sees no dossier
        session.rollback()
        return None
    journal_read(request, session, user, code, ReadKind.PAGE)
    if user.role not in REVIEWERS:
        return None
    entries = reads_of(session, code, limit=50)
    names = full_names(session, (e.username for e in entries))
    return [{**entry_json(e).model_dump(), "at_text": f"{to_local(e.at):%H:%M:%S %d/%m/%Y}",
             "full_name": names.get(e.username, e.username),
             "role_label": ROLE_LABELS.get(e.role, e.role),
             "what_label": WHAT_LABELS.get(e.what, e.what)}
            for e in entries]
