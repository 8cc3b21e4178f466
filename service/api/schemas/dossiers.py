"""What ``/api/v1/dossiers`` answers: a dossier (summary for lists, detail with its trail),
the work queue, and what receiving or acting returns. ``service/serialize.py`` builds the
dossier shapes from the stored rows (the CLI prints the same)."""

from __future__ import annotations

from typing import Any, Literal, Required

from pydantic import ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from engine.lifecycle.states import State
from engine.lifecycle.urgency import Urgency
from service.api.schemas.common import Day, Instant, Limit, Public
from service.api.schemas.deadline import DueExplanation


class ProcedureRef(Public):
    """The procedure version the dossier follows for its whole life."""

    code: str
    name: str
    version: Day


class ApplicantPublic(Public):
    name: str
    id_number: str | None
    address: str | None
    phone: str | None
    email: str | None


class Component(TypedDict, total=False):
    """A document handed in, as the counter recorded it (any other key is kept)."""

    __pydantic_config__ = ConfigDict(extra="allow")  # type: ignore[misc]

    name: Required[str]
    originals: int
    copies: int


class RegisterEntry(Public):
    """The dossier's line in the agency's register (*sổ theo dõi*), once numbered."""

    year: int | None
    number: int | None


class PostalFacts(Public):
    """The postal channel (*bưu chính công ích*, docs/lifecycle.md): the day the post office
    delivered a dossier sent by post, and a result sent by post — the address, the tracking
    number of the hand-over (at ``returned_at``) and the day it was delivered."""

    dossier_delivered_on: Day | None
    recipient_address: str | None
    tracking_number: str | None
    handed_over_at: Instant | None
    result_delivered_on: Day | None


class DossierSummary(Public):
    """A dossier without its trail: what a list shows."""

    code: str
    procedure: ProcedureRef
    state: State
    status_code: int
    status: str
    channel: str
    receiving_agency: str
    competent_agency: str
    returning_agency: str
    boundary_free: bool
    current_step: str | None
    assignee: str | None
    applicant: ApplicantPublic
    components: list[Component]
    limit: Limit
    #: when an online dossier was submitted (national status 1); None at the counter
    submitted_at: Instant | None = None
    received_at: Instant | None
    transfer_due_at: Instant | None
    original_due: Day | None
    due: Day | None
    due_at: Instant | None
    appointment: Day | None
    ended_at: Instant | None
    end_kind: str | None
    returned_at: Instant | None
    collected_by: str | None
    return_method: str = Field(description="counter | post | online")
    postal: PostalFacts | None = Field(
        None, description="Chỉ khi nộp hoặc trả kết quả qua bưu chính")
    supplement_requests: int
    apologies: int
    flags: list[str]
    register_entry: RegisterEntry = Field(alias="register")
    version: int


class EventActor(Public):
    id: str
    role: str
    agency: str


class EventPublic(Public):
    """One event of the hash-chained audit trail."""

    seq: int
    action: str
    at: Instant
    actor: EventActor
    state_before: str
    state_after: str
    step_before: str | None
    step_after: str | None
    reason: str | None
    payload: dict[str, Any] | None
    request_id: str | None
    recorded_at: Instant
    backdated: dict[str, Any] | None
    hash: str


class StepPublic(Public):
    """One hand-off row of the control sheet (*phiếu kiểm soát*)."""

    seq: int
    step: str
    name: str
    unit: str
    role: str
    assignee: str | None
    started_at: Instant
    due_at: Instant | None
    finished_at: Instant | None
    outcome: str | None
    classification: str | None


class DocumentPublic(Public):
    """A form issued for the dossier (``copy_of``: the original of a reprint)."""

    id: int
    form: str
    form_set: str
    number: str | None
    issued_at: Instant
    issued_by: str
    copy_of: int | None


class DossierDetail(DossierSummary):
    """A dossier with its trail: events, hand-offs and documents."""

    agency_names: dict[str, str]
    allowed_actions: list[str]
    events: list[EventPublic]
    steps: list[StepPublic]
    documents: list[DocumentPublic]


class DossierView(DossierDetail):
    """``GET /api/v1/dossiers/{code}``: the actions are the caller's, with the badge;
    ``people``: the full name of each username the dossier names (assignee, event actors,
    step assignees), for people to read."""

    urgency: Urgency | None
    people: dict[str, str]


class QueueItem(DossierSummary):
    urgency: Urgency | None
    current_step_name: str | None


class QueuePage(Public):
    """One page of the work queue; ``next_cursor`` asks for the following one; ``total``:
    the dossiers matching the filters, all pages together — counted exactly up to
    ``MOTCUA_QUEUE_COUNT_BOUND`` (10,000), beyond it ``total_is_estimate`` and
    ``total_estimate`` says how: ``about`` (PostgreSQL's estimate, "khoảng …") or
    ``more_than`` (SQLite: more than ``total``, "hơn …")."""

    items: list[QueueItem]
    next_cursor: str | None
    total: int
    total_is_estimate: bool = False
    total_estimate: Literal["about", "more_than"] | None = None


class Received(Public):
    """A dossier received (201) or the replay of the same request (200)."""

    code: str
    secret: str
    explanation: DueExplanation | None
    #: Received outside the counter's office hours: which instant the clock uses (not a refusal).
    office_hours_warning: str | None
    appointment: Day | None
    due: Day | None
    warnings: list[str]
    replayed: bool
    dossier: DossierDetail


class IssuedRef(Public):
    id: int
    form: str
    number: str | None


class ActionDone(DossierDetail):
    """The dossier after an action, and the documents the action issued."""

    replayed: bool
    documents_issued: list[IssuedRef]


class GuidanceDocument(IssuedRef):
    form_set: str


class GuidanceRecorded(Public):
    """Counter guidance (Mẫu 02) recorded without opening a dossier."""

    id: int
    document: GuidanceDocument


class AppointmentMoveOut(Public):
    """A due date or appointment moved by a calendar edit (``engine.lifecycle.moves``)."""

    at: Instant
    reason: str
    old_due: Day | None
    new_due: Day | None
    old_appointment: Day | None
    new_appointment: Day | None
