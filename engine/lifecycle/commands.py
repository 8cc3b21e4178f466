"""The commands of the lifecycle, each one all-or-nothing unit of work in the caller's
transaction: receive a dossier (Mẫu 01) or register an online submission, refuse one at the
counter (Mẫu 03), guide an applicant with an incomplete dossier (Mẫu 02), and act on an
existing dossier (every other action).

A command normalises its input (NFC, trimmed), answers an idempotent repeat with its first
result, reads what the action needs in as few statements as it can, and hands over to
``engine.lifecycle.unit_of_work.perform``.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from engine.agencies import competent_agencies, default_competent, routing_errors
from engine.forms import Form
from engine.lifecycle import codes, idempotency, postal
from engine.lifecycle.documents import issue_now
from engine.lifecycle.errors import Conflict, InvalidInput, contention_as_conflict
from engine.lifecycle.inputs import Actor, Applicant, checked_instant
from engine.lifecycle.models import Dossier, Guidance, IssuedDocument, utcnow
from engine.lifecycle.policy import authorize_guidance
from engine.lifecycle.queries import agency, get_dossier, load_agencies
from engine.lifecycle.rows import new_row
from engine.lifecycle.states import Action, Channel, State
from engine.lifecycle.unit_of_work import ActionResult, perform, replay_or_claim
from engine.lifecycle.workset import read_receipt_set, read_workset
from engine.procedures import ProcedureSpec, version_in_force
from engine.text import fold, nfc
from engine.timezone import to_local

A = Action


def _clean(value: Any) -> Any:
    """What people typed: NFC (NFD looks identical but breaks search and PDF copy), trimmed."""
    return nfc(value, strip=True)


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
    postal_delivered_on: date | str | None = None,
    recipient_address: str | None = None,
    files: list[Mapping[str, Any]] | None = None,
) -> ActionResult:
    """Receive a complete dossier at the counter (Mẫu 01), or register an online submission.

    ``online=True`` records an online submission (status 1) to be checked and received later
    with the ``receive`` action. The procedure version in force on the receipt date applies for
    the dossier's whole life. ``at`` is the server's clock unless the caller allowed an
    earlier instant (``engine.lifecycle.backdating``) and gives ``backdate_reason``.
    A dossier sent by post gives the day the post office delivered it (``postal_delivered_on``,
    ``engine.lifecycle.postal``); ``recipient_address`` is where a result by post goes when
    it is not the applicant's address. ``files``: the journal entries of the files submitted
    online (``engine.files.journal.payload_entries``); the caller records their rows.
    """
    action = A.SUBMIT if online else A.RECEIVE
    recipient_address = _clean(recipient_address) or None
    applicant = Applicant(**_clean(asdict(applicant)))
    components = [_clean(dict(c)) for c in components]
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency, route=action.value,
        procedure=procedure_code, applicant=asdict(applicant), components=components,
        channel=Channel(channel).value, competent_agency=competent_agency,
        returning_agency=returning_agency, return_method=return_method, sets_count=sets_count,
        **_postal_scope(postal_delivered_on, recipient_address))
    previous = replay_or_claim(session, idem)
    if previous:
        return previous
    at = checked_instant(at)
    # An online submission came through the portal, never over the counter.
    channel = (Channel.ONLINE if online and Channel(channel) is Channel.COUNTER
               else Channel(channel))
    delivered = postal.delivered_at_receipt(postal_delivered_on, channel=channel, at=at)
    # The three points of a dossier, usually two agencies, read in one statement (held here:
    # the session keeps only weak references).
    loaded = load_agencies(session, actor.agency, competent_agency, returning_agency)
    receiving = agency(session, actor.agency, "cơ quan tiếp nhận")
    chosen_competent = competent_agency is not None
    competent_agency = competent_agency or default_competent(
        session, receiving_code=receiving.code, procedure_code=procedure_code,
        hold=loaded) or actor.agency
    competent = agency(session, competent_agency, "cơ quan giải quyết")
    returning = agency(session, returning_agency or actor.agency, "nơi trả kết quả")
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
    dossier = new_row(
        Dossier, code="", secret=secrets.token_urlsafe(12), procedure_code=spec.code,
        procedure_version=spec.effective_from, procedure_name=spec.name,
        channel=channel.value, state=State.NEW.value, status_code=0,
        receiving_agency=receiving.code, competent_agency=competent.code,
        returning_agency=returning.code,
        boundary_free=competent.one_stop_code not in (None, receiving.code)
        and competent.code != receiving.code,
        applicant_name=applicant.name, applicant_id_number=applicant.id_number,
        applicant_address=applicant.address, applicant_phone=applicant.phone,
        applicant_email=applicant.email, components=components, sets_count=sets_count,
        return_method=return_method, submitted_at=submitted_at or (at if online else None),
        postal_delivered_on=delivered, recipient_address=recipient_address,
        limit_amount=spec.limit.amount, limit_unit=spec.limit.unit.value,
        supplement_effect=spec.supplement_effect.value, **_timestamps(),
    )
    dossier.code = codes.new_dossier_code(session, agency_code=receiving.code,
                                          receipt_day=to_local(at).date(),
                                          scheme=receiving.code_scheme)
    dossier.search_text = _search_text(dossier.code, applicant.name, applicant.id_number,
                                       applicant.phone)
    payload = {"postal_delivered_on": delivered.isoformat()} if delivered else {}
    if files:  # the files brought with it, named in its event (``engine.files.journal``)
        payload["files"] = [dict(f) for f in files]
    return perform(session, dossier, spec, action, actor, at=at, reason=None, payload=payload,
                   idem=idem, request_id=request_id, backdate_reason=backdate_reason,
                   calendars=calendars,
                   # the receiving agency is at hand: its settings are the dossier's
                   # (projection.clock_policy_for)
                   policy=receiving.clock_policy(), spec_day=to_local(at).date(),
                   new=True)


def _postal_scope(delivered: date | str | None, address: str | None) -> dict[str, Any]:
    """The postal facts of a receipt in its idempotency scope (absent when not given, so the
    keys of counter receipts are what they were)."""
    given = {"postal_delivered_on": str(delivered) if delivered else None,
             "recipient_address": address}
    return {k: v for k, v in given.items() if v}


def refuse_at_reception(
    session: Session, *, actor: Actor, procedure_code: str, applicant: Applicant, reason: str,
    at: datetime | None = None, idempotency_key: str | None = None,
    request_id: str | None = None,
) -> ActionResult:
    """Refuse a dossier at the counter with Form 03 (not eligible, wrong authority …).

    The refusal gets a dossier code too, so it is counted and a number is never reused.
    """
    if not _clean(reason or ""):
        raise InvalidInput("phải nêu rõ lý do từ chối tiếp nhận", field="reason")
    applicant = Applicant(**_clean(asdict(applicant)))
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency,
        route=A.REFUSE_AT_RECEPTION.value, procedure=procedure_code,
        applicant=asdict(applicant), reason=_clean(reason))
    previous = replay_or_claim(session, idem)
    if previous:
        return previous
    at = checked_instant(at)
    receiving = agency(session, actor.agency, "cơ quan tiếp nhận")
    spec = _version_on(session, procedure_code, at)
    dossier = new_row(
        Dossier,
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
    return perform(session, dossier, spec, A.REFUSE_AT_RECEPTION, actor, at=at,
                   reason=_clean(reason), payload={}, idem=idem,
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
        procedure=procedure_code, applicant_name=_clean(applicant_name),
        applicant_phone=_clean(applicant_phone), missing=_clean(list(missing)),
        reason=_clean(reason))
    record = idempotency.find(session, idem) if idem else None
    if record is not None:
        existing = session.get(Guidance, record.guidance_id)
        doc = session.exec(select(IssuedDocument)
                           .where(IssuedDocument.guidance_id == existing.id)).one()
        return existing, doc
    authorize_guidance(actor)
    items = [_clean(m) if isinstance(m, Mapping) else {"name": _clean(m)} for m in missing]
    if not items:
        raise InvalidInput("phải liệt kê đầy đủ các thành phần cần bổ sung", field="missing")
    if not _clean(reason or ""):
        raise InvalidInput("phải nêu lý do", field="reason")
    at = checked_instant(at)
    unit = agency(session, actor.agency, "cơ quan tiếp nhận")
    spec = _version_on(session, procedure_code, at)
    record = Guidance(agency_code=unit.code, procedure_code=spec.code, at=at,
                      actor_id=actor.id, applicant_name=_clean(applicant_name),
                      applicant_phone=_clean(applicant_phone), missing=items,
                      reason=_clean(reason), request_id=request_id,
                      idempotency_key=idem.scope_hash if idem else None)
    if idem:
        idempotency.claim(session, idem)  # a concurrent repeat waits here, then replays
    session.add(record)
    with contention_as_conflict():  # the transaction's first write (SQLite's lock)
        session.flush()
    if idem:
        idempotency.settle(session, idem, guidance_id=record.id)
    document = issue_now(session, Form.SUPPLEMENT_REQUEST, actor, at, unit.code,
                         day=to_local(at).date(),
                         payload={"procedure": spec.name, "applicant": record.applicant_name,
                                  "missing": items, "reason": record.reason},
                         guidance_id=record.id)
    return record, document


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
    """Take ``action`` on the dossier ``code`` (``unit_of_work`` says what happens then).

    ``at`` defaults to the server's clock; an earlier instant given with ``backdate_reason``
    is recorded as such (``engine.lifecycle.backdating`` says who may)."""
    try:
        action = Action(action)
    except ValueError:
        raise InvalidInput(f"hành động không tồn tại: {action!r}", field="action",
                           allowed=[a.value for a in Action]) from None
    idem = idempotency.scoped(
        idempotency_key, username=actor.id, agency=actor.agency, route="act",
        action=action.value, code=code, reason=_clean(reason) if reason else None,
        payload=_clean(dict(payload or {})), expected_version=expected_version)
    previous = replay_or_claim(session, idem)  # before the row lock
    if previous:
        return previous
    dossier = get_dossier(session, code, lock=True)
    if expected_version is not None and expected_version != dossier.version:
        raise Conflict(f"hồ sơ {code} đã thay đổi (phiên bản {dossier.version}, "
                       f"bạn đang xem {expected_version}); hãy tải lại", code=code,
                       current_version=dossier.version)
    try:
        work = read_workset(session, dossier)
    except LookupError as exc:  # the dossier's procedure version was deleted
        raise InvalidInput(str(exc), field="procedure") from exc
    return perform(session, dossier, work.spec, action, actor, at=checked_instant(at),
                   reason=_clean(reason) if reason else None,
                   payload=_clean(dict(payload or {})),
                   idem=idem, request_id=request_id, backdate_reason=backdate_reason,
                   calendars=work.calendars, policy=work.policy, hops=work.hops,
                   events=work.events)
