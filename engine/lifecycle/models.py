"""Dossier tables: the dossier, its append-only events, hand-offs, documents and counters.

Migration 0002 is authoritative; these models mirror it (a test compares them). Timestamps
are timezone-aware (stored UTC; convert with ``engine.timezone.to_local`` before date work).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Computed, Index, SmallInteger, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from engine.lifecycle.states import TERMINAL


def utcnow() -> datetime:
    return datetime.now(UTC)


#: An ended dossier's place in a period report once the period includes its end, packed like
#: ``engine.reports.verdict_sql.packed_verdict``: class (1 early, 2 on time, 3 late; 0 = ended while
#: waiting for a supplement, judged by replay) + entry channel (8 online, 16 postal, 24 at the
#: counter or kiosk) + 32 if more than one supplement request + apology (0 none, 64 sent late,
#: 128 in time). Computed by the database from the report columns (a generated column:
#: no writer can forget it). A report takes it as is for a dossier that ended by the period
#: end, was received in the period and has no apology after it — most of a year — instead of
#: judging a dozen columns per row (migration 0007; PostgreSQL only, see docs/reports.md).
REPORT_CODE_SQL = (
    "CASE WHEN ended_on IS NULL OR ended_awaiting_supplement THEN 0 "
    "WHEN ended_on < due_date THEN 1 WHEN ended_on = due_date THEN 2 ELSE 3 END"
    " + CASE channel WHEN 'online' THEN 8 WHEN 'postal' THEN 16 ELSE 24 END"
    " + CASE WHEN supplement_count > 1 THEN 32 ELSE 0 END"
    " + CASE WHEN apology_on IS NULL THEN 0 WHEN apology_late THEN 64 ELSE 128 END"
)


#: Which rows a sweep (``engine.timed.sweep``) looks at, as SQL the partial indexes below and the
#: sweep's queries share word for word (SQLite uses a partial index only for a query that
#: repeats its condition): open dossiers, by the date the next warning is about; open dossiers
#: whose warnings do not hang on that date (paper not yet sent on, a supplement awaited, a
#: boundary-free dossier not yet accepted); and open hand-off rows (migration 0010).
SWEEP_OPEN = "ended_on IS NULL"
SWEEP_WAITING = ("ended_on IS NULL AND (state IN ('received', 'awaiting_supplement') "
                 "OR (boundary_free AND clock_started_at IS NULL))")
SWEEP_OPEN_STEP = "finished_at IS NULL"

#: The work queue's rows (``engine.lifecycle.worklist``), as SQL its partial indexes and its
#: queries share word for word (migration 0019): the dossiers not in a terminal state, and the
#: urgency key — the due date, none last — written the same on SQLite and PostgreSQL so that
#: both match the query's ORDER BY to the expression index.
QUEUE_OPEN = ("state NOT IN ("
              + ", ".join(f"'{s.value}'" for s in sorted(TERMINAL, key=lambda s: s.value)) + ")")
DUE_KEY_SQL = "coalesce(due_date, '9999-12-31')"
#: The scope columns (``{scope}_agency``) a viewer's dossiers are found by.
QUEUE_SCOPES = ("competent", "receiving", "returning")


class Dossier(SQLModel, table=True):
    """One application (*hồ sơ*) for one procedure version.

    Receiving point, competent agency and returning point are separate because a centre may
    receive a dossier for another commune's agency (*phi địa giới*, ND 118 Art 14).
    """

    __tablename__ = "dossier"
    __table_args__ = (
        # Reports read this narrow index instead of the wide rows (migrations 0005, 0006).
        Index("ix_dossier_report", "competent_agency", "received_at", "ended_on", "due_date",
              "channel", "end_kind", "supplement_count", "was_paused", "apology_on",
              "apology_late", "ended_awaiting_supplement", "clock_settled_on", "procedure_code",
              "procedure_version", "receiving_agency", "original_due_date", "first_wait_on"),
        # Dossiers whose due date moved, by the day it stopped moving (what a report replays).
        Index("ix_dossier_clock_moved", "clock_settled_on",
              sqlite_where=text("supplement_count > 0 OR was_paused"),
              postgresql_where=text("supplement_count > 0 OR was_paused")),
        # The sweep's candidates with their marks, read from the index alone (0010); the
        # condition's columns close each list, without which SQLite reads the table rows.
        Index("ix_dossier_sweep_due", "appointment_date", "version", "sweep_version",
              "sweep_next_at", "id", "ended_on", sqlite_where=text(SWEEP_OPEN),
              postgresql_where=text(SWEEP_OPEN)),
        Index("ix_dossier_sweep_waiting", "version", "sweep_version", "sweep_next_at", "id",
              "ended_on", "state", "boundary_free", "clock_started_at",
              sqlite_where=text(SWEEP_WAITING), postgresql_where=text(SWEEP_WAITING)),
        # The work queue: one index range per scope column (0019), in each order a list is
        # read: the open dossiers by urgency (partial: a tenth of the table at most), every
        # dossier by urgency (a closed state, or closed ones included), every dossier newest
        # first (the counter's search across dates).
        *(index for scope in QUEUE_SCOPES for index in (
            Index(f"ix_dossier_{scope}_open", f"{scope}_agency", text(DUE_KEY_SQL), "id",
                  sqlite_where=text(QUEUE_OPEN), postgresql_where=text(QUEUE_OPEN)),
            Index(f"ix_dossier_{scope}_due", f"{scope}_agency", text(DUE_KEY_SQL), "id"),
            Index(f"ix_dossier_{scope}_id", f"{scope}_agency", "id"))),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    secret: str = Field(max_length=64)  # for the citizen's status lookup (QR on the receipt)
    procedure_code: str = Field(max_length=32, index=True)
    procedure_version: date
    procedure_name: str = Field(max_length=500)
    channel: str = Field(max_length=16)
    state: str = Field(max_length=32, index=True)
    status_code: int
    receiving_agency: str = Field(max_length=64)  # indexes: see __table_args__
    competent_agency: str = Field(max_length=64)
    returning_agency: str = Field(max_length=64)
    boundary_free: bool = False
    current_step: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=64, index=True)
    applicant_name: str = Field(max_length=255)
    applicant_id_number: str | None = Field(default=None, max_length=32, index=True)
    applicant_address: str | None = Field(default=None, max_length=500)
    applicant_phone: str | None = Field(default=None, max_length=32, index=True)
    applicant_email: str | None = Field(default=None, max_length=255)
    search_text: str = Field(default="", max_length=700)  # folded code + applicant, for search
    components: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    sets_count: int = 1  # Số lượng hồ sơ (bộ)
    return_method: str = Field(default="counter", max_length=16)
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    clock_started_at: datetime | None = None
    transfer_due_at: datetime | None = None
    transferred_at: datetime | None = None
    limit_amount: float
    limit_unit: str = Field(max_length=16)
    supplement_effect: str = Field(max_length=16)
    original_due_date: date | None = None
    due_date: date | None = Field(default=None, index=True)
    due_at: datetime | None = None
    appointment_date: date | None = None
    ended_at: datetime | None = None
    end_kind: str | None = Field(default=None, max_length=32)
    returned_at: datetime | None = None
    collected_by: str | None = Field(default=None, max_length=255)
    # The postal channel (migration 0014, ``engine.lifecycle.postal``): the day the post office
    # delivered a dossier sent by post (evidence; the clock starts at the receipt), and for a
    # result sent by post the address, the tracking number (*số hiệu bưu gửi*) of the
    # hand-over at ``returned_at`` and the day the post office delivered it.
    postal_delivered_on: date | None = None
    recipient_address: str | None = Field(default=None, max_length=500)
    postal_tracking_number: str | None = Field(default=None, max_length=40)
    result_delivered_on: date | None = None
    # A dossier taken in from the national portal (migration 0017, ``service/api/sync.py``):
    # the portal's dossier id (*MaHoSo* there; unique, so a repeat creates nothing) and the
    # digest of what it sent (a repeat with another body is a conflict).
    portal_id: str | None = Field(default=None, max_length=64, unique=True, index=True)
    portal_digest: str | None = Field(default=None, max_length=64)
    supplement_count: int = 0
    apology_count: int = 0
    # What the period reports read (kept with the clock, migration 0005): the local day
    # processing ended (ngày kết thúc xử lý, also for a withdrawal before the clock started),
    # whether the clock was ever paused, the day of the apology letter and whether it was
    # late, and whether the dossier ended while waiting for a supplement.
    ended_on: date | None = None
    was_paused: bool = False
    apology_on: date | None = None
    apology_late: bool = False
    ended_awaiting_supplement: bool = False
    # From which day the stored due date is final: the day of the last supplement/pause event
    # (or of the end that closed a pause); None while a wait or pause is open, or if the due
    # date never moved. A report for a period ending on or after this day trusts the stored
    # due date (migration 0006).
    clock_settled_on: date | None = None
    # Day of the first supplement request or pause: before it the due date was the original
    # one, so a report for a period ending earlier judges on ``original_due_date`` (0006).
    first_wait_on: date | None = None
    # Generated by the database (REPORT_CODE_SQL); never written by the application.
    report_code: int | None = Field(
        default=None, sa_column=Column(SmallInteger, Computed(REPORT_CODE_SQL)))
    flags: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    calendar_version: str | None = Field(default=None, max_length=32)
    register_year: int | None = None
    register_number: int | None = None
    imported: bool = False
    version: int = 1  # compare-and-set: every action bumps it
    chain_head: str = Field(default="", max_length=64)  # hash of the last event: truncation shows
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # The sweep's mark (``engine.timed.sweep``): the version it last judged and the instant
    # from which a new warning can come of what it saw; a new version (every action, every
    # re-projection) makes the dossier a candidate again. Never written by the lifecycle.
    sweep_version: int | None = None
    sweep_next_at: datetime | None = None

    @property
    def policy_agency(self) -> str:
        """Whose clock settings apply (late-receipt cut-off, receipts on a day off, the due
        time; ``engine.deadline.ClockPolicy``): the receiving agency's, since they describe
        when its counter takes dossiers in. ``engine.lifecycle.projection.clock_policy_for``
        and the action's one-statement read (``workset``) both ask here."""
        return self.receiving_agency


class DossierEvent(SQLModel, table=True):
    """Append-only audit trail; each event's hash chains to the previous one of the dossier."""

    __tablename__ = "dossier_event"
    __table_args__ = (UniqueConstraint("dossier_id", "seq", name="uq_dossier_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    seq: int
    action: str = Field(max_length=32)
    at: datetime
    recorded_at: datetime = Field(default_factory=utcnow)
    actor_id: str = Field(max_length=64)
    actor_role: str = Field(max_length=16)
    actor_agency: str = Field(max_length=64)
    state_before: str = Field(max_length=32)
    state_after: str = Field(max_length=32)
    step_before: str | None = Field(default=None, max_length=64)
    step_after: str | None = Field(default=None, max_length=64)
    reason: str | None = None
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    request_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)
    imported: bool = False
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class DossierStep(SQLModel, table=True):
    """One hand-off row of the control sheet (*Phiếu kiểm soát quá trình giải quyết*)."""

    __tablename__ = "dossier_step"
    __table_args__ = (
        UniqueConstraint("dossier_id", "seq", name="uq_dossier_step_seq"),
        Index("ix_dossier_step_sweep", "due_at", "sweep_next_at", "id", "finished_at",
              sqlite_where=text(SWEEP_OPEN_STEP), postgresql_where=text(SWEEP_OPEN_STEP)),
    )

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    seq: int
    step_id: str = Field(max_length=64)
    step_name: str = Field(max_length=255)
    unit: str = Field(max_length=255)  # agency code, or a linked agency's name
    role: str = Field(max_length=16)
    handed_by: str | None = Field(default=None, max_length=64)
    assignee: str | None = Field(default=None, max_length=64)
    started_at: datetime
    due_at: datetime | None = None
    finished_at: datetime | None = None
    finished_by: str | None = Field(default=None, max_length=64)
    outcome: str | None = Field(default=None, max_length=32)  # action that closed the step
    classification: str | None = Field(default=None, max_length=16)  # early / on_time / late
    # The instant from which a sweep looks at this open row again (``engine.timed.sweep``).
    sweep_next_at: datetime | None = None


class IssuedDocument(SQLModel, table=True):
    """A form issued to someone (Mẫu 01–07): what, which form set, number, when and by whom."""

    __tablename__ = "issued_document"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int | None = Field(default=None, foreign_key="dossier.id", index=True)
    guidance_id: int | None = Field(default=None, foreign_key="guidance.id")
    form: str = Field(max_length=32)
    form_set: str = Field(max_length=8)  # "2018" (TT 01/2018) or "2025" (TT 03/2025)
    number: str | None = Field(default=None, max_length=64)
    issued_at: datetime
    issued_by: str = Field(max_length=64)
    event_id: int | None = Field(default=None, foreign_key="dossier_event.id")
    copy_of: int | None = Field(default=None, foreign_key="issued_document.id")
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))


class Guidance(SQLModel, table=True):
    """Counter guidance with Form 02 that opens no dossier (domain §2.2 #3), for statistics."""

    __tablename__ = "guidance"

    id: int | None = Field(default=None, primary_key=True)
    agency_code: str = Field(max_length=64, index=True)
    procedure_code: str = Field(max_length=32)
    at: datetime
    actor_id: str = Field(max_length=64)
    applicant_name: str = Field(max_length=255)
    applicant_phone: str | None = Field(default=None, max_length=32)
    missing: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    reason: str
    request_id: str | None = Field(default=None, max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=128, unique=True)


class Counter(SQLModel, table=True):
    """Gap-free sequences (dossier codes per agency-day, register numbers per agency-year)."""

    __tablename__ = "counter"

    scope: str = Field(primary_key=True, max_length=128)
    value: int = 0


class IdempotencyRecord(SQLModel, table=True):
    """A request made with an ``Idempotency-Key``: scoped to its user, agency and route, with
    the hash of what was asked, written in the same transaction as the answer it points to
    (migration 0008; ``engine.lifecycle.idempotency``)."""

    __tablename__ = "idempotency_record"

    scope_hash: str = Field(primary_key=True, max_length=64)
    username: str = Field(max_length=64)
    route: str = Field(max_length=128)
    key: str = Field(max_length=128)
    request_hash: str = Field(max_length=64)
    dossier_id: int | None = None
    event_id: int | None = None
    guidance_id: int | None = None
    created_at: datetime
