"""Issued forms (*giấy tờ, biểu mẫu*): numbered in the agency's yearly register, in the form
set of the dossier's receipt date (``engine.forms``), and reprinted as marked copies."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from engine.forms import Form, form_set_for
from engine.lifecycle import codes
from engine.lifecycle.context import ActionContext
from engine.lifecycle.inputs import Actor, checked_instant
from engine.lifecycle.models import Dossier, IssuedDocument
from engine.lifecycle.rows import new_row
from engine.timezone import to_local


def form_day(dossier: Dossier, at: datetime) -> date:
    """The day that chooses the form set: the receipt date, or today before a receipt."""
    return to_local(dossier.received_at or at).date()


def new_document(session: Session, dossier: Dossier | None, form: Form, actor: Actor,
                 at: datetime, agency_code: str, *, day: date, payload: dict[str, Any],
                 guidance_id: int | None = None) -> IssuedDocument:
    """An issued form with its number (``05/TNHS``), not yet written."""
    year = to_local(at).year
    number = codes.document_number(session, agency_code=agency_code, form=form.value,
                                   year=year)
    return new_row(
        IssuedDocument, dossier_id=dossier.id if dossier else None, guidance_id=guidance_id,
        form=form.value,
        form_set=form_set_for(day).value, number=f"{number:02d}/{form.symbol}", issued_at=at,
        issued_by=actor.id, payload=payload,
    )


def issue_now(session: Session, form: Form, actor: Actor, at: datetime, agency_code: str, *,
              day: date, payload: dict[str, Any], guidance_id: int | None = None,
              ) -> IssuedDocument:
    """Record an issued form outside an action (guidance at the counter: no dossier)."""
    document = new_document(session, None, form, actor, at, agency_code, day=day,
                            payload=payload, guidance_id=guidance_id)
    session.add(document)
    session.flush()
    return document


def issue(ctx: ActionContext, form: Form, **payload: Any) -> None:
    """Issue a form with this action (written with its event by the unit of work)."""
    ctx.documents.append(new_document(ctx.session, ctx.dossier, form, ctx.actor, ctx.at,
                                      ctx.actor.agency, day=form_day(ctx.dossier, ctx.at),
                                      payload=payload))


def record_reprint(session: Session, *, document: IssuedDocument, actor: Actor,
                   at: datetime | None = None) -> IssuedDocument:
    """Record a reprint of an issued form as a copy (``copy_of`` the original): same form, set
    and number, with who printed it again and when. The dossier itself does not change, so no
    event is appended; the printed copy is marked "BẢN SAO"."""
    original_id = document.copy_of or document.id
    copy = IssuedDocument(
        dossier_id=document.dossier_id, guidance_id=document.guidance_id, form=document.form,
        form_set=document.form_set, number=document.number, issued_at=checked_instant(at),
        issued_by=actor.id, event_id=document.event_id, copy_of=original_id,
        payload=dict(document.payload or {}),
    )
    session.add(copy)
    session.flush()
    return copy
