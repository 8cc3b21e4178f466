"""Hand-offs (*bước* of the control sheet, *phiếu kiểm soát quá trình giải quyết hồ sơ*):
each step a dossier passes through is a row with its own deadline (the step's budget), closed
and classified when the dossier moves on (TT 01/2018 Art 13(2))."""

from __future__ import annotations

from engine.deadline import TimeUnit, compute_due
from engine.lifecycle.context import ActionContext
from engine.lifecycle.states import Action
from engine.lifecycle.workset import Hop
from engine.procedures import COUNTER_UNIT
from engine.timezone import to_local


def open_step(ctx: ActionContext, step_id: str) -> None:
    """Start a hand-off row for ``step_id`` with its own deadline (the step budget)."""
    spec_step = ctx.spec.step(step_id)
    rows = ctx.step_rows()
    finishing = ctx.action is Action.FINISH
    unit_agency = (ctx.dossier.competent_agency if spec_step.unit != COUNTER_UNIT
                   # the result goes back through the returning point's counter
                   else ctx.dossier.returning_agency if finishing
                   else ctx.dossier.receiving_agency)
    calendar = ctx.calendar(unit_agency)
    due = compute_due(ctx.at, spec_step.budget, calendar).due_at
    if finishing and ctx.dossier.due_at is not None:
        # Handing back waits for the applicant, who comes on the appointment: the counter is
        # not late for a result collected by then (domain T12, Art 20(3)).
        due = max(due, ctx.dossier.due_at)
    seq = len(rows) + 1
    rows.append(Hop(seq, spec_step.id, due, values={  # written by the unit of work
        "seq": seq, "step_id": spec_step.id, "step_name": spec_step.name,
        "unit": unit_agency if spec_step.unit in (COUNTER_UNIT, "competent") else spec_step.unit,
        "role": spec_step.role, "handed_by": ctx.actor.id, "started_at": ctx.at, "due_at": due,
    }))
    ctx.dossier.current_step = spec_step.id


def close_step(ctx: ActionContext) -> None:
    """Finish the open hand-off row and classify it against its own deadline."""
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


def processing_steps(ctx: ActionContext) -> list[str]:
    """The procedure's processing steps in order (the counter's steps excluded)."""
    return [s.id for s in ctx.spec.processing_steps]


def counter_step(ctx: ActionContext, last: bool) -> str | None:
    """The first (receipt) or last (return) counter step of the procedure, if it has one."""
    counter = [s.id for s in ctx.spec.steps if s.unit == COUNTER_UNIT]
    if not counter:
        return None
    return counter[-1] if last else counter[0]
