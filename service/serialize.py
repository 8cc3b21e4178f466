"""Dossiers as their public shapes (``service/api/schemas/dossiers.py``), shared by the CLI
and the HTTP API so that both say the same thing. Instants are written in Vietnam time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Text, bindparam, cast, literal_column, null, union_all
from sqlalchemy import select as sa_select
from sqlmodel import Session

from engine.agencies import Agency
from engine.calendar import WorkingCalendar
from engine.calendar.store import REVISION_SELECTS, calendar_layers, calendars_from_revision
from engine.lifecycle import allowed_actions, documents_of, events_of, steps_of
from engine.lifecycle.inputs import Actor
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.lifecycle.states import Channel, ReturnMethod, State
from engine.lifecycle.urgency import urgency
from engine.procedures import ProcedureSpec, ProcedureVersionRow, cached_version
from engine.timezone import read_instant, to_local
from engine.users import User
from service.api.schemas.common import Limit
from service.api.schemas.dossiers import (
    ApplicantPublic,
    DocumentPublic,
    DossierDetail,
    DossierSummary,
    EventActor,
    EventPublic,
    PostalFacts,
    ProcedureRef,
    RegisterEntry,
    StepPublic,
)


def _iso(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return to_local(value).isoformat()
    return value.isoformat()


def summary_fields(dossier: Dossier) -> dict[str, object]:
    """The fields of :class:`DossierSummary`, for the shapes that extend it."""
    state = State(dossier.state)
    return dict(
        code=dossier.code,
        procedure=ProcedureRef(code=dossier.procedure_code, name=dossier.procedure_name,
                               version=_iso(dossier.procedure_version)),
        state=state, status_code=dossier.status_code, status=state.label_vi,
        channel=dossier.channel,
        receiving_agency=dossier.receiving_agency,
        competent_agency=dossier.competent_agency,
        returning_agency=dossier.returning_agency,
        boundary_free=dossier.boundary_free,
        current_step=dossier.current_step, assignee=dossier.assignee,
        applicant=ApplicantPublic(name=dossier.applicant_name,
                                  id_number=dossier.applicant_id_number,
                                  address=dossier.applicant_address,
                                  phone=dossier.applicant_phone,
                                  email=dossier.applicant_email),
        components=dossier.components,
        limit=Limit(amount=dossier.limit_amount, unit=dossier.limit_unit),
        submitted_at=_iso(dossier.submitted_at), received_at=_iso(dossier.received_at),
        transfer_due_at=_iso(dossier.transfer_due_at),
        original_due=_iso(dossier.original_due_date),
        due=_iso(dossier.due_date), due_at=_iso(dossier.due_at),
        appointment=_iso(dossier.appointment_date),
        ended_at=_iso(dossier.ended_at), end_kind=dossier.end_kind,
        returned_at=_iso(dossier.returned_at), collected_by=dossier.collected_by,
        return_method=dossier.return_method, postal=postal_facts(dossier),
        supplement_requests=dossier.supplement_count, apologies=dossier.apology_count,
        flags=dossier.flags,
        register_entry=RegisterEntry(year=dossier.register_year,
                                     number=dossier.register_number),
        version=dossier.version,
    )


def postal_facts(dossier: Dossier) -> PostalFacts | None:
    """What the postal channel recorded (``engine.lifecycle.postal``), for a dossier sent or
    returned by post; None otherwise."""
    by_post = dossier.return_method == ReturnMethod.POST.value
    if dossier.channel != Channel.POSTAL.value and not by_post:
        return None
    sent = bool(dossier.postal_tracking_number)
    return PostalFacts(
        dossier_delivered_on=_iso(dossier.postal_delivered_on),
        recipient_address=dossier.recipient_address or (dossier.applicant_address
                                                        if by_post else None),
        tracking_number=dossier.postal_tracking_number,
        handed_over_at=_iso(dossier.returned_at) if sent else None,
        result_delivered_on=_iso(dossier.result_delivered_on))


def dossier_summary(dossier: Dossier) -> DossierSummary:
    return DossierSummary(**summary_fields(dossier))


def event_json(event: DossierEvent) -> EventPublic:
    return EventPublic(
        seq=event.seq, action=event.action, at=_iso(event.at),
        actor=EventActor(id=event.actor_id, role=event.actor_role, agency=event.actor_agency),
        state_before=event.state_before, state_after=event.state_after,
        step_before=event.step_before, step_after=event.step_after,
        reason=event.reason, payload=event.payload, request_id=event.request_id,
        recorded_at=_iso(event.recorded_at),
        backdated=(event.payload or {}).get("backdated"),
        hash=event.hash)


def step_json(step: DossierStep) -> StepPublic:
    return StepPublic(
        seq=step.seq, step=step.step_id, name=step.step_name, unit=step.unit, role=step.role,
        assignee=step.assignee, started_at=_iso(step.started_at), due_at=_iso(step.due_at),
        finished_at=_iso(step.finished_at), outcome=step.outcome,
        classification=step.classification)


def document_json(document: IssuedDocument) -> DocumentPublic:
    return DocumentPublic(
        id=document.id, form=document.form, form_set=document.form_set,
        number=document.number, issued_at=_iso(document.issued_at),
        issued_by=document.issued_by, copy_of=document.copy_of)


@dataclass(frozen=True, slots=True)
class DossierFacts:
    """What a dossier's page names beside the dossier: the short names of its agencies, the
    full names of the people it mentions, its procedure version and its competent agency's
    calendar (the urgency badge)."""

    agencies: dict[str, str]
    people: dict[str, str]
    spec: ProcedureSpec
    calendar: WorkingCalendar


_AGENCY, _USER = Agency.__table__, User.__table__
_VERSION = ProcedureVersionRow.__table__
#: One statement in the calendars' revision shape (``kind, code, n, last_id, at, text``):
#: the revisions, then ``'a'`` agency → short name, ``'u'`` username → full name and ``'p'``
#: the version's ``loaded_at`` and ``effective_from``.
_FACTS = union_all(
    *REVISION_SELECTS,
    sa_select(literal_column("'a'"), _AGENCY.c.code, null(), null(), null(),
              _AGENCY.c.short_name).where(_AGENCY.c.code.in_(bindparam("agencies",
                                                                       expanding=True))),
    sa_select(literal_column("'u'"), _USER.c.username, null(), null(), null(),
              _USER.c.full_name).where(_USER.c.username.in_(bindparam("people",
                                                                      expanding=True))),
    sa_select(literal_column("'p'"), _VERSION.c.code, null(), null(), _VERSION.c.loaded_at,
              cast(_VERSION.c.effective_from, Text))
    .where(_VERSION.c.code == bindparam("procedure"),
           _VERSION.c.effective_from == bindparam("effective_from")),
)


def dossier_facts(session: Session, dossier: Dossier,
                  usernames: Iterable[str | None]) -> DossierFacts:
    """:class:`DossierFacts` in one statement: the dossier page asks for all of them, and each
    statement is a round trip that, under load, waits its turn for the worker's interpreter
    lock again (issue 18: four statements became one). A name never set is left out of
    ``people`` (as ``engine.users.full_names``); an agency without one shows its code."""
    codes = {dossier.receiving_agency, dossier.competent_agency, dossier.returning_agency}
    agencies, layers = calendar_layers([dossier.competent_agency])
    rows = session.execute(_FACTS, {
        "codes": layers, "agencies": sorted(c for c in codes if c),
        "people": sorted({u for u in usernames if u}), "procedure": dossier.procedure_code,
        "effective_from": dossier.procedure_version}).all()
    found: dict[str, dict[str, str]] = {"a": {}, "u": {}}
    loaded_at = None
    for row in rows:
        if row[0] in found and row[5]:
            found[row[0]][row[1]] = row[5]
        elif row[0] == "p":
            loaded_at = read_instant(row[4])
    return DossierFacts(
        agencies={code: found["a"].get(code, code) for code in codes}, people=found["u"],
        spec=cached_version(session, code=dossier.procedure_code,
                            effective_from=dossier.procedure_version, loaded_at=loaded_at),
        calendar=calendars_from_revision(session, agencies, rows)[agencies[0]])


def detail_fields(session: Session, dossier: Dossier, actor: Actor | None = None, *,
                  with_people: bool = False, events: list[DossierEvent] | None = None,
                  documents: list[IssuedDocument] | None = None,
                  steps: list[DossierStep] | None = None,
                  spec: ProcedureSpec | None = None,
                  today: date | None = None) -> dict[str, object]:
    """The fields of :class:`DossierDetail` (the actions: any role's, or with ``actor`` only
    the actor's — the caller's own view, without reading the procedure version twice), for
    the shapes that extend it (the caller's own view, an action's answer). ``with_people``:
    also ``people``, username → full name of everyone the page names (the assignee, each
    event's actor, each step's assignee), read with the agencies' names. ``events`` and
    ``documents``: the dossier's whole journal and forms when the caller holds them already
    (a dossier received in this request: its one event and the forms it issued), so that they
    are not read back; likewise ``steps`` (its hand-off rows) and ``spec`` (its procedure
    version, which the actions come from). ``today``: also ``urgency``, the badge of
    :class:`DossierView`, on the competent agency's calendar read with the names."""
    events = [event_json(e) for e in (events_of(session, dossier) if events is None
                                      else events)]
    steps = [step_json(s) for s in (steps_of(session, dossier) if steps is None else steps)]
    usernames = [dossier.assignee, *(e.actor.id for e in events),
                 *(s.assignee for s in steps)] if with_people else []
    facts = dossier_facts(session, dossier, usernames)
    fields: dict[str, object] = dict(
        **summary_fields(dossier),
        agency_names=facts.agencies,
        allowed_actions=allowed_actions(session, dossier, actor, spec=spec or facts.spec),
        events=events,
        steps=steps,
        documents=[document_json(d) for d in (documents_of(session, dossier)
                                              if documents is None else documents)],
    )
    if with_people:
        fields["people"] = facts.people
    if today is not None:
        fields["urgency"] = urgency(dossier, today, facts.calendar)
    return fields


def dossier_detail(session: Session, dossier: Dossier, **known: object) -> DossierDetail:
    return DossierDetail(**detail_fields(session, dossier, **known))
