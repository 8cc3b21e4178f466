"""Dossiers: receive at the counter, the work queue, one dossier, and every lifecycle action.

Who sees which dossier is the engine's rule (``engine.lifecycle.visibility``, applied in
SQL): a dossier outside the caller's scope answers 404, as if it did not exist. What each
route answers is declared in ``service/api/schemas/dossiers.py``.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import AwareDatetime, Field, field_validator, model_validator
from sqlmodel import Session

from engine import lifecycle
from engine.calendar import WorkingCalendar
from engine.calendar.store import load_calendar
from engine.deadline import receipt_warning
from engine.lifecycle import backdating, idempotency, postal, worklist
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import Action, Channel, ReturnMethod, State
from engine.lifecycle.urgency import urgencies
from engine.lifecycle.visibility import visible_dossier
from engine.procedures import ProcedureSpec
from engine.settings import positive_number
from engine.text import nfc
from engine.timezone import now_local
from engine.users import Role, User
from service.answers import json_answer
from service.api.schemas.dossiers import (
    ActionDone,
    AppointmentMoveOut,
    DossierDetail,
    DossierView,
    GuidanceDocument,
    GuidanceRecorded,
    IssuedRef,
    QueueItem,
    QueuePage,
    Received,
)
from service.choices import check_choices
from service.deps import (
    BearerToken,
    CurrentUser,
    SessionDep,
    actor_of,
    authenticate,
    request_id,
)
from service.problems import Problem
from service.reads import journal_read
from service.serialize import detail_fields, dossier_detail, summary_fields
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
        return nfc(data, strip=True)


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
    return_method: ReturnMethod = ReturnMethod.COUNTER
    postal_delivered_on: date | None = Field(
        None, description="Hồ sơ nộp qua bưu chính (channel=postal, bắt buộc): ngày bưu điện "
                          "giao hồ sơ đến Bộ phận Một cửa. Thời hạn vẫn tính từ lúc tiếp nhận.")
    recipient_address: str | None = Field(
        None, max_length=500, description="Địa chỉ nhận kết quả qua bưu chính, nếu khác địa chỉ "
                                          "của người nộp")
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


# ----- who acts, and when --------------------------------------------------------------------

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


# ----- routes -----------------------------------------------------------------------------

def _checked_id(applicant: ApplicantIn) -> tuple[str | None, list[str]]:
    """The applicant's CCCD checked and in its stored spelling (12 digits, no spaces), with
    the warnings to show; the same at a receipt and a refusal so that the counter's search by
    CCCD finds both (issue 15). 422 for a number that cannot be one."""
    if not applicant.id_number:
        return applicant.id_number, []
    try:
        checked = check_citizen_id(applicant.id_number, birth_date=applicant.birth_date,
                                   sex=applicant.sex)
    except ValueError as exc:
        raise Problem(422, "validation", str(exc),
                      errors=[{"field": "applicant.id_number", "message": str(exc)}]) from None
    return checked.number, checked.warnings


@router.post("", status_code=201, summary="Tiếp nhận hồ sơ tại quầy (Mẫu 01)",
             response_model=Received)
def receive(body: ReceiveIn, request: Request, session: SessionDep,
            token: BearerToken, idempotency_key: IdempotencyKey = None) -> Response:
    user = authenticate(request, session, token)  # in this thread: deps.authenticate
    _writer(user)
    applicant = body.applicant
    id_number, warnings = _checked_id(applicant)
    at, backdate_reason = server_instant(user, body.received_at, body.backdate_reason)

    def receive_once() -> lifecycle.ActionResult:
        result = lifecycle.receive(
            session, actor=actor_of(user), procedure_code=body.procedure,
            applicant=lifecycle.Applicant(name=applicant.name, id_number=id_number,
                                          address=applicant.address, phone=applicant.phone,
                                          email=applicant.email),
            components=[c.model_dump() for c in body.components], channel=body.channel,
            competent_agency=body.competent_agency, returning_agency=body.returning_agency,
            return_method=body.return_method.value, sets_count=body.sets_count, online=body.online,
            postal_delivered_on=body.postal_delivered_on,
            recipient_address=body.recipient_address, at=at, backdate_reason=backdate_reason,
            idempotency_key=idempotency_key, request_id=request_id(request))
        session.commit()
        return result

    result = idempotency.retrying(session, receive_once)
    dossier = result.dossier
    # The engine explains the due date it stored (which days were skipped), for the counter,
    # and warns — without blocking — of a receipt outside the counter's office hours.
    answer = Received(
        code=dossier.code, secret=dossier.secret, explanation=result.due_explanation,
        office_hours_warning=receipt_warning(
            result.due, _calendar(session, result, dossier.receiving_agency))
        if result.due is not None else None,
        appointment=dossier.appointment_date.isoformat() if dossier.appointment_date else None,
        due=dossier.due_date.isoformat() if dossier.due_date else None,
        warnings=warnings + postal.receipt_warnings(dossier),
        replayed=result.replayed,
        # a new dossier's journal is the one event just written, its forms those just issued
        # and its steps those just opened: not read back (a replay reads what is stored)
        dossier=dossier_detail(session, dossier, spec=result.spec, **(
            {} if result.replayed else {"events": [result.event], "documents": result.documents,
                                        "steps": result.steps})))
    return json_answer(answer, status_code=200 if result.replayed else 201,
                       headers={"Location": f"/api/v1/dossiers/{dossier.code}"})


def _calendar(session: Session, result: lifecycle.ActionResult,
              agency_code: str) -> WorkingCalendar:
    """An agency's calendar: the one the action checked, else read (a replayed request)."""
    calendar = result.calendars.get(agency_code)
    return calendar if calendar is not None else load_calendar(session, agency_code=agency_code)


@router.post("/refusals", status_code=201, summary="Từ chối tiếp nhận (Mẫu 03)")
def refuse(body: RefusalIn, request: Request, session: SessionDep, user: CurrentUser,
           idempotency_key: IdempotencyKey = None) -> DossierDetail:
    _writer(user)
    id_number, _ = _checked_id(body.applicant)

    def refuse_once() -> lifecycle.ActionResult:
        result = lifecycle.refuse_at_reception(
            session, actor=actor_of(user), procedure_code=body.procedure,
            applicant=lifecycle.Applicant(name=body.applicant.name,
                                          id_number=id_number,
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
             idempotency_key: IdempotencyKey = None) -> GuidanceRecorded:
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
    return GuidanceRecorded(id=record.id, document=GuidanceDocument(
        id=document.id, form=document.form, number=document.number,
        form_set=document.form_set))


def _encode_cursor(after: worklist.After) -> str:
    due, dossier_id = after
    raw = f"{(due or worklist.NO_DUE).isoformat()}|{dossier_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> worklist.After:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        due, dossier_id = raw.split("|")
        return date.fromisoformat(due), int(dossier_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise Problem(422, "validation", "Tham số cursor không hợp lệ.",
                      errors=[{"field": "cursor", "message": "không hợp lệ"}]) from None


@router.get("", summary="Danh sách hồ sơ theo mức độ khẩn", response_model=QueuePage)
def queue(
    request: Request, session: SessionDep, token: BearerToken,
    state: Annotated[list[State] | None, Query()] = None,
    procedure: Annotated[str | None, Query(max_length=32)] = None,
    due_before: date | None = None,
    due_after: date | None = None,
    overdue: bool | None = None,
    mine: bool = False,
    include_closed: bool = False,
    q: Annotated[str | None, Query(max_length=200)] = None,
    sort: Literal["urgency", "newest"] = "urgency",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Ordered by urgency (due date first, no due date last), then by id; cursor pagination.
    Badges count working days on each competent agency's calendar (one read per page).
    ``q``: a whole phone number or CCCD (exact), a whole dossier code, or words of the
    applicant's name, code, CCCD or phone without diacritics (``queries.dossier_search``);
    ``sort=newest`` lists the latest entered first (the counter's search across dates).
    Each scope column is one index range (``engine.lifecycle.worklist``); ``total`` is exact
    up to ``MOTCUA_QUEUE_COUNT_BOUND``, an estimate beyond (``total_is_estimate``)."""
    user = authenticate(request, session, token)  # in this thread: deps.authenticate
    today = now_local().date()
    wanted = worklist.QueueFilter(
        today=today, states=tuple(s.value for s in state or ()), include_closed=include_closed,
        procedure=procedure, due_before=due_before, due_after=due_after, overdue=overdue,
        assignee=user.username if mine else None, q=q or "")
    after = _decode_cursor(cursor) if cursor else None
    items, next_after = worklist.page(session, user, wanted, sort=sort, after=after, limit=limit)
    # the total, the badges' calendars and the steps' versions: one more statement
    facts = worklist.page_facts(session, user, wanted, items, bound=count_bound())
    total, specs = facts.total, facts.specs
    badges = urgencies(session, items, today, facts.calendars)
    answer = QueuePage(
        items=[QueueItem(**summary_fields(d), urgency=badges[d.code],
                         current_step_name=_step_name(specs, d)) for d in items],
        next_cursor=_encode_cursor(next_after) if next_after else None,
        total=total.count, total_is_estimate=total.is_estimate,
        total_estimate=total.kind if total.is_estimate else None)
    # The read ends here, in this thread, not in one more hop (deps.get_session). A commit:
    # with nothing written it costs the database nothing, and unlike a rollback it does not
    # expire the page's fifty rows one by one (a fifth of the route's time).
    session.commit()
    return json_answer(answer)


def count_bound(env: Mapping[str, str] = os.environ) -> int:
    """Up to how many dossiers the queue's total is counted exactly
    (``MOTCUA_QUEUE_COUNT_BOUND``, default 10,000): beyond it the count would read every
    matching row for one number, and an estimate says as much to the reader."""
    return int(positive_number(env, "MOTCUA_QUEUE_COUNT_BOUND", worklist.COUNT_BOUND))


def _step_name(specs: Mapping[tuple[str, date], ProcedureSpec],
               dossier: Dossier) -> str | None:
    """The current step's name for people, from the page's procedure versions
    (``worklist.page_facts``: read with the total, not one statement per dossier)."""
    if not dossier.current_step:
        return None
    try:
        return specs[(dossier.procedure_code, dossier.procedure_version)].step(
            dossier.current_step).name
    except KeyError:
        return dossier.current_step


@router.get("/{code}", summary="Chi tiết hồ sơ", response_model=DossierView)
def detail(code: str, request: Request, session: SessionDep, token: BearerToken) -> Response:
    """The dossier's page data; authenticated in the route's own thread
    (``deps.authenticate``: one thread hop per request, not two)."""
    user = authenticate(request, session, token)
    dossier = visible_dossier(session, user, code)
    view = DossierView(**detail_fields(session, dossier, actor_of(user),  # the caller's actions
                                       with_people=True, today=now_local().date()))
    journal_read(request, session, user, dossier.code, "detail")
    return json_answer(view)


@router.get("/{code}/appointment-moves", summary="Các lần dời ngày hẹn do thay đổi lịch")
def appointment_moves(code: str, session: SessionDep,
                      user: CurrentUser) -> list[AppointmentMoveOut]:
    """Each re-projection after a calendar edit that moved the dossier's dates, oldest first
    (the dossier page shows them; the applicant was told of a moved appointment)."""
    dossier = visible_dossier(session, user, code)
    return [AppointmentMoveOut(**move.as_dict()) for move in lifecycle.moves_of(session, dossier)]


@router.post("/{code}/actions/{action}", summary="Thực hiện một thao tác trên hồ sơ")
def perform(code: str, action: Action, body: ActionIn, request: Request, session: SessionDep,
            token: BearerToken, idempotency_key: IdempotencyKey = None) -> ActionDone:
    """Any lifecycle action; 409 on a concurrent change or an action illegal in this state
    (the problem document names the state and the allowed actions)."""
    user = authenticate(request, session, token)  # in this thread: deps.authenticate
    _writer(user)
    if action is Action.ATTACH:  # its event must name a stored file: only the upload route
        raise Problem(422, "use-attachments-route",
                      "Đính kèm tệp qua POST /api/v1/dossiers/{mã}/attachments (gửi kèm tệp), "
                      "không qua thao tác chung.")
    at, backdate_reason = server_instant(user, body.at, body.backdate_reason)
    dossier = visible_dossier(session, user, code)
    check_choices(session, dossier, action, body.payload)  # people and agencies from the lists
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
    return ActionDone(**detail_fields(session, result.dossier, spec=result.spec),
                      replayed=result.replayed,
                      documents_issued=[IssuedRef(id=d.id, form=d.form, number=d.number)
                                        for d in result.documents])

