"""Dossiers: receive at the counter, the work queue, one dossier, and every lifecycle action.

Agency scoping is applied in SQL: a clerk sees the dossiers received or returned at the
clerk's unit, officers and leaders those their agency processes, auditors those of the agencies
granted to them; administrators see none (no personal data). A dossier outside the caller's
scope answers 404, as if it did not exist.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, Field, field_validator, model_validator
from sqlalchemy import ColumnElement, and_, func, literal, or_
from sqlmodel import Session, col, select

from engine.calendar import national_calendar
from engine.lifecycle import backdating, idempotency
from engine.lifecycle import service as lifecycle
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import TERMINAL, Action, Channel, State
from engine.text import fold, nfc
from engine.timezone import now_local
from engine.users import Role, User, granted_agencies
from service.api.readjournal import journal_read
from service.deps import CurrentUser, SessionDep, actor_of, request_id
from service.problems import Problem
from service.serialize import dossier_detail, dossier_summary
from service.validation import (
    StrictModel,
    check_birth_date,
    check_citizen_id,
    check_phone,
)

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])


# ----- input models -----------------------------------------------------------------------

class NfcModel(StrictModel):
    """Every string field is NFC-normalised and trimmed at the door; unknown fields, control
    characters and bidirectional overrides are refused (``StrictModel``); only the reasons may
    span lines."""

    MULTILINE = frozenset({"reason", "backdate_reason"})

    @model_validator(mode="before")
    @classmethod
    def _nfc(cls, data: Any) -> Any:
        def norm(value: Any) -> Any:
            if isinstance(value, str):
                return nfc(value).strip()
            if isinstance(value, dict):
                return {k: norm(v) for k, v in value.items()}
            if isinstance(value, list):
                return [norm(v) for v in value]
            return value

        return norm(data)


class ApplicantIn(NfcModel):
    name: str = Field(min_length=1, max_length=255, description="Họ và tên")
    id_number: str | None = Field(None, max_length=20, description="Số định danh cá nhân (CCCD)")
    birth_date: date | None = None
    sex: Literal["nam", "nữ"] | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value) if value else None

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date | None) -> date | None:
        return check_birth_date(value, now_local().date()) if value else None


class ComponentIn(NfcModel):
    name: str = Field(min_length=1, max_length=500)
    originals: int = Field(0, ge=0, le=100)
    copies: int = Field(0, ge=0, le=100)


class ReceiveIn(NfcModel):
    procedure: str = Field(pattern=r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$", examples=["1.004873"])
    applicant: ApplicantIn
    components: list[ComponentIn] = Field(default_factory=list, max_length=100)
    channel: Channel = Channel.COUNTER
    competent_agency: str | None = Field(None, max_length=64)
    returning_agency: str | None = Field(None, max_length=64)
    return_method: Literal["counter", "post", "online"] = "counter"
    sets_count: int = Field(1, ge=1, le=100)
    online: bool = Field(False, description="Ghi nhận hồ sơ nộp trực tuyến (chưa tiếp nhận)")
    received_at: AwareDatetime | None = Field(
        None, description="Chỉ khi ghi lùi hồ sơ giấy (cần quyền, kèm backdate_reason): thời "
                          "điểm tiếp nhận thực tế. Mặc định: giờ của máy chủ.")
    backdate_reason: str | None = Field(None, max_length=500,
                                        description="Lý do ghi lùi thời điểm")


class RefusalIn(NfcModel):
    procedure: str = Field(pattern=r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$")
    applicant: ApplicantIn
    reason: str = Field(min_length=1, max_length=2000)


class GuidanceIn(NfcModel):
    procedure: str = Field(pattern=r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$")
    applicant_name: str = Field(min_length=1, max_length=255)
    applicant_phone: str | None = Field(None, max_length=20)
    missing: list[ComponentIn] = Field(min_length=1, max_length=100)
    reason: str = Field(min_length=1, max_length=2000)


class ActionIn(NfcModel):
    reason: str | None = Field(None, max_length=2000)
    payload: dict[str, Any] = Field(default_factory=dict)
    expected_version: int | None = Field(None, ge=1)
    at: AwareDatetime | None = Field(
        None, description="Chỉ khi ghi lùi hồ sơ giấy (cần quyền, kèm backdate_reason): thời "
                          "điểm thực tế. Mặc định và thông thường: giờ của máy chủ.")
    backdate_reason: str | None = Field(None, max_length=500,
                                        description="Lý do ghi lùi thời điểm")


IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


# ----- scoping ----------------------------------------------------------------------------

def scope(session: Session, user: User) -> ColumnElement[bool]:
    """The SQL condition of the dossiers ``user`` may see."""
    if user.role == Role.CLERK:
        return or_(col(Dossier.receiving_agency) == user.agency_code,
                   col(Dossier.returning_agency) == user.agency_code)
    if user.role in (Role.OFFICER, Role.LEADER):
        return col(Dossier.competent_agency) == user.agency_code
    if user.role == Role.AUDITOR:
        grants = granted_agencies(session, user.username)
        return or_(col(Dossier.receiving_agency).in_(grants),
                   col(Dossier.competent_agency).in_(grants))
    raise Problem(403, "forbidden", "Quản trị hệ thống không xem dữ liệu hồ sơ cá nhân.")


def visible_dossier(session: Session, user: User, code: str) -> Dossier:
    dossier = session.exec(select(Dossier).where(Dossier.code == code,
                                                 scope(session, user))).first()
    if dossier is None:
        raise Problem(404, "dossier-not-found", f"Không tìm thấy hồ sơ {code}.")
    return dossier


def server_instant(user: User, at: datetime | None,
                   reason: str | None) -> tuple[datetime | None, str | None]:
    """The instant of an action taken through the API or the pages: the server's clock
    (``None``), unless ``at`` asks to record an earlier one — a permission of named roles,
    within a window, with a reason (``engine.lifecycle.backdating``)."""
    if at is None:
        if reason:
            raise Problem(422, "validation", "Chỉ nêu lý do ghi lùi khi có thời điểm ghi lùi.",
                          errors=[{"field": "backdate_reason", "message": "thừa"}])
        return None, None
    checked = backdating.check_backdate(role=user.role, at=at, now=datetime.now(UTC),
                                        reason=reason, policy=backdating.BackdatePolicy.from_env())
    return at, checked


def _writer(user: User) -> None:
    if user.role in (Role.AUDITOR, Role.ADMIN):
        raise Problem(403, "forbidden", "Vai trò này chỉ được xem, không được thao tác hồ sơ.")


# ----- urgency ----------------------------------------------------------------------------

def urgency(dossier: Dossier, today: date) -> str | None:
    """Badge for the inbox: overdue, due today, due within one working day, apology due."""
    if dossier.state in {s.value for s in TERMINAL} or dossier.ended_at or not dossier.due_date:
        return None
    if dossier.due_date < today:
        return "overdue"
    if dossier.due_date == today:
        return "due_today"
    calendar = national_calendar()
    if calendar.previous_working_day(dossier.due_date) <= today:
        return "apology_due" if dossier.apology_count == 0 else "due_soon"
    return None


# ----- routes -----------------------------------------------------------------------------

@router.post("", status_code=201, summary="Tiếp nhận hồ sơ tại quầy (Mẫu 01)")
def receive(body: ReceiveIn, request: Request, response: Response, session: SessionDep,
            user: CurrentUser, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    _writer(user)
    warnings: list[str] = []
    applicant = body.applicant
    id_number = applicant.id_number
    if id_number:
        try:
            checked = check_citizen_id(id_number, birth_date=applicant.birth_date,
                                       sex=applicant.sex)
        except ValueError as exc:
            raise Problem(422, "validation", str(exc),
                          errors=[{"field": "applicant.id_number", "message": str(exc)}]) from None
        id_number, warnings = checked.number, checked.warnings
    at, backdate_reason = server_instant(user, body.received_at, body.backdate_reason)

    def receive_once() -> lifecycle.ActionResult:
        result = lifecycle.receive(
            session, actor=actor_of(user), procedure_code=body.procedure,
            applicant=lifecycle.Applicant(name=applicant.name, id_number=id_number,
                                          address=applicant.address, phone=applicant.phone,
                                          email=applicant.email),
            components=[c.model_dump() for c in body.components], channel=body.channel,
            competent_agency=body.competent_agency, returning_agency=body.returning_agency,
            return_method=body.return_method, sets_count=body.sets_count, online=body.online,
            at=at, backdate_reason=backdate_reason,
            idempotency_key=idempotency_key, request_id=request_id(request))
        session.commit()
        return result

    result = idempotency.retrying(session, receive_once)
    dossier = result.dossier
    if result.replayed:
        response.status_code = 200
    response.headers["Location"] = f"/api/v1/dossiers/{dossier.code}"
    explanation = None
    if dossier.received_at is not None and dossier.due_date is not None:
        explanation = _explain_due(session, dossier)
    return {"code": dossier.code, "secret": dossier.secret, "explanation": explanation,
            "appointment": dossier.appointment_date.isoformat()
            if dossier.appointment_date else None,
            "due": dossier.due_date.isoformat() if dossier.due_date else None,
            "warnings": warnings, "replayed": result.replayed,
            "dossier": dossier_detail(session, dossier)}


def _explain_due(session: Session, dossier: Dossier) -> dict[str, Any]:
    """Why the appointment falls on that day (which days were skipped), for the counter."""
    from engine.agencies import Agency
    from engine.calendar.store import load_calendar
    from engine.deadline import TimeLimit, TimeUnit, compute_due

    calendar = load_calendar(session, agency_code=dossier.competent_agency)
    receiving = session.get(Agency, dossier.receiving_agency)
    start = dossier.clock_started_at or dossier.transfer_due_at or dossier.received_at
    due = compute_due(start, TimeLimit(dossier.limit_amount, TimeUnit(dossier.limit_unit)),
                      calendar, receiving.clock_policy() if receiving else None)
    return due.explanation()


@router.post("/refusals", status_code=201, summary="Từ chối tiếp nhận (Mẫu 03)")
def refuse(body: RefusalIn, request: Request, session: SessionDep, user: CurrentUser,
           idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    _writer(user)

    def refuse_once() -> lifecycle.ActionResult:
        result = lifecycle.refuse_at_reception(
            session, actor=actor_of(user), procedure_code=body.procedure,
            applicant=lifecycle.Applicant(name=body.applicant.name,
                                          id_number=body.applicant.id_number,
                                          address=body.applicant.address,
                                          phone=body.applicant.phone,
                                          email=body.applicant.email),
            reason=body.reason, idempotency_key=idempotency_key, request_id=request_id(request))
        session.commit()
        return result

    result = idempotency.retrying(session, refuse_once)
    return dossier_detail(session, result.dossier)


@router.post("/guidance", status_code=201, summary="Hướng dẫn bổ sung tại quầy (Mẫu 02)")
def guidance(body: GuidanceIn, request: Request, session: SessionDep, user: CurrentUser,
             idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    _writer(user)

    def guide_once():
        answer = lifecycle.guide(
            session, actor=actor_of(user), procedure_code=body.procedure,
            applicant_name=body.applicant_name, applicant_phone=body.applicant_phone,
            missing=[m.model_dump() for m in body.missing], reason=body.reason,
            idempotency_key=idempotency_key, request_id=request_id(request))
        session.commit()
        return answer

    record, document = idempotency.retrying(session, guide_once)
    return {"id": record.id, "document": {"id": document.id, "form": document.form,
                                          "number": document.number,
                                          "form_set": document.form_set}}


def _encode_cursor(due: date | None, dossier_id: int) -> str:
    raw = f"{(due or date.max).isoformat()}|{dossier_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[date, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, dossier_id = raw.split("|")
        return date.fromisoformat(due), int(dossier_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(422, "validation", "Tham số cursor không hợp lệ.",
                      errors=[{"field": "cursor", "message": "không hợp lệ"}]) from None


@router.get("", summary="Danh sách hồ sơ theo mức độ khẩn")
def queue(
    session: SessionDep, user: CurrentUser,
    state: Annotated[list[State] | None, Query()] = None,
    procedure: Annotated[str | None, Query(max_length=32)] = None,
    due_before: date | None = None,
    due_after: date | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    include_closed: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> dict[str, Any]:
    """Ordered by urgency (due date first, no due date last), then by id; cursor pagination."""
    due_key = func.coalesce(col(Dossier.due_date), literal(date.max))
    query = select(Dossier).where(scope(session, user))
    today = now_local().date()
    if state:
        query = query.where(col(Dossier.state).in_([s.value for s in state]))
    elif not include_closed:
        query = query.where(col(Dossier.state).not_in([s.value for s in TERMINAL]))
    if procedure:
        query = query.where(Dossier.procedure_code == procedure)
    if due_before:
        query = query.where(col(Dossier.due_date) <= due_before)
    if due_after:
        query = query.where(col(Dossier.due_date) >= due_after)
    if overdue is not None:
        late = and_(col(Dossier.ended_at).is_(None), col(Dossier.due_date) < today)
        query = query.where(late if overdue else ~late)
    if mine:
        query = query.where(Dossier.assignee == user.username)
    for word in fold(q or "").split():
        query = query.where(col(Dossier.search_text).contains(word))
    if cursor:
        after_due, after_id = _decode_cursor(cursor)
        query = query.where(or_(due_key > after_due,
                                and_(due_key == after_due, col(Dossier.id) > after_id)))
    rows = session.exec(query.order_by(due_key, col(Dossier.id)).limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = (_encode_cursor(items[-1].due_date, items[-1].id)
                   if len(rows) > limit else None)
    return {"items": [{**dossier_summary(d), "urgency": urgency(d, today),
                       "current_step_name": _step_name(session, d)} for d in items],
            "next_cursor": next_cursor}


def _step_name(session: Session, dossier: Dossier) -> str | None:
    """The current step's name for people (the version's spec is cached per version)."""
    if not dossier.current_step:
        return None
    try:
        return lifecycle.spec_of(session, dossier).step(dossier.current_step).name
    except KeyError:
        return dossier.current_step


@router.get("/{code}", summary="Chi tiết hồ sơ")
def detail(code: str, request: Request, session: SessionDep,
           user: CurrentUser) -> dict[str, Any]:
    dossier = visible_dossier(session, user, code)
    body = dossier_detail(session, dossier)
    body["allowed_actions"] = lifecycle.allowed_actions(session, dossier, actor_of(user))
    body["urgency"] = urgency(dossier, now_local().date())
    journal_read(request, session, user, dossier.code, "detail")
    return body


@router.post("/{code}/actions/{action}", summary="Thực hiện một thao tác trên hồ sơ")
def perform(code: str, action: Action, body: ActionIn, request: Request, session: SessionDep,
            user: CurrentUser, idempotency_key: IdempotencyKey = None) -> dict[str, Any]:
    """Any lifecycle action; 409 on a concurrent change or an action illegal in this state
    (the problem document names the state and the allowed actions)."""
    _writer(user)
    at, backdate_reason = server_instant(user, body.at, body.backdate_reason)
    visible_dossier(session, user, code)
    session.rollback()  # the action below starts its own transaction and takes the row lock

    def act_once() -> lifecycle.ActionResult:
        result = lifecycle.act(session, code=code, action=action, actor=actor_of(user),
                               at=at, reason=body.reason, payload=body.payload,
                               expected_version=body.expected_version,
                               backdate_reason=backdate_reason,
                               idempotency_key=idempotency_key, request_id=request_id(request))
        session.commit()
        return result

    try:
        result = idempotency.retrying(session, act_once)
    except Exception:
        session.rollback()
        raise
    request.app.state.metrics.actions.labels(action=action.value).inc()
    out = dossier_detail(session, result.dossier)
    out["replayed"] = result.replayed
    out["documents_issued"] = [{"id": d.id, "form": d.form, "number": d.number}
                               for d in result.documents]
    return out

