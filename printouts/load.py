"""Read what a printout needs from the database (the only module here that queries)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.lifecycle import documents_of, events_of, get_dossier, spec_of, steps_of
from engine.lifecycle.backdating import FLAG as BACKDATED
from engine.lifecycle.models import Dossier, IssuedDocument
from engine.procedures import NoVersionInForce
from engine.timezone import local_instant
from engine.users import full_names
from printouts.context import Bundle, PrintOptions
from printouts.overrides import load_override, overrides_root
from printouts.qr import public_base_url


def agencies_with_parents(session: Session, codes: Iterable[str]) -> dict[str, Agency]:
    """The agencies named by ``codes`` and their parents (cơ quan chủ quản)."""
    found: dict[str, Agency] = {}
    pending = {c for c in codes if c}
    while pending:
        code = pending.pop()
        if code in found:
            continue
        agency = session.get(Agency, code)
        if agency is None:
            continue
        found[code] = agency
        if agency.parent_code and agency.parent_code not in found:
            pending.add(agency.parent_code)
    return found


def load_bundle(session: Session, code: str) -> Bundle:
    """The dossier ``code`` with its agencies, procedure version, hand-offs and documents."""
    dossier = get_dossier(session, code)
    steps = steps_of(session, dossier)
    agencies = agencies_with_parents(session, [
        dossier.receiving_agency, dossier.competent_agency, dossier.returning_agency,
        *(s.unit for s in steps)])
    try:
        spec = spec_of(session, dossier)
    except NoVersionInForce:
        spec = None
    backdated = ([e for e in events_of(session, dossier)
                  if (e.payload or {}).get("backdated")]
                 if BACKDATED in (dossier.flags or ()) else [])
    documents = documents_of(session, dossier)
    # one lookup of every person the printouts name: step people, back-dating actors and the
    # clerk or officer who issued each document (the receipt's "người tiếp nhận")
    people = full_names(session, [*(u for s in steps
                                      for u in (s.assignee, s.handed_by, s.finished_by)),
                                  *(e.actor_id for e in backdated),
                                  *(d.issued_by for d in documents)])
    return Bundle(dossier=dossier, agencies=agencies, spec=spec, steps=steps,
                  documents=documents, backdated=backdated, people=people)


def register_dossiers(session: Session, agency_code: str, date_from: date,
                      date_to: date) -> list[Dossier]:
    """Dossiers received by ``agency_code`` between two local days (inclusive)."""
    start = local_instant(date_from, time(0, 0))
    end = local_instant(date_to + timedelta(days=1), time(0, 0))
    rows = session.exec(select(Dossier).where(
        Dossier.receiving_agency == agency_code, col(Dossier.received_at).is_not(None),
        col(Dossier.received_at) >= start, col(Dossier.received_at) < end,
    ).order_by(col(Dossier.register_year), col(Dossier.register_number), col(Dossier.id)))
    return list(rows.all())


def document_by_id(session: Session, document_id: int) -> IssuedDocument | None:
    return session.get(IssuedDocument, document_id)


def options_for(codes: Iterable[str], *, root: Path | None = None,
                base_url: str | None = None, form_set: str | None = None) -> PrintOptions:
    """Print options with the override files of ``codes`` (env MOTCUA_PRINT_OVERRIDES)."""
    root = overrides_root() if root is None else root
    overrides = {c: load_override(root, c) for c in codes if c}
    return PrintOptions(base_url=base_url or public_base_url(), overrides=overrides,
                        form_set=form_set)
