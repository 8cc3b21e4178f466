"""The unit of work every action goes through, all or nothing:

authorise → fire the shared state machine → effects → clock projection → event →
write (compare-and-set of the dossier's version) → after-effects.

Everything runs inside the caller's transaction; any error raises before commit and the caller
rolls back (``engine.db.session_scope`` does), so nothing is half done — also when the state
machine has already moved the row in memory (the row is never written then).

Concurrency: PostgreSQL locks the dossier row (``FOR UPDATE NOWAIT``, taken by
``commands.act``); both databases compare-and-set the version. A concurrent action loses with
:class:`Conflict`, never silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, select

from engine import data_version
from engine.calendar import CalendarRangeError, WorkingCalendar
from engine.clock import ClockError
from engine.deadline import ClockPolicy, Due
from engine.lifecycle import audit, backdating, idempotency
from engine.lifecycle.context import ActionContext
from engine.lifecycle.effects import EFFECTS, after_effects
from engine.lifecycle.errors import Conflict, InvalidInput, contention_as_conflict
from engine.lifecycle.inputs import Actor
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument, utcnow
from engine.lifecycle.policy import authorize
from engine.lifecycle.projection import (
    assign,
    current_due,
    mark_terminal_without_clock,
    update_clock,
)
from engine.lifecycle.queries import machine_of, spec_of
from engine.lifecycle.rows import insert_row, update_row
from engine.lifecycle.states import Action, State
from engine.lifecycle.workset import EventRef, Hop
from engine.procedures import ProcedureSpec
from engine.timezone import to_local

_STEP_TABLE = DossierStep.__table__
_INSERT_EVENT = DossierEvent.__table__.insert().returning(DossierEvent.__table__.c.id)
_INSERT_STEP = _STEP_TABLE.insert()
_UPDATE_STEP = _STEP_TABLE.update().where(_STEP_TABLE.c.id == bindparam("row_id"))


@dataclass
class ActionResult:
    """What an action returns: the dossier as written, its event, the forms it issued, and the
    due date's explanation (which days were skipped, for the counter) when the clock moved."""

    dossier: Dossier
    recorded: DossierEvent | dict[str, Any] | None  # the event, or its written columns
    documents: list[IssuedDocument] = field(default_factory=list)
    replayed: bool = False  # an idempotent repeat: nothing new was written
    due: Due | None = None  # the due date the clock projection found, with its reasons
    #: What the action read and wrote that its answer shows again, so that the answer does
    #: not read it back after the commit (each statement is a round trip that, under load,
    #: waits for the worker's interpreter lock again; issue 18): the procedure version, the
    #: calendars it checked (by agency code), and — for a dossier created by the action —
    #: its hand-off rows (``None``: read them).
    spec: ProcedureSpec | None = None
    calendars: dict[str, WorkingCalendar] = field(default_factory=dict)
    steps: list[DossierStep] | None = None

    @property
    def due_explanation(self) -> dict[str, Any] | None:
        """Why the due date falls on that day (which days were skipped), for the counter;
        worked out only when asked (it walks the calendar day by day)."""
        return self.due.explanation() if self.due is not None else None

    @property
    def event(self) -> DossierEvent | None:
        """The event the action recorded; built on first use (an action writes it as a plain
        row, and most callers never look at it)."""
        if isinstance(self.recorded, dict):
            self.recorded = DossierEvent(**self.recorded)
        return self.recorded


def replayed(session: Session, idem: idempotency.Idempotency | None) -> ActionResult | None:
    """The first result of a request repeated with the same key in the same scope."""
    record = idempotency.find(session, idem) if idem else None
    if record is None:
        return None
    event = session.get(DossierEvent, record.event_id)
    dossier = session.get(Dossier, record.dossier_id)
    documents = list(session.exec(select(IssuedDocument)
                                  .where(IssuedDocument.event_id == event.id)).all())
    return ActionResult(dossier, event, documents, replayed=True,
                        due=current_due(session, dossier, spec_of(session, dossier)))


def replay_or_claim(session: Session,
                    idem: idempotency.Idempotency | None) -> ActionResult | None:
    """The first result of a request repeated with its key; otherwise claim the key (first in
    the transaction, before any row lock), so that a concurrent repeat waits for this attempt's
    commit and then replays it instead of failing on the lock (409). The claim is tried
    first: one statement for a new request, a lookup only for a repeat."""
    if idem is None or idempotency.claim_if_new(session, idem):
        return None
    previous = replayed(session, idem)
    if previous is None:  # the record was purged meanwhile: ask again from the start
        raise idempotency.IdempotencyRace(idem.key)
    return previous


def perform(session: Session, dossier: Dossier, spec: ProcedureSpec, action: Action,
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
    ctx = ActionContext(session, dossier, spec, actor, action, at, reason, payload,
                        calendars=dict(calendars or {}), policy=policy, spec_day=spec_day,
                        hops=[] if new else hops, events=[] if new else events)
    # No autoflush while the effects run: each query would otherwise write the dossier's
    # changes so far (one UPDATE per query); everything is flushed once, below.
    with session.no_autoflush:
        try:
            EFFECTS[action](ctx)
            update_clock(ctx)
        except ClockError as exc:  # the clock says "events[i] (kind): …"; people need the rest
            message = re.sub(r"^events\[\d+\] \([a-z_]+\): ", "", str(exc))
            raise InvalidInput(message, action=action.value) from exc
        except CalendarRangeError as exc:  # e.g. an instant in 1900: the client's input
            raise InvalidInput(f"thời điểm nằm ngoài lịch làm việc được hỗ trợ ({exc})",
                               field="at") from exc
    if backdate_reason:
        ctx.flags.append(backdating.FLAG)
        ctx.payload = {**ctx.payload, "backdated": {"reason": backdate_reason}}

    assign(dossier, status_code=State(dossier.state).national_code,
           flags=sorted(set(dossier.flags) | set(ctx.flags)))
    mark_terminal_without_clock(dossier, at)
    dossier.updated_at = utcnow()
    event = new_event(ctx, state_before, step_before,
                      idem.scope_hash if idem else None, request_id)
    try:
        write(ctx, event, new=new)
    except IntegrityError as exc:
        raise Conflict("yêu cầu trùng lặp hoặc hồ sơ vừa được cập nhật; hãy tải lại",
                       code=dossier.code) from exc
    if idem:
        idempotency.settle(session, idem, dossier_id=dossier.id, event_id=event["id"])
    data_version.note_if_backdated(session, at)  # a closed period's report may change
    after_effects.run(ctx, event)
    return ActionResult(dossier, event, ctx.documents, due=ctx.due, spec=spec,
                        calendars=ctx.calendars, steps=_written_steps(ctx) if new else None)


def _written_steps(ctx: ActionContext) -> list[DossierStep]:
    """A new dossier's hand-off rows as written (every one is new: no id read back, and
    none is needed to show them)."""
    return [DossierStep(**hop.values, dossier_id=ctx.dossier.id) for hop in ctx.hops or ()]


def write(ctx: ActionContext, event: dict[str, Any], *, new: bool) -> None:
    """Write what the action changed, one statement per row (``engine.lifecycle.rows``): the
    dossier (inserted, or updated with the compare-and-set of its version), its hand-off
    rows, the event and the issued documents."""
    session, dossier = ctx.session, ctx.dossier
    if new:
        with contention_as_conflict():  # SQLite: may be the transaction's first write
            insert_row(session, dossier)
    else:
        compare_and_set(session, dossier)
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


def compare_and_set(session: Session, dossier: Dossier) -> None:
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


def new_event(ctx: ActionContext, state_before: str, step_before: str | None,
              idempotency_key: str | None, request_id: str | None) -> dict[str, Any]:
    """The action's event as column values, chained to the dossier's last one by its hash
    (``engine.lifecycle.audit``); written by :func:`write`."""
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
