"""Effects of the ending stage: the result ready (status 9), handed back (status 10) and
corrected, the refusal after receipt (T10), the stop at the applicant's request (Mẫu 05, T11)
and the withdrawal."""

from __future__ import annotations

from engine.clock import EventKind, stored_events
from engine.forms import Form, form_set_for
from engine.lifecycle import postal
from engine.lifecycle.context import ActionContext
from engine.lifecycle.documents import form_day, issue
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.handoffs import close_step, counter_step, open_step, processing_steps
from engine.lifecycle.projection import record_clock
from engine.lifecycle.states import LifecycleFlag, ReturnMethod


def on_finish(ctx: ActionContext) -> None:
    steps = processing_steps(ctx)
    if ctx.dossier.current_step in steps and steps.index(ctx.dossier.current_step) < len(steps) - 1:
        ctx.flags.append(LifecycleFlag.FINISHED_BEFORE_LAST_STEP)
    if ctx.dossier.clock_started_at is None:
        raise InvalidInput("hồ sơ chưa được cơ quan giải quyết xác nhận nhận (accept_transfer)",
                           field="action")
    record_clock(ctx, EventKind.RESULT_READY)
    close_step(ctx)
    last = counter_step(ctx, last=True)
    if last:
        open_step(ctx, last)
    else:
        ctx.dossier.current_step = None


def on_return_result(ctx: ActionContext) -> None:
    """Status 10. By post, the instant is the hand-over to the post office, with the tracking
    number and address (``engine.lifecycle.postal``)."""
    method = postal.return_method(ctx)
    if method is ReturnMethod.POST:
        postal.hand_over(ctx)
    else:
        postal.refuse_postal_fields(ctx, method)
    ctx.dossier.return_method = method.value
    ctx.dossier.returned_at = ctx.at
    ctx.dossier.collected_by = ctx.payload.get("collected_by") or ctx.dossier.applicant_name
    # A corrected result handed back again is not a second end of processing (T14).
    stored = stored_events(row.payload.get("clock") if row.payload else None
                           for row in ctx.event_rows())
    if not any(e.kind is EventKind.RETURNED for e in stored):
        record_clock(ctx, EventKind.RETURNED)
    close_step(ctx)
    ctx.dossier.current_step = None


def on_correct_result(ctx: ActionContext) -> None:
    """T14: a returned result with an error is corrected and handed back again; the clock
    (and so the on-time verdict) is not reopened."""
    ctx.need_reason("đính chính")
    ctx.flags.append(LifecycleFlag.RESULT_CORRECTED)


def on_refuse(ctx: ActionContext) -> None:
    ctx.need_reason("từ chối giải quyết")
    record_clock(ctx, EventKind.REFUSED)
    close_step(ctx)
    ctx.dossier.current_step = None
    issue(ctx, Form.REFUSAL, reason=ctx.reason, at_reception=False)


def on_stop(ctx: ActionContext) -> None:
    end(ctx, EventKind.STOPPED)
    if Form.STOP_NOTICE.in_set(form_set_for(form_day(ctx.dossier, ctx.at))):  # 2025 only
        issue(ctx, Form.STOP_NOTICE, reason=ctx.reason)


def on_withdraw(ctx: ActionContext) -> None:
    end(ctx, EventKind.WITHDRAWN)


def end(ctx: ActionContext, kind: EventKind) -> None:
    """Stop the clock (if it ever started) and close the open step."""
    if ctx.dossier.clock_started_at is not None:
        record_clock(ctx, kind)
    close_step(ctx)
    ctx.dossier.current_step = None
