"""Dossiers as their public shapes (``service/api/schemas/dossiers.py``), shared by the CLI
and the HTTP API so that both say the same thing. Instants are written in Vietnam time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import literal
from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.lifecycle import allowed_actions, documents_of, events_of, steps_of
from engine.lifecycle.inputs import Actor
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.lifecycle.states import Channel, ReturnMethod, State
from engine.procedures import ProcedureSpec
from engine.timezone import to_local
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


def names_of(session: Session, dossier: Dossier,
             usernames: list[str | None]) -> tuple[dict[str, str], dict[str, str]]:
    """The short names of the agencies a dossier mentions and the full names of the people
    ``usernames`` (as ``engine.users.full_names``: a name never set is left out) in one statement:
    the dossier page asks for both, and each statement is a round trip that, under load,
    waits its turn for the worker's interpreter lock again (issue 18)."""
    codes = {dossier.receiving_agency, dossier.competent_agency, dossier.returning_agency}
    wanted = sorted({u for u in usernames if u})
    query = select(literal("a").label("kind"), col(Agency.code).label("key"),
                   col(Agency.short_name).label("name")).where(
        col(Agency.code).in_(sorted(c for c in codes if c)))
    if wanted:
        query = query.union_all(select(literal("u"), col(User.username), col(User.full_name))
                                .where(col(User.username).in_(wanted)))
    found: dict[str, dict[str, str]] = {"a": {}, "u": {}}
    for kind, key, name in session.execute(query):
        if name:
            found[kind][key] = name
    return {code: found["a"].get(code, code) for code in codes}, found["u"]


def detail_fields(session: Session, dossier: Dossier, actor: Actor | None = None, *,
                  with_people: bool = False, events: list[DossierEvent] | None = None,
                  documents: list[IssuedDocument] | None = None,
                  steps: list[DossierStep] | None = None,
                  spec: ProcedureSpec | None = None) -> dict[str, object]:
    """The fields of :class:`DossierDetail` (the actions: any role's, or with ``actor`` only
    the actor's — the caller's own view, without reading the procedure version twice), for
    the shapes that extend it (the caller's own view, an action's answer). ``with_people``:
    also ``people``, username → full name of everyone the page names (the assignee, each
    event's actor, each step's assignee), read with the agencies' names. ``events`` and
    ``documents``: the dossier's whole journal and forms when the caller holds them already
    (a dossier received in this request: its one event and the forms it issued), so that they
    are not read back; likewise ``steps`` (its hand-off rows) and ``spec`` (its procedure
    version, which the actions come from)."""
    events = [event_json(e) for e in (events_of(session, dossier) if events is None
                                      else events)]
    steps = [step_json(s) for s in (steps_of(session, dossier) if steps is None else steps)]
    usernames = [dossier.assignee, *(e.actor.id for e in events),
                 *(s.assignee for s in steps)] if with_people else []
    agencies, people = names_of(session, dossier, usernames)
    fields: dict[str, object] = dict(
        **summary_fields(dossier),
        agency_names=agencies,
        allowed_actions=allowed_actions(session, dossier, actor, spec=spec),
        events=events,
        steps=steps,
        documents=[document_json(d) for d in (documents_of(session, dossier)
                                              if documents is None else documents)],
    )
    if with_people:
        fields["people"] = people
    return fields


def dossier_detail(session: Session, dossier: Dossier, **known: object) -> DossierDetail:
    return DossierDetail(**detail_fields(session, dossier, **known))
