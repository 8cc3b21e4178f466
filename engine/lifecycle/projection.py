"""The clock projection: from a dossier's stored clock events to its deadline columns.

The legal clock (``engine.clock.replay``) is a pure function of the clock events, the time
limit, the competent agency's calendar and the receiving agency's clock settings. This module
is the one place that feeds it from a dossier and writes its verdict back on the dossier
(due date, appointment, counts, the columns the period reports read), used by every action,
by the re-projection after a calendar edit (``engine.lifecycle.reprojection``) and by the
history import (``engine.reports.history``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.calendar import WorkingCalendar
from engine.calendar.store import load_calendar
from engine.clock import ClockEvent, ClockState, EventKind, replay, stored_events
from engine.deadline import ClockPolicy, Due, TimeLimit, TimeUnit, compute_due
from engine.lifecycle.context import ActionContext
from engine.lifecycle.models import Dossier, DossierEvent
from engine.lifecycle.states import State
from engine.procedures import ProcedureSpec
from engine.timezone import local_instant, to_local

_CLOCK_PAYLOADS = (select(DossierEvent.payload)
                   .where(DossierEvent.dossier_id == bindparam("dossier_id"))
                   .order_by(col(DossierEvent.seq)))


# ----- the facts the clock needs ------------------------------------------------------------

def limit_of(dossier: Dossier) -> TimeLimit:
    """The time limit the dossier keeps (its procedure version's, copied at receipt)."""
    return TimeLimit(dossier.limit_amount, TimeUnit(dossier.limit_unit))


def clock_policy_for(session: Session, dossier: Dossier) -> ClockPolicy | None:
    """The clock settings of ``dossier`` (its ``policy_agency``'s); None if that agency is
    gone, which means the defaults."""
    agency = session.get(Agency, dossier.policy_agency)
    return agency.clock_policy() if agency else None


def clock_events(session: Session, dossier: Dossier,
                 pending: Mapping[str, Any] | None = None) -> list[ClockEvent]:
    """The dossier's clock events, read back from its stored events (plus one not yet saved)."""
    payloads = session.exec(_CLOCK_PAYLOADS, params={"dossier_id": dossier.id}).all()
    return stored_events([*(p.get("clock") if p else None for p in payloads), pending])


def record_clock(ctx: ActionContext, kind: EventKind, **extra: Any) -> None:
    """Let this action move the clock: the record is stored on the action's event."""
    ctx.clock = {"kind": kind.value, "at": ctx.at.astimezone(UTC).isoformat(), **extra}


# ----- projecting ---------------------------------------------------------------------------

def update_clock(ctx: ActionContext) -> None:
    """Replay the clock and store its verdict on the dossier (due, appointment, flags)."""
    if ctx.clock is None and ctx.dossier.clock_started_at is None:
        return
    events = stored_events([*(row.payload.get("clock") if row.payload else None
                              for row in ctx.event_rows()), ctx.clock])
    state = apply_clock(ctx.session, ctx.dossier, ctx.spec,
                        calendar=ctx.calendar(ctx.dossier.competent_agency),
                        events=events, policy=ctx.policy)
    if state is not None:
        ctx.flags.extend(state.flags)
        ctx.due = told(state.due, ctx.dossier)


def apply_clock(session: Session, dossier: Dossier, spec: ProcedureSpec, *,
                calendar: WorkingCalendar | None = None,
                events: list[ClockEvent] | None = None,
                policy: ClockPolicy | None = None) -> ClockState | None:
    """Replay the clock and write its verdict on the dossier; ``calendar``, ``events`` and
    ``policy`` are passed when the caller already has them. None: the clock never started."""
    if events is None:
        events = clock_events(session, dossier)
    if not events:
        return None
    calendar = calendar or load_calendar(session, agency_code=dossier.competent_agency)
    if policy is None:
        policy = clock_policy_for(session, dossier)
    state = replay(events, limit_of(dossier), calendar,
                   policy=policy,
                   supplement_effect=spec.supplement_effect,
                   allowed_pause_reasons=spec.pause_reasons or None)
    write_verdict(dossier, state, calendar)
    return state


def write_verdict(dossier: Dossier, state: ClockState, calendar: WorkingCalendar) -> None:
    """Write the clock's verdict on the dossier: its deadline columns, its counts and the
    columns the reports read. The history import writes imported dossiers through here too,
    so an imported dossier and a lived one carry the same facts."""
    assign(dossier, clock_started_at=state.received_at,
           original_due_date=state.original_due.due_date, due_date=state.due.due_date,
           due_at=state.due.due_at, appointment_date=state.appointment,
           supplement_count=len(state.supplement_requests), apology_count=len(state.apologies),
           ended_at=state.ended_at, end_kind=state.end_kind.value if state.end_kind else None,
           calendar_version=calendar.version)
    store_report_columns(dossier, state)


def assign(dossier: Dossier, **values: Any) -> None:
    """Set the columns whose value changes, leave the others: most actions move two or three
    of the verdict's seventeen columns, and an assignment through the model costs as much
    when the value is the same (the write takes only changed columns either way,
    ``engine.lifecycle.rows.update_row``)."""
    for key, value in values.items():
        if getattr(dossier, key) != value:
            setattr(dossier, key, value)


def provisional_due(ctx: ActionContext) -> None:
    """Boundary-free dossiers: the clock starts when the competent agency receives the
    transfer; until then the appointment assumes a transfer on time (decree118 §0.2a)."""
    due = ctx.due = _provisional(ctx.dossier, ctx.calendar(ctx.dossier.competent_agency))
    ctx.dossier.original_due_date = ctx.dossier.due_date = due.due_date
    ctx.dossier.due_at, ctx.dossier.appointment_date = due.due_at, due.due_date


#: Why a boundary-free dossier's clock does not start at the counter (decree118 §0.2a).
BOUNDARY_FREE_REASON = ("hồ sơ tiếp nhận không phụ thuộc địa giới hành chính: thời hạn tính từ "
                        "khi cơ quan có thẩm quyền nhận hồ sơ chuyển đến")


def _provisional(dossier: Dossier, calendar: WorkingCalendar) -> Due:
    """The appointment printed at the counter assumes the transfer on time: the clock is told
    as starting at the transfer deadline, the receipt kept as the counter's."""
    # Local time, as ``transfer_deadline`` gives it (the database hands it back in UTC).
    due = compute_due(to_local(dossier.transfer_due_at), limit_of(dossier), calendar)
    return due.starting(filed_at=dossier.received_at, reason=(
        f"{BOUNDARY_FREE_REASON}; ngày hẹn tạm tính với giả định hồ sơ được chuyển đúng hạn "
        f"(hạn chuyển hồ sơ: {to_local(dossier.transfer_due_at):%H:%M} ngày "
        f"{to_local(dossier.transfer_due_at):%d/%m/%Y})"))


def told(due: Due, dossier: Dossier) -> Due:
    """``due`` as the applicant must hear it: a boundary-free dossier was received at the
    counter (``dossier.received_at``) and its clock started at the competent agency's
    acceptance (or later, at a complete supplement)."""
    if not dossier.boundary_free or dossier.received_at is None:
        return due
    if due.filed_at is not None:  # restarted after a supplement: keep that reason
        return replace(due, filed_at=dossier.received_at)
    return due.starting(filed_at=dossier.received_at,
                        reason=f"{BOUNDARY_FREE_REASON} (cơ quan đã xác nhận nhận hồ sơ)")


def current_due(session: Session, dossier: Dossier, spec: ProcedureSpec) -> Due | None:
    """The due date the dossier stands at, with its reasons, computed as an action computes
    it (the repeat of a request answers what the first answer said). None: no clock yet."""
    calendar = load_calendar(session, agency_code=dossier.competent_agency)
    if dossier.clock_started_at is None:
        provisional = dossier.boundary_free and dossier.transfer_due_at is not None
        return _provisional(dossier, calendar) if provisional else None
    events = clock_events(session, dossier)
    if not events:
        return None
    return told(replay(events, limit_of(dossier), calendar,
                       policy=clock_policy_for(session, dossier),
                       supplement_effect=spec.supplement_effect,
                       allowed_pause_reasons=spec.pause_reasons or None).due, dossier)


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


# ----- what the reports read ----------------------------------------------------------------

def store_report_columns(dossier: Dossier, state: ClockState) -> None:
    """Keep what the period reports read (``engine.reports``) with the clock's verdict, so
    that a report over a million dossiers compares stored columns instead of replaying."""
    assign(dossier, ended_on=to_local(state.ended_at).date() if state.ended_at else None,
           was_paused=bool(state.pauses),
           apology_on=(min(to_local(a.at).date() for a in state.apologies)
                       if state.apologies else None),
           apology_late=any(not a.in_time for a in state.apologies),
           ended_awaiting_supplement=state.ended and state.awaiting_supplement,
           clock_settled_on=clock_settled_on(state), first_wait_on=first_wait_on(state))


def clock_settled_on(state: ClockState) -> date | None:
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


def first_wait_on(state: ClockState) -> date | None:
    """Day of the first supplement request or pause: until then the due date was the original
    one, so a report for a period ending earlier needs no replay either."""
    starts = [wait.start for wait in (*state.supplement_waits, *state.pauses)]
    return to_local(min(starts)).date() if starts else None


def mark_terminal_without_clock(dossier: Dossier, at: datetime) -> None:
    """A dossier withdrawn or stopped before its clock started (boundary-free, transfer not
    yet accepted) has no clock end; the reports count it as ended on the day of that action."""
    if (dossier.ended_at is None and dossier.ended_on is None
            and dossier.state in (State.WITHDRAWN.value, State.STOPPED.value)):
        dossier.ended_on = to_local(at).date()
