"""Actions on dossiers. Each public function is one all-or-nothing unit of work.

Inside the caller's transaction an action: checks who may act (role, agency, step), fires the
shared state machine, updates the deadline clock by replaying the dossier's clock events,
writes the control-sheet hand-offs and the issued documents, appends one hash-chained event,
and bumps the dossier's version with a compare-and-set. Any error raises before commit and the
caller rolls back (``engine.db.session_scope`` does), so nothing is half done.

Concurrency: PostgreSQL locks the dossier row (``FOR UPDATE NOWAIT``); both databases
compare-and-set the version. A concurrent action loses with :class:`Conflict`, never silently.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, col, select

from engine.agencies import Agency, competent_agencies, default_competent, routing_errors
from engine.calendar import CalendarRangeError, WorkingCalendar
from engine.calendar.store import (
    load_calendar,
)
from engine.clock import ClockError, ClockEvent, ClockState, EventKind, replay
from engine.deadline import ClockPolicy, TimeLimit, TimeUnit, compute_due
from engine.lifecycle import audit, backdating, codes, idempotency
from engine.lifecycle.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    contention_as_conflict,
    is_contention,
)
from engine.lifecycle.machine import DossierMachine, machine_for
from engine.lifecycle.models import (
    Dossier,
    DossierEvent,
    DossierStep,
    Guidance,
    IssuedDocument,
    utcnow,
)
from engine.lifecycle.rows import insert_row, update_row
from engine.lifecycle.states import Action, Channel, State
from engine.lifecycle.workset import EventRef, Hop, read_receipt_set, read_workset
from engine.procedures import (
    COUNTER_UNIT,
    ProcedureSpec,
    get_version,
    version_in_force,
)
from engine.text import fold
from engine.timezone import local_instant, to_local

A = Action
#: Forms of TT 03/2025 apply to dossiers received from this day; earlier ones keep TT 01/2018
#: forms (domain §4.1; decree118 §8 item 8) [I].
FORM_SET_2025_FROM = date(2025, 9, 15)
FORM_SYMBOLS = {"receipt": "TNHS", "supplement_request": "HDHS", "refusal": "TCHS",
                "apology": "PXL", "stop_notice": "TBDG"}


# ----- inputs -------------------------------------------------------------------------------

def nfc(value: Any) -> Any:
    """NFC-normalise text (NFD looks identical but breaks search and PDF copy)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).strip()
    if isinstance(value, Mapping):
        return {k: nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user id, a role (clerk, officer, leader, auditor, admin) and an agency."""

    id: str
    role: str
    agency: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant (*chủ hồ sơ / người nộp hồ sơ*)."""

    name: str
    id_number: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class ActionResult:
    dossier: Dossier
    recorded: DossierEvent | dict[str, Any] | None  # the event, or its written columns
    documents: list[IssuedDocument] = field(default_factory=list)
    replayed: bool = False  # an idempotent repeat: nothing new was written

    @property
    def event(self) -> DossierEvent | None:
        """The event the action recorded; built on first use (an action writes it as a plain
        row, and most callers never look at it)."""
        if isinstance(self.recorded, dict):
            self.recorded = DossierEvent(**self.recorded)
        return self.recorded


# ----- who may do what ----------------------------------------------------------------------

COUNTER_ROLES = frozenset({"clerk"})
#: action → (roles, which agency fields of the dossier the actor must belong to, step-scoped)
POLICY: dict[Action, tuple[frozenset[str], tuple[str, ...], bool]] = {
    A.SUBMIT: (COUNTER_ROLES, ("receiving_agency",), False),
    A.RECEIVE: (COUNTER_ROLES, ("receiving_agency",), False),
    A.REFUSE_AT_RECEPTION: (COUNTER_ROLES, ("receiving_agency",), False),
    A.TRANSFER: (COUNTER_ROLES, ("receiving_agency",), False),
    A.RECEIVE_SUPPLEMENT: (COUNTER_ROLES, ("receiving_agency", "returning_agency"), False),
    A.RETURN_RESULT: (COUNTER_ROLES, ("returning_agency",), False),
    A.STOP: (COUNTER_ROLES, ("receiving_agency", "returning_agency"), False),
    A.WITHDRAW: (COUNTER_ROLES, ("receiving_agency", "returning_agency"), False),
    A.CONFIRM_PAYMENT: (frozenset({"clerk", "officer"}),
                        ("receiving_agency", "competent_agency"), False),
    A.ACCEPT_TRANSFER: (frozenset({"clerk", "officer", "leader"}), ("competent_agency",), False),
    A.ASSIGN: (frozenset({"leader"}), ("competent_agency",), False),
    A.APOLOGISE: (frozenset({"leader"}), ("competent_agency",), False),
    A.REFUSE: (frozenset({"leader"}), ("competent_agency",), False),
    A.CORRECT_RESULT: (frozenset({"leader", "officer"}), ("competent_agency",), False),
    A.FORWARD: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.SEND_BACK: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.CONSULT: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.REQUEST_SUPPLEMENT: (frozenset({"officer", "leader", "clerk"}),
                           ("competent_agency", "receiving_agency"), True),
    A.REQUEST_PAYMENT: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.PAUSE: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.RESUME: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.FINISH: (frozenset({"officer", "leader"}), ("competent_agency",), True),
}


def authorize(action: Action, actor: Actor, dossier: Dossier, spec: ProcedureSpec) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may take ``action`` on ``dossier`` now."""
    roles, agency_fields, step_scoped = POLICY[action]
    if actor.role not in roles:
        raise Forbidden(f"vai trò '{actor.role}' không được thực hiện '{action.label_vi}'",
                        action=action.value, role=actor.role, allowed_roles=sorted(roles))
    agencies = {getattr(dossier, f) for f in agency_fields}
    if actor.agency not in agencies:
        raise Forbidden(f"cán bộ của {actor.agency} không được thực hiện '{action.label_vi}' "
                        f"trên hồ sơ {dossier.code}", action=action.value)
    if not step_scoped or dossier.state not in (State.IN_PROCESSING, State.PAUSED):
        return
    step = _current_step_spec(dossier, spec)
    if step is None:
        return
    allowed = set(step.actions) | ({A.RESUME.value} if A.PAUSE.value in step.actions else set())
    if action.value not in allowed:
        raise Forbidden(f"bước '{step.name}' không cho phép '{action.label_vi}'",
                        action=action.value, step=step.id, allowed=sorted(allowed))
    if actor.role != step.role and actor.role != "leader":
        raise Forbidden(f"bước '{step.name}' do vai trò '{step.role}' thực hiện",
                        action=action.value, step=step.id)


def _current_step_spec(dossier: Dossier, spec: ProcedureSpec):
    if dossier.current_step is None:
        return None
    try:
        return spec.step(dossier.current_step)
    except KeyError:
        return None


# ----- reading ------------------------------------------------------------------------------

# Queries run on every action are built once: building a statement and its cache key costs
# about as much as running it on SQLite (bench/lifecycle.py).
_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))
_BY_CODE_LOCKED = _BY_CODE.with_for_update(nowait=True)
_STEPS = (select(DossierStep).where(DossierStep.dossier_id == bindparam("dossier_id"))
          .order_by(col(DossierStep.seq)))
_CLOCK_PAYLOADS = (select(DossierEvent.payload)
                   .where(DossierEvent.dossier_id == bindparam("dossier_id"))
                   .order_by(col(DossierEvent.seq)))
_STEP_TABLE = DossierStep.__table__
_INSERT_EVENT = DossierEvent.__table__.insert().returning(DossierEvent.__table__.c.id)
_INSERT_STEP = _STEP_TABLE.insert()
_UPDATE_STEP = _STEP_TABLE.update().where(_STEP_TABLE.c.id == bindparam("row_id"))


def get_dossier(session: Session, code: str, *, lock: bool = False) -> Dossier:
    """Load a dossier by code; with ``lock``, take its row lock (PostgreSQL) or fail fast."""
    query = _BY_CODE
    if lock and session.get_bind().dialect.name == "postgresql":
        query = _BY_CODE_LOCKED
    try:
        dossier = session.exec(query, params={"code": code}).first()
    except OperationalError as exc:
        if not is_contention(exc):  # a lost connection is not a conflict: retried or 503
            raise
        raise Conflict("hồ sơ đang được người khác cập nhật; vui lòng thử lại",
                       code=code) from exc
    if dossier is None:
        raise NotFound(f"không tìm thấy hồ sơ {code}", code=code)
    return dossier


def events_of(session: Session, dossier: Dossier) -> list[DossierEvent]:
    return list(session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                             .order_by(col(DossierEvent.seq))).all())


def steps_of(session: Session, dossier: Dossier) -> list[DossierStep]:
    return list(session.exec(_STEPS, params={"dossier_id": dossier.id}).all())


def documents_of(session: Session, dossier: Dossier) -> list[IssuedDocument]:
    return list(session.exec(select(IssuedDocument)
                             .where(IssuedDocument.dossier_id == dossier.id)
                             .order_by(col(IssuedDocument.id))).all())


def record_reprint(session: Session, *, document: IssuedDocument, actor: Actor,
                   at: datetime | None = None) -> IssuedDocument:
    """Record a reprint of an issued form as a copy (``copy_of`` the original): same form, set
    and number, with who printed it again and when. The dossier itself does not change, so no
    event is appended; the printed copy is marked "BẢN SAO"."""
    original_id = document.copy_of or document.id
    copy = IssuedDocument(
        dossier_id=document.dossier_id, guidance_id=document.guidance_id, form=document.form,
        form_set=document.form_set, number=document.number, issued_at=_check_instant(at),
        issued_by=actor.id, event_id=document.event_id, copy_of=original_id,
        payload=dict(document.payload or {}),
    )
    session.add(copy)
    session.flush()
    return copy


def spec_of(session: Session, dossier: Dossier) -> ProcedureSpec:
    return get_version(session, code=dossier.procedure_code,
                       effective_from=dossier.procedure_version)


def machine_of(spec: ProcedureSpec) -> DossierMachine:
    """The shared machine of the dossier's procedure version."""
    return machine_for(spec.key)


#: Actions the state machine allows but the dossier's facts rule out (kept out of menus; the
#: action itself still explains why if someone tries).
PRECONDITIONS = {
    A.ACCEPT_TRANSFER.value: lambda d: d.boundary_free and d.clock_started_at is None,
    A.APOLOGISE.value: lambda d: d.apology_count == 0,
    A.FINISH.value: lambda d: d.clock_started_at is not None,
}


def allowed_actions(session: Session, dossier: Dossier, actor: Actor | None = None) -> list[str]:
    """Actions possible now; with ``actor``, only those this actor may take."""
    spec = spec_of(session, dossier)
    actions = [a for a in machine_of(spec).allowed_actions(dossier.state)
               if PRECONDITIONS.get(a, lambda _d: True)(dossier)]
    if actor is None:
        return actions
    permitted = []
    for name in actions:
        try:
            authorize(Action(name), actor, dossier, spec)
        except Forbidden:
            continue
        permitted.append(name)
    return permitted


# ----- receiving ----------------------------------------------------------------------------

def _agencies(session: Session, *codes: str | None) -> list[Agency]:
    """Load these agencies into the session in one statement, so that :func:`_agency` finds
    them without one more each (while the caller holds the list)."""
    return list(session.exec(_AGENCIES, params={"codes": sorted({c for c in codes if c})}))


_AGENCIES = select(Agency).where(col(Agency.code).in_(bindparam("codes", expanding=True)))


def _agency(session: Session, code: str, what: str) -> Agency:
    agency = session.get(Agency, code)
    if agency is None:
        raise InvalidInput(f"không có {what} mã {code!r}", field=what, value=code)
    return agency


def _check_instant(at: datetime | None) -> datetime:
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise InvalidInput("thời điểm phải có múi giờ (ISO 8601 với +07:00)", field="at")
    return at


def missing_components(spec: ProcedureSpec, submitted: Iterable[Mapping[str, Any]]) -> list[str]:
    """Required components not handed in with enough originals and copies."""
    given = {nfc(c["name"]): c for c in submitted}
    missing = []
    for component in spec.components:
        if not component.required:
            continue
        got = given.get(component.name)
        if got is None or int(got.get("originals", 0)) < component.originals \
                or int(got.get("copies", 0)) < component.copies:
            missing.append(component.name)
    return missing


def _version_on(session: Session, procedure_code: str, at: datetime) -> ProcedureSpec:
    """The procedure version in force on the local date of ``at`` (a dossier keeps it)."""
    try:
        return version_in_force(session, code=procedure_code, on=to_local(at).date())
    except LookupError as exc:
        raise InvalidInput(str(exc), field="procedure") from exc


def _timestamps() -> dict[str, Any]:
    """A new dossier's defaults given up front: pydantic inspects a default factory's signature
    on every construction, a cost an action on the counter notices."""
    now = utcnow()
    return {"created_at": now, "updated_at": now, "flags": []}


def _search_text(*parts: str | None) -> str:
    return fold(" ".join(p for p in parts if p))[:700]


def receive(
    session: Session,
    *,
    actor: Actor,
    procedure_code: str,
    applicant: Applicant,
    components: list[Mapping[str, Any]],
    channel: Channel | str = Channel.COUNTER,
    competent_agency: str | None = None,
    returning_agency: str | None = None,
    return_method: str = "counter",
    sets_count: int = 1,
    at: datetime | None = None,
    submitted_at: datetime | None = None,
    online: bool = False,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    backdate_reason: str | None = None,
) -> ActionResult:
    """Receive a complete dossier at the counter (Mẫu 01), or register an online submission.

    ``online=True`` records an online submission (status 1) to be checked and received later
    with the ``receive`` action. The procedure version in force on the receipt date applies for
    the dossier's whole life. ``at`` is the server's clock unless the caller allowed an
    earlier instant (``engine.lifecycle.backdating``) and gives ``backdate_reason``.
    """
    action = A.SUBMIT if online else A.RECEIVE
    applicant = Applicant(**nfc(asdict(applicant)))
    components = [nfc(dict(c)) for c in components]
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency, route=action.value,
        procedure=procedure_code, applicant=asdict(applicant), components=components,
        channel=Channel(channel).value, competent_agency=competent_agency,
        returning_agency=returning_agency, return_method=return_method, sets_count=sets_count)
    previous = _replayed(session, idem)
    if previous:
        return previous
    if idem:
        idempotency.claim(session, idem)  # a concurrent repeat waits here, then replays
    at = _check_instant(at)
    # The three points of a dossier, usually two agencies, read in one statement (held here:
    # the session keeps only weak references).
    loaded = _agencies(session, actor.agency, competent_agency, returning_agency)  # noqa: F841
    receiving = _agency(session, actor.agency, "cơ quan tiếp nhận")
    chosen_competent = competent_agency is not None
    competent_agency = competent_agency or default_competent(
        session, receiving_code=receiving.code, procedure_code=procedure_code) or actor.agency
    competent = _agency(session, competent_agency, "cơ quan giải quyết")
    returning = _agency(session, returning_agency or actor.agency, "nơi trả kết quả")
    # Only what the clerk chose is checked (the defaults are the tree's own). An agency this
    # unit serves is its own routing; another unit's needs the procedure's list (one more
    # statement, so not for the usual receipt).
    foreign = chosen_competent and receiving.code not in (competent.code,
                                                          competent.one_stop_code)
    routing = routing_errors(
        receiving=receiving, competent=competent if chosen_competent else None,
        returning=returning if returning_agency else None,
        candidates=competent_agencies(session, procedure_code=procedure_code)
        if foreign else [])
    if routing:
        field, message = next(iter(routing.items()))
        raise InvalidInput(message, field=field, errors=routing)
    try:  # the version in force on the receipt day, with the three agencies' calendars
        spec, calendars = read_receipt_set(
            session, procedure_code=procedure_code, on=to_local(at).date(),
            agencies=[receiving.code, competent.code, returning.code])
    except LookupError as exc:
        raise InvalidInput(str(exc), field="procedure") from exc
    if not applicant.name:
        raise InvalidInput("thiếu họ tên người nộp hồ sơ", field="applicant.name")
    dossier = Dossier(
        code="", secret=secrets.token_urlsafe(12), procedure_code=spec.code,
        procedure_version=spec.effective_from, procedure_name=spec.name,
        # An online submission (status 1) came through the portal, never over the counter.
        channel=(Channel.ONLINE if online and Channel(channel) is Channel.COUNTER
                 else Channel(channel)).value, state=State.NEW.value, status_code=0,
        receiving_agency=receiving.code, competent_agency=competent.code,
        returning_agency=returning.code,
        boundary_free=competent.one_stop_code not in (None, receiving.code)
        and competent.code != receiving.code,
        applicant_name=applicant.name, applicant_id_number=applicant.id_number,
        applicant_address=applicant.address, applicant_phone=applicant.phone,
        applicant_email=applicant.email, components=components, sets_count=sets_count,
        return_method=return_method, submitted_at=submitted_at or (at if online else None),
        limit_amount=spec.limit.amount, limit_unit=spec.limit.unit.value,
        supplement_effect=spec.supplement_effect.value, **_timestamps(),
    )
    dossier.code = codes.new_dossier_code(session, agency_code=receiving.code,
                                          receipt_day=to_local(at).date(),
                                          scheme=receiving.code_scheme)
    dossier.search_text = _search_text(dossier.code, applicant.name, applicant.id_number,
                                       applicant.phone)
    return _perform(session, dossier, spec, action, actor, at=at, reason=None, payload={},
                    idem=idem, request_id=request_id, backdate_reason=backdate_reason,
                    calendars=calendars,
                    policy=receiving.clock_policy(), spec_day=to_local(at).date(),
                    new=True)


def refuse_at_reception(
    session: Session, *, actor: Actor, procedure_code: str, applicant: Applicant, reason: str,
    at: datetime | None = None, idempotency_key: str | None = None,
    request_id: str | None = None,
) -> ActionResult:
    """Refuse a dossier at the counter with Form 03 (not eligible, wrong authority …).

    The refusal gets a dossier code too, so it is counted and a number is never reused.
    """
    if not nfc(reason or ""):
        raise InvalidInput("phải nêu rõ lý do từ chối tiếp nhận", field="reason")
    applicant = Applicant(**nfc(asdict(applicant)))
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency,
        route=A.REFUSE_AT_RECEPTION.value, procedure=procedure_code,
        applicant=asdict(applicant), reason=nfc(reason))
    previous = _replayed(session, idem)
    if previous:
        return previous
    if idem:
        idempotency.claim(session, idem)  # a concurrent repeat waits here, then replays
    at = _check_instant(at)
    receiving = _agency(session, actor.agency, "cơ quan tiếp nhận")
    spec = _version_on(session, procedure_code, at)
    dossier = Dossier(
        code=codes.new_dossier_code(session, agency_code=receiving.code,
                                    receipt_day=to_local(at).date(),
                                    scheme=receiving.code_scheme),
        secret=secrets.token_urlsafe(12), procedure_code=spec.code,
        procedure_version=spec.effective_from, procedure_name=spec.name,
        channel=Channel.COUNTER.value, state=State.NEW.value, status_code=0,
        receiving_agency=receiving.code, competent_agency=receiving.code,
        returning_agency=receiving.code, applicant_name=applicant.name or "(không ghi tên)",
        applicant_id_number=applicant.id_number, applicant_address=applicant.address,
        applicant_phone=applicant.phone, applicant_email=applicant.email,
        limit_amount=spec.limit.amount, limit_unit=spec.limit.unit.value,
        supplement_effect=spec.supplement_effect.value, **_timestamps(),
    )
    dossier.search_text = _search_text(dossier.code, dossier.applicant_name,
                                       applicant.id_number, applicant.phone)
    return _perform(session, dossier, spec, A.REFUSE_AT_RECEPTION, actor, at=at,
                    reason=nfc(reason), payload={}, idem=idem,
                    request_id=request_id, new=True)


def guide(
    session: Session, *, actor: Actor, procedure_code: str, applicant_name: str,
    missing: list[Mapping[str, Any]] | list[str], reason: str, applicant_phone: str | None = None,
    at: datetime | None = None, idempotency_key: str | None = None,
    request_id: str | None = None,
) -> tuple[Guidance, IssuedDocument]:
    """Guide an applicant with an incomplete dossier (Form 02 at the counter, once and fully).

    No dossier is opened and no clock starts (domain §2.2 #3); the guidance is recorded for
    statistics with the list of what is missing.
    """
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency, route="guide",
        procedure=procedure_code, applicant_name=nfc(applicant_name),
        applicant_phone=nfc(applicant_phone), missing=nfc(list(missing)), reason=nfc(reason))
    record = idempotency.find(session, idem) if idem else None
    if record is not None:
        existing = session.get(Guidance, record.guidance_id)
        doc = session.exec(select(IssuedDocument)
                           .where(IssuedDocument.guidance_id == existing.id)).one()
        return existing, doc
    if actor.role != "clerk":
        raise Forbidden("chỉ cán bộ tiếp nhận được hướng dẫn tại quầy", role=actor.role)
    items = [nfc(m) if isinstance(m, Mapping) else {"name": nfc(m)} for m in missing]
    if not items:
        raise InvalidInput("phải liệt kê đầy đủ các thành phần cần bổ sung", field="missing")
    if not nfc(reason or ""):
        raise InvalidInput("phải nêu lý do", field="reason")
    at = _check_instant(at)
    agency = _agency(session, actor.agency, "cơ quan tiếp nhận")
    spec = _version_on(session, procedure_code, at)
    record = Guidance(agency_code=agency.code, procedure_code=spec.code, at=at,
                      actor_id=actor.id, applicant_name=nfc(applicant_name),
                      applicant_phone=nfc(applicant_phone), missing=items, reason=nfc(reason),
                      request_id=request_id,
                      idempotency_key=idem.scope_hash if idem else None)
    if idem:
        idempotency.claim(session, idem)  # a concurrent repeat waits here, then replays
    session.add(record)
    with contention_as_conflict():  # the transaction's first write (SQLite's lock)
        session.flush()
    if idem:
        idempotency.settle(session, idem, guidance_id=record.id)
    document = _issue(session, None, "supplement_request", actor, at, agency.code,
                      form_day=to_local(at).date(),
                      payload={"procedure": spec.name, "applicant": record.applicant_name,
                               "missing": items, "reason": record.reason},
                      guidance_id=record.id)
    return record, document


# ----- acting on an existing dossier --------------------------------------------------------

def act(
    session: Session,
    *,
    code: str,
    action: Action | str,
    actor: Actor,
    at: datetime | None = None,
    reason: str | None = None,
    payload: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    request_id: str | None = None,
    backdate_reason: str | None = None,
) -> ActionResult:
    """Take ``action`` on the dossier ``code``; see the module docstring for what happens.

    ``at`` defaults to the server's clock; an earlier instant given with ``backdate_reason``
    is recorded as such (``engine.lifecycle.backdating`` says who may)."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput(f"hành động không tồn tại: {action!r}", field="action",
                           allowed=[a.value for a in Action]) from None
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency, route="act",
        action=action.value, code=code, reason=nfc(reason) if reason else None,
        payload=nfc(dict(payload or {})), expected_version=expected_version)
    previous = _replayed(session, idem)
    if previous:
        return previous
    if idem:
        # Claimed before the row lock: a repeat racing its own first attempt waits for that
        # attempt's commit and then replays it, instead of failing on the lock (409).
        idempotency.claim(session, idem)
    dossier = get_dossier(session, code, lock=True)
    if expected_version is not None and expected_version != dossier.version:
        raise Conflict(f"hồ sơ {code} đã thay đổi (phiên bản {dossier.version}, "
                       f"bạn đang xem {expected_version}); hãy tải lại", code=code,
                       current_version=dossier.version)
    try:
        work = read_workset(session, dossier)
    except LookupError as exc:  # the dossier's procedure version was deleted
        raise InvalidInput(str(exc), field="procedure") from exc
    return _perform(session, dossier, work.spec, action, actor, at=_check_instant(at),
                    reason=nfc(reason) if reason else None, payload=nfc(dict(payload or {})),
                    idem=idem, request_id=request_id, backdate_reason=backdate_reason,
                    calendars=work.calendars, policy=work.policy, hops=work.hops,
                    events=work.events)


def _replayed(session: Session, idem: idempotency.Idempotency | None) -> ActionResult | None:
    """The first result of a request repeated with the same key in the same scope."""
    record = idempotency.find(session, idem) if idem else None
    if record is None:
        return None
    event = session.get(DossierEvent, record.event_id)
    dossier = session.get(Dossier, record.dossier_id)
    documents = list(session.exec(select(IssuedDocument)
                                  .where(IssuedDocument.event_id == event.id)).all())
    return ActionResult(dossier, event, documents, replayed=True)


# ----- the transaction body -----------------------------------------------------------------

@dataclass
class _Context:
    session: Session
    dossier: Dossier
    spec: ProcedureSpec
    actor: Actor
    action: Action
    at: datetime
    reason: str | None
    payload: dict[str, Any]
    clock: dict[str, Any] | None = None  # the clock event this action records
    documents: list[IssuedDocument] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)
    hops: list[Hop] | None = None  # the hand-off rows, read once per action
    policy: ClockPolicy | None = None  # the receiving agency's clock settings
    spec_day: date | None = None  # the day ``spec`` was found in force for (receive)
    events: list[EventRef] | None = None  # the stored events

    def _read(self) -> None:
        work = read_workset(self.session, self.dossier)
        self.hops, self.events = work.hops, work.events

    def event_rows(self) -> list[EventRef]:
        """The dossier's stored events, read once per action (with the hand-off rows)."""
        if self.events is None:
            self._read()
        return self.events

    def calendar(self, agency_code: str) -> WorkingCalendar:
        """The agency's calendar, checked against the database once per action."""
        calendar = self.calendars.get(agency_code)
        if calendar is None:
            calendar = self.calendars[agency_code] = load_calendar(self.session,
                                                                   agency_code=agency_code)
        return calendar

    def step_rows(self) -> list[Hop]:
        """The dossier's hand-off rows, including the ones this action opened."""
        if self.hops is None:
            self._read()
        return self.hops


def _perform(session: Session, dossier: Dossier, spec: ProcedureSpec, action: Action,
             actor: Actor, *, at: datetime, reason: str | None, payload: dict[str, Any],
             idem: idempotency.Idempotency | None, request_id: str | None,
             backdate_reason: str | None = None,
             calendars: dict[str, WorkingCalendar] | None = None,
             policy: ClockPolicy | None = None, spec_day: date | None = None,
             new: bool = False, hops: list[Hop] | None = None,
             events: list[EventRef] | None = None) -> ActionResult:
    """The body of every action; ``calendars`` and ``policy`` are what the caller already
    checked, ``new`` says the dossier was created in this transaction (no events, no steps)."""
    machine = machine_of(spec)
    state_before, step_before = dossier.state, dossier.current_step
    authorize(action, actor, dossier, spec)
    machine.fire(action, dossier)  # raises IllegalAction naming the allowed actions
    ctx = _Context(session, dossier, spec, actor, action, at, reason, payload,
                   calendars=dict(calendars or {}), policy=policy, spec_day=spec_day,
                   hops=[] if new else hops, events=[] if new else events)
    # No autoflush while the effects run: each query would otherwise write the dossier's
    # changes so far (one UPDATE per query); everything is flushed once, below.
    with session.no_autoflush:
        try:
            EFFECTS[action](ctx)
            _update_clock(ctx)
        except ClockError as exc:  # the clock says "events[i] (kind): …"; people need the rest
            message = re.sub(r"^events\[\d+\] \([a-z_]+\): ", "", str(exc))
            raise InvalidInput(message, action=action.value) from exc
        except CalendarRangeError as exc:  # e.g. an instant in 1900: the client's input
            raise InvalidInput(f"thời điểm nằm ngoài lịch làm việc được hỗ trợ ({exc})",
                               field="at") from exc
    if backdate_reason:
        ctx.flags.append(backdating.FLAG)
        ctx.payload = {**ctx.payload, "backdated": {"reason": backdate_reason}}

    dossier.status_code = State(dossier.state).national_code
    dossier.flags = sorted(set(dossier.flags) | set(ctx.flags))
    _mark_terminal_without_clock(dossier, at)
    dossier.updated_at = utcnow()
    event = _new_event(ctx, state_before, step_before,
                       idem.scope_hash if idem else None, request_id)
    try:
        _write(ctx, event, new=new)
    except IntegrityError as exc:
        raise Conflict("yêu cầu trùng lặp hoặc hồ sơ vừa được cập nhật; hãy tải lại",
                       code=dossier.code) from exc
    if idem:
        idempotency.settle(session, idem, dossier_id=dossier.id, event_id=event["id"])
    return ActionResult(dossier, event, ctx.documents)


def _write(ctx: _Context, event: dict[str, Any], *, new: bool) -> None:
    """Write what the action changed, one statement per row (``engine.lifecycle.rows``): the
    dossier (inserted, or updated with the compare-and-set of its version), its hand-off
    rows, the event and the issued documents."""
    session, dossier = ctx.session, ctx.dossier
    if new:
        with contention_as_conflict():  # SQLite: may be the transaction's first write
            insert_row(session, dossier)
    else:
        _compare_and_set(session, dossier)
    conn = session.connection()
    for hop in ctx.hops or ():
        if hop.id is None:
            conn.execute(_INSERT_STEP, dict(hop.values, dossier_id=dossier.id))
        elif hop.values:
            conn.execute(_UPDATE_STEP, dict(hop.values, row_id=hop.id))
    event["dossier_id"] = dossier.id
    event["id"] = conn.execute(_INSERT_EVENT, event).scalar_one()
    for document in ctx.documents:
        document.dossier_id, document.event_id = dossier.id, event["id"]
        insert_row(session, document)


def _compare_and_set(session: Session, dossier: Dossier) -> None:
    """Write the dossier's changed columns and bump its version in one statement, only if
    nobody else bumped it since we read it (both databases)."""
    try:
        matched = update_row(session, dossier, compare="version",
                             also={"version": dossier.version + 1})
    except (OperationalError, DBAPIError) as exc:  # SQLite: a stale snapshot cannot write
        raise Conflict("hồ sơ đang được người khác cập nhật; vui lòng thử lại",
                       code=dossier.code) from exc
    if matched != 1:
        raise Conflict(f"hồ sơ {dossier.code} vừa được người khác cập nhật; hãy tải lại",
                       code=dossier.code)


def _new_event(ctx: _Context, state_before: str, step_before: str | None,
               idempotency_key: str | None, request_id: str | None) -> dict[str, Any]:
    """The action's event as column values, chained to the dossier's last one (written by
    :func:`_write`)."""
    dossier = ctx.dossier
    rows = ctx.event_rows()
    last = rows[-1] if rows else None
    loaded_head = instance_state(dossier).committed_state.get("chain_head", dossier.chain_head)
    if last is not None and loaded_head and last.hash != loaded_head:
        # The events were read after another action on this dossier committed (SQLite reads
        # outside a write lock): the compare-and-set would fail too; say so first.
        raise Conflict(f"hồ sơ {dossier.code} vừa được người khác cập nhật; hãy tải lại",
                       code=dossier.code)
    if last is not None and ctx.at < last.at:
        # The log is chronological: a back-dated action would, e.g., hide a late transfer.
        raise InvalidInput("thời điểm thực hiện không được trước thao tác trước đó của hồ sơ "
                           f"({to_local(last.at):%d/%m/%Y %H:%M})", field="at",
                           previous=last.at.isoformat())
    payload = dict(ctx.payload)
    if ctx.clock:
        payload["clock"] = ctx.clock
    if ctx.flags:
        payload["flags"] = sorted(set(ctx.flags))
    event = {
        "dossier_id": dossier.id, "seq": (last.seq + 1) if last else 1,
        "action": ctx.action.value, "at": ctx.at, "recorded_at": utcnow(),
        "actor_id": ctx.actor.id, "actor_role": ctx.actor.role,
        "actor_agency": ctx.actor.agency, "state_before": state_before,
        "state_after": dossier.state, "step_before": step_before,
        "step_after": dossier.current_step, "reason": ctx.reason, "payload": payload,
        "request_id": request_id, "idempotency_key": idempotency_key, "imported": False,
    }
    event["prev_hash"] = prev = last.hash if last else audit.GENESIS
    event["hash"] = audit.event_digest(SimpleNamespace(**event), dossier.code, prev)
    dossier.chain_head = event["hash"]  # so that deleting the last event is detected too
    return event


# ----- the clock ----------------------------------------------------------------------------

def clock_events(session: Session, dossier: Dossier,
                 pending: Mapping[str, Any] | None = None) -> list[ClockEvent]:
    """The dossier's clock events, read back from its stored events (plus one not yet saved)."""
    payloads = session.exec(_CLOCK_PAYLOADS, params={"dossier_id": dossier.id}).all()
    return _clock_events_of(payloads, pending)


def _clock_events_of(payloads: Iterable[Mapping[str, Any] | None],
                     pending: Mapping[str, Any] | None = None) -> list[ClockEvent]:
    raw = [p["clock"] for p in payloads if p and "clock" in p]
    if pending:
        raw.append(pending)
    return [ClockEvent(datetime.fromisoformat(c["at"]), EventKind(c["kind"]), c.get("reason"),
                       date.fromisoformat(c["new_due"]) if c.get("new_due") else None)
            for c in raw]


def _clock(ctx: _Context, kind: EventKind, **extra: Any) -> None:
    ctx.clock = {"kind": kind.value, "at": ctx.at.astimezone(UTC).isoformat(), **extra}


def _update_clock(ctx: _Context) -> None:
    """Replay the clock and store its verdict on the dossier (due, appointment, flags)."""
    if ctx.clock is None and ctx.dossier.clock_started_at is None:
        return
    events = _clock_events_of((row.payload for row in ctx.event_rows()), ctx.clock)
    ctx.flags.extend(_apply_clock(ctx.session, ctx.dossier, ctx.spec, ctx.clock,
                                  calendar=ctx.calendar(ctx.dossier.competent_agency),
                                  events=events, policy=ctx.policy))


def _apply_clock(session: Session, dossier: Dossier, spec: ProcedureSpec,
                 pending: Mapping[str, Any] | None = None, *,
                 calendar: WorkingCalendar | None = None,
                 events: list[ClockEvent] | None = None,
                 policy: ClockPolicy | None = None) -> list[str]:
    """Replay the clock; ``calendar``, ``events`` and ``policy`` (the receiving agency's)
    are passed when the caller already has them."""
    if events is None:
        events = clock_events(session, dossier, pending)
    if not events:
        return []
    calendar = calendar or load_calendar(session, agency_code=dossier.competent_agency)
    if policy is None:
        receiving = session.get(Agency, dossier.receiving_agency)
        policy = receiving.clock_policy() if receiving else None
    state = replay(events, _limit(dossier), calendar,
                   policy=policy,
                   supplement_effect=spec.supplement_effect,
                   allowed_pause_reasons=spec.pause_reasons or None)
    dossier.clock_started_at = state.received_at
    dossier.original_due_date = state.original_due.due_date
    dossier.due_date = state.due.due_date
    dossier.due_at = state.due.due_at
    dossier.appointment_date = state.appointment
    dossier.supplement_count = len(state.supplement_requests)
    dossier.apology_count = len(state.apologies)
    dossier.ended_at = state.ended_at
    dossier.end_kind = state.end_kind.value if state.end_kind else None
    dossier.calendar_version = calendar.version
    store_report_columns(dossier, state)
    return list(state.flags)


def store_report_columns(dossier: Dossier, state: ClockState) -> None:
    """Keep what the period reports read (``engine.reports.figures``) with the clock's verdict,
    so that a report over a million dossiers compares stored columns instead of replaying."""
    dossier.ended_on = to_local(state.ended_at).date() if state.ended_at else None
    dossier.was_paused = bool(state.pauses)
    dossier.apology_on = (min(to_local(a.at).date() for a in state.apologies)
                          if state.apologies else None)
    dossier.apology_late = any(not a.in_time for a in state.apologies)
    dossier.ended_awaiting_supplement = state.ended and state.awaiting_supplement
    dossier.clock_settled_on = _clock_settled_on(state)
    dossier.first_wait_on = _first_wait_on(state)


def _clock_settled_on(state: ClockState) -> date | None:
    """From which day the stored due date is final: the day of the last supplement or pause
    event, or of the end that closed a pause (the clock extends the due date up to it) — also
    once ended, so that a report for a period ending between that day and the end trusts the
    stored due date instead of replaying. None while a wait or pause is open (also a dossier
    that ended waiting for a supplement: its clock stopped at the request), or if it never
    moved."""
    if state.awaiting_supplement or state.paused:
        return None
    moves = [instant for wait in (*state.supplement_waits, *state.pauses)
             for instant in (wait.start, wait.end) if instant is not None]
    return max(to_local(m).date() for m in moves) if moves else None


def _first_wait_on(state: ClockState) -> date | None:
    """Day of the first supplement request or pause: until then the due date was the original
    one, so a report for a period ending earlier needs no replay either."""
    starts = [wait.start for wait in (*state.supplement_waits, *state.pauses)]
    return to_local(min(starts)).date() if starts else None


def _mark_terminal_without_clock(dossier: Dossier, at: datetime) -> None:
    """A dossier withdrawn or stopped before its clock started (boundary-free, transfer not
    yet accepted) has no clock end; the reports count it as ended on the day of that action."""
    if (dossier.ended_at is None and dossier.ended_on is None
            and dossier.state in (State.WITHDRAWN.value, State.STOPPED.value)):
        dossier.ended_on = to_local(at).date()


def reproject_open_dossiers(session: Session, *, agency_code: str | None = None,
                            ) -> list[dict[str, Any]]:
    """Recompute the deadlines of open dossiers after a calendar edit.

    ``agency_code`` limits it to dossiers processed by that agency (its own days off); None
    means every open dossier (a national change). Returns what moved, for the journal. The
    dossier's event log is untouched: nothing happened *to* the dossier, the calendar changed.
    """
    query = select(Dossier).where(col(Dossier.ended_at).is_(None),
                                  col(Dossier.clock_started_at).is_not(None))
    if agency_code:
        query = query.where(Dossier.competent_agency == agency_code)
    moved = []
    for dossier in session.exec(query).all():
        before = (dossier.due_date, dossier.appointment_date)
        _apply_clock(session, dossier, spec_of(session, dossier))
        if (dossier.due_date, dossier.appointment_date) != before:
            dossier.updated_at = utcnow()
            _compare_and_set(session, dossier)  # a concurrent action wins or we do; never both
            moved.append({"code": dossier.code, "old_due": str(before[0]),
                          "new_due": str(dossier.due_date),
                          "old_appointment": str(before[1]),
                          "new_appointment": str(dossier.appointment_date)})
    return moved


def _limit(dossier: Dossier) -> TimeLimit:
    return TimeLimit(dossier.limit_amount, TimeUnit(dossier.limit_unit))


def _provisional_due(ctx: _Context, start: datetime) -> None:
    """Boundary-free dossiers: the clock starts when the competent agency receives the
    transfer; until then the appointment assumes a transfer on time (decree118 §0.2a)."""
    calendar = ctx.calendar(ctx.dossier.competent_agency)
    due = compute_due(start, _limit(ctx.dossier), calendar)
    ctx.dossier.original_due_date = ctx.dossier.due_date = due.due_date
    ctx.dossier.due_at, ctx.dossier.appointment_date = due.due_at, due.due_date


def transfer_deadline(received_at: datetime, calendar: WorkingCalendar,
                      cutoff_hour: int = 15) -> datetime:
    """Paper dossiers go to the competent agency the same working day, or the next morning
    when received after 15:00 or on a day off (ND 61 Art 18(2); ND 118 Art 18)."""
    local = to_local(received_at)
    day = local.date()
    if calendar.is_working_day(day) and local.time() <= time(cutoff_hour):  # "sau 15 giờ"
        return local_instant(day, calendar.office_hours.closes)
    next_day = calendar.next_working_day(day)
    return local_instant(next_day, calendar.office_hours.sessions[0][1])


# ----- per-action effects -------------------------------------------------------------------

def _need_reason(ctx: _Context, what: str) -> None:
    if not ctx.reason:
        raise InvalidInput(f"phải nêu lý do {what}", field="reason")


def _form_day(dossier: Dossier, at: datetime) -> date:
    return to_local(dossier.received_at or at).date()


def _issue(session: Session, dossier: Dossier | None, form: str, actor: Actor, at: datetime,
           agency_code: str, *, form_day: date, payload: dict[str, Any],
           guidance_id: int | None = None) -> IssuedDocument:
    """Record an issued form with its number now (guidance at the counter: no dossier)."""
    document = _new_document(session, dossier, form, actor, at, agency_code, form_day=form_day,
                             payload=payload, guidance_id=guidance_id)
    session.add(document)
    session.flush()
    return document


def _new_document(session: Session, dossier: Dossier | None, form: str, actor: Actor,
                  at: datetime, agency_code: str, *, form_day: date, payload: dict[str, Any],
                  guidance_id: int | None = None) -> IssuedDocument:
    """An issued form with its number; the form set follows the receipt date."""
    year = to_local(at).year
    number = codes.document_number(session, agency_code=agency_code, form=form, year=year)
    return IssuedDocument(
        dossier_id=dossier.id if dossier else None, guidance_id=guidance_id, form=form,
        form_set="2025" if form_day >= FORM_SET_2025_FROM else "2018",
        number=f"{number:02d}/{FORM_SYMBOLS.get(form, form.upper())}", issued_at=at,
        issued_by=actor.id, payload=payload,
    )


def _doc(ctx: _Context, form: str, **payload: Any) -> None:
    """Issue a form with this action (written with its event by :func:`_write`)."""
    ctx.documents.append(_new_document(ctx.session, ctx.dossier, form, ctx.actor, ctx.at,
                                       ctx.actor.agency, form_day=_form_day(ctx.dossier, ctx.at),
                                       payload=payload))


def _open_step(ctx: _Context, step_id: str) -> None:
    """Start a hand-off row for ``step_id`` with its own deadline (the step budget)."""
    spec_step = ctx.spec.step(step_id)
    rows = ctx.step_rows()
    unit_agency = (ctx.dossier.competent_agency if spec_step.unit != COUNTER_UNIT
                   # the result goes back through the returning point's counter
                   else ctx.dossier.returning_agency if ctx.action is A.FINISH
                   else ctx.dossier.receiving_agency)
    calendar = ctx.calendar(unit_agency)
    due = compute_due(ctx.at, spec_step.budget, calendar).due_at
    if ctx.action is A.FINISH and ctx.dossier.due_at is not None:
        # Handing back waits for the applicant, who comes on the appointment: the counter is
        # not late for a result collected by then (domain T12, Art 20(3)).
        due = max(due, ctx.dossier.due_at)
    seq = len(rows) + 1
    rows.append(Hop(seq, spec_step.id, due, values={  # written by _write
        "seq": seq, "step_id": spec_step.id, "step_name": spec_step.name,
        "unit": unit_agency if spec_step.unit in (COUNTER_UNIT, "competent") else spec_step.unit,
        "role": spec_step.role, "handed_by": ctx.actor.id, "started_at": ctx.at, "due_at": due,
    }))
    ctx.dossier.current_step = spec_step.id


def _close_step(ctx: _Context) -> None:
    """Finish the open hand-off row and classify it against its own deadline (TT 01 Art 13(2))."""
    open_rows = [r for r in ctx.step_rows() if r.open]
    if not open_rows:
        return
    row = open_rows[-1]
    row.open = False
    row.values.update(finished_at=ctx.at, finished_by=ctx.actor.id, outcome=ctx.action.value)
    if row.due_at is not None:
        budgets = {s.id: s.budget.unit for s in ctx.spec.steps}
        hours = budgets.get(row.step_id) is TimeUnit.WORKING_HOURS
        done = to_local(ctx.at) if hours else to_local(ctx.at).date()
        due = to_local(row.due_at) if hours else to_local(row.due_at).date()
        row.values["classification"] = ("early" if done < due else "on_time" if done == due
                                        else "late")


def _processing_steps(ctx: _Context) -> list[str]:
    return [s.id for s in ctx.spec.processing_steps]


def _counter_step(ctx: _Context, last: bool) -> str | None:
    counter = [s.id for s in ctx.spec.steps if s.unit == COUNTER_UNIT]
    if not counter:
        return None
    return counter[-1] if last else counter[0]


def _on_submit(ctx: _Context) -> None:
    ctx.dossier.submitted_at = ctx.dossier.submitted_at or ctx.at


def _on_receive(ctx: _Context) -> None:
    dossier = ctx.dossier
    # The version in force on the *receipt* date applies (T2), not the one of an earlier
    # online submission (status 1): re-resolve it when an online dossier is received.
    try:
        spec = ctx.spec if ctx.spec_day == to_local(ctx.at).date() else version_in_force(
            ctx.session, code=dossier.procedure_code, on=to_local(ctx.at).date())
    except LookupError as exc:
        raise InvalidInput(str(exc), field="procedure") from exc
    if spec.effective_from != dossier.procedure_version:
        ctx.spec = spec
        dossier.procedure_version, dossier.procedure_name = spec.effective_from, spec.name
        dossier.limit_amount, dossier.limit_unit = spec.limit.amount, spec.limit.unit.value
        dossier.supplement_effect = spec.supplement_effect.value
    missing = missing_components(ctx.spec, dossier.components)
    if missing:
        raise InvalidInput("hồ sơ chưa đủ thành phần; hãy hướng dẫn bổ sung (Mẫu 02): "
                           + "; ".join(missing), field="components", missing=missing)
    dossier.received_at = ctx.at
    receiving_calendar = ctx.calendar(dossier.receiving_agency)
    dossier.transfer_due_at = transfer_deadline(ctx.at, receiving_calendar)
    year = to_local(ctx.at).year
    dossier.register_year = year
    dossier.register_number = codes.register_number(ctx.session,
                                                    agency_code=dossier.receiving_agency,
                                                    year=year)
    if dossier.boundary_free:
        _provisional_due(ctx, dossier.transfer_due_at)
    else:
        _clock(ctx, EventKind.RECEIVED)
    first = _counter_step(ctx, last=False)
    if first:
        _open_step(ctx, first)
    _doc(ctx, "receipt", copies=["Lưu", "Giao khách hàng"])


def _on_refuse_at_reception(ctx: _Context) -> None:
    _need_reason(ctx, "từ chối tiếp nhận")
    _doc(ctx, "refusal", reason=ctx.reason, at_reception=True)


def _on_transfer(ctx: _Context) -> None:
    dossier = ctx.dossier
    dossier.transferred_at = ctx.at
    if dossier.transfer_due_at and ctx.at > dossier.transfer_due_at:
        ctx.flags.append("transfer_late")
    _close_step(ctx)
    steps = _processing_steps(ctx)
    if steps:
        _open_step(ctx, steps[0])


def _on_accept_transfer(ctx: _Context) -> None:
    if not ctx.dossier.boundary_free:
        raise InvalidInput("chỉ hồ sơ tiếp nhận không phụ thuộc địa giới hành chính mới cần "
                           "xác nhận nhận hồ sơ chuyển đến", field="action")
    if ctx.dossier.clock_started_at is not None:
        raise InvalidInput("hồ sơ đã được xác nhận nhận trước đó", field="action")
    _clock(ctx, EventKind.RECEIVED)


def _on_assign(ctx: _Context) -> None:
    assignee = ctx.payload.get("assignee")
    if not assignee:
        raise InvalidInput("phải chọn cán bộ được phân công", field="assignee")
    ctx.dossier.assignee = assignee
    rows = [r for r in ctx.step_rows() if r.open]
    if rows:
        rows[-1].values["assignee"] = assignee


def _on_forward(ctx: _Context) -> None:
    steps = _processing_steps(ctx)
    current = ctx.dossier.current_step
    if current not in steps or steps.index(current) + 1 >= len(steps):
        raise InvalidInput("đây là bước xử lý cuối cùng; hãy hoàn thành (finish)",
                           field="action")
    _close_step(ctx)
    ctx.dossier.assignee = ctx.payload.get("assignee")
    _open_step(ctx, steps[steps.index(current) + 1])


def _on_send_back(ctx: _Context) -> None:
    _need_reason(ctx, "trả lại bước trước")
    steps = _processing_steps(ctx)
    current = ctx.dossier.current_step
    if current not in steps or steps.index(current) == 0:
        raise InvalidInput("đây là bước xử lý đầu tiên, không thể trả lại", field="action")
    _close_step(ctx)
    ctx.dossier.assignee = None
    _open_step(ctx, steps[steps.index(current) - 1])


def _on_consult(ctx: _Context) -> None:
    if not ctx.payload.get("agency") or not ctx.payload.get("reply_by"):
        raise InvalidInput("phải ghi cơ quan được lấy ý kiến và thời hạn trả lời (reply_by)",
                           field="payload")


def _on_request_supplement(ctx: _Context) -> None:
    _need_reason(ctx, "yêu cầu bổ sung")
    missing = ctx.payload.get("missing")
    if not missing:
        raise InvalidInput("phải liệt kê đầy đủ, một lần các nội dung cần bổ sung",
                           field="missing")
    if ctx.dossier.received_at is not None and ctx.dossier.clock_started_at is not None:
        _clock(ctx, EventKind.SUPPLEMENT_REQUESTED)
    _close_step(ctx)
    _doc(ctx, "supplement_request", missing=missing, reason=ctx.reason)


def _on_receive_supplement(ctx: _Context) -> None:
    dossier = ctx.dossier
    supplied = ctx.payload.get("components")
    if supplied:  # the documents handed in complete the dossier (replacing same-named ones)
        if not isinstance(supplied, list) or not all(
                isinstance(c, Mapping) and c.get("name") for c in supplied):
            raise InvalidInput("components: danh sách thành phần, mỗi mục có 'name'",
                               field="components")
        merged = {c["name"]: c for c in dossier.components}
        merged.update({c["name"]: dict(c) for c in supplied})
        dossier.components = list(merged.values())
    if dossier.received_at is None:  # pre-receipt online guidance: back to "submitted"
        return
    if dossier.clock_started_at is not None:
        _clock(ctx, EventKind.SUPPLEMENT_RECEIVED)
    _open_step(ctx, dossier.current_step or _processing_steps(ctx)[0])


def _on_request_payment(ctx: _Context) -> None:
    if not ctx.payload.get("amount_vnd") and not ctx.reason:
        raise InvalidInput("phải ghi khoản phí, lệ phí hoặc nghĩa vụ tài chính phải nộp",
                           field="amount_vnd")


def _on_confirm_payment(ctx: _Context) -> None:
    return None


def _on_pause(ctx: _Context) -> None:
    _need_reason(ctx, "tạm dừng (căn cứ pháp lý)")
    if ctx.reason not in ctx.spec.pause_reasons:
        raise InvalidInput(f"lý do tạm dừng không có trong danh mục của thủ tục: "
                           f"{', '.join(ctx.spec.pause_reasons) or '(không có)'}",
                           field="reason", allowed=list(ctx.spec.pause_reasons))
    _clock(ctx, EventKind.PAUSED, reason=ctx.reason)


def _on_resume(ctx: _Context) -> None:
    _clock(ctx, EventKind.RESUMED)


def _on_apologise(ctx: _Context) -> None:
    _need_reason(ctx, "xin lỗi, gia hạn")
    if ctx.dossier.apology_count >= 1:
        raise InvalidInput("chỉ được xin lỗi và hẹn lại ngày trả kết quả một lần",
                           field="action")
    try:
        new_due = date.fromisoformat(str(ctx.payload.get("new_due", ""))[:10])
    except ValueError:
        raise InvalidInput("phải ghi ngày hẹn trả mới (new_due, YYYY-MM-DD)",
                           field="new_due") from None
    old = ctx.dossier.appointment_date
    if old is not None and new_due <= old:
        raise InvalidInput(f"ngày hẹn mới ({new_due:%d/%m/%Y}) phải sau ngày hẹn hiện tại "
                           f"({old:%d/%m/%Y})", field="new_due")
    _clock(ctx, EventKind.APOLOGY, reason=ctx.reason, new_due=new_due.isoformat())
    _doc(ctx, "apology", reason=ctx.reason, previous_appointment=str(old),
         new_due=new_due.isoformat())


def _on_refuse(ctx: _Context) -> None:
    _need_reason(ctx, "từ chối giải quyết")
    _clock(ctx, EventKind.REFUSED)
    _close_step(ctx)
    ctx.dossier.current_step = None
    _doc(ctx, "refusal", reason=ctx.reason, at_reception=False)


def _on_stop(ctx: _Context) -> None:
    _end(ctx, EventKind.STOPPED)
    if _form_day(ctx.dossier, ctx.at) >= FORM_SET_2025_FROM:  # Mẫu 05 exists only since 2025
        _doc(ctx, "stop_notice", reason=ctx.reason)


def _on_withdraw(ctx: _Context) -> None:
    _end(ctx, EventKind.WITHDRAWN)


def _end(ctx: _Context, kind: EventKind) -> None:
    if ctx.dossier.clock_started_at is not None:
        _clock(ctx, kind)
    _close_step(ctx)
    ctx.dossier.current_step = None


def _on_finish(ctx: _Context) -> None:
    steps = _processing_steps(ctx)
    if ctx.dossier.current_step in steps and steps.index(ctx.dossier.current_step) < len(steps) - 1:
        ctx.flags.append("finished_before_last_step")
    if ctx.dossier.clock_started_at is None:
        raise InvalidInput("hồ sơ chưa được cơ quan giải quyết xác nhận nhận (accept_transfer)",
                           field="action")
    _clock(ctx, EventKind.RESULT_READY)
    _close_step(ctx)
    last = _counter_step(ctx, last=True)
    if last:
        _open_step(ctx, last)
    else:
        ctx.dossier.current_step = None


def _on_return_result(ctx: _Context) -> None:
    ctx.dossier.returned_at = ctx.at
    ctx.dossier.collected_by = ctx.payload.get("collected_by") or ctx.dossier.applicant_name
    # A corrected result handed back again is not a second end of processing (T14).
    if not any(e.kind is EventKind.RETURNED
               for e in _clock_events_of(row.payload for row in ctx.event_rows())):
        _clock(ctx, EventKind.RETURNED)
    _close_step(ctx)
    ctx.dossier.current_step = None


def _on_correct_result(ctx: _Context) -> None:
    """T14: a returned result with an error is corrected and handed back again; the clock
    (and so the on-time verdict) is not reopened."""
    _need_reason(ctx, "đính chính")
    ctx.flags.append("result_corrected")


EFFECTS = {
    A.SUBMIT: _on_submit, A.RECEIVE: _on_receive, A.REFUSE_AT_RECEPTION: _on_refuse_at_reception,
    A.TRANSFER: _on_transfer, A.ACCEPT_TRANSFER: _on_accept_transfer, A.ASSIGN: _on_assign,
    A.FORWARD: _on_forward, A.SEND_BACK: _on_send_back, A.CONSULT: _on_consult,
    A.REQUEST_SUPPLEMENT: _on_request_supplement, A.RECEIVE_SUPPLEMENT: _on_receive_supplement,
    A.REQUEST_PAYMENT: _on_request_payment, A.CONFIRM_PAYMENT: _on_confirm_payment,
    A.PAUSE: _on_pause, A.RESUME: _on_resume, A.APOLOGISE: _on_apologise, A.REFUSE: _on_refuse,
    A.STOP: _on_stop, A.WITHDRAW: _on_withdraw, A.FINISH: _on_finish,
    A.RETURN_RESULT: _on_return_result, A.CORRECT_RESULT: _on_correct_result,
}
