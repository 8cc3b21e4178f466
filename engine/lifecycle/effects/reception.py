"""Effects of the reception stage: an online submission, the receipt at the counter (Mẫu 01),
the refusal at the counter (Mẫu 03), the transfer to the competent agency and, for a dossier
received regardless of administrative boundaries, that agency's acceptance."""

from __future__ import annotations

from engine.clock import EventKind
from engine.forms import Form
from engine.lifecycle import codes
from engine.lifecycle.context import ActionContext
from engine.lifecycle.documents import issue
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.handoffs import close_step, counter_step, open_step, processing_steps
from engine.lifecycle.inputs import missing_components
from engine.lifecycle.projection import provisional_due, record_clock, transfer_deadline
from engine.lifecycle.states import LifecycleFlag
from engine.procedures import version_in_force
from engine.timezone import to_local


def on_submit(ctx: ActionContext) -> None:
    ctx.dossier.submitted_at = ctx.dossier.submitted_at or ctx.at


def on_receive(ctx: ActionContext) -> None:
    """The formal receipt (T2): complete components, a register number, the transfer deadline,
    the clock (or, boundary-free, a provisional appointment) and the receipt form."""
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
        provisional_due(ctx)
    else:
        record_clock(ctx, EventKind.RECEIVED)
    first = counter_step(ctx, last=False)
    if first:
        open_step(ctx, first)
    issue(ctx, Form.RECEIPT, copies=["Lưu", "Giao khách hàng"])


def on_refuse_at_reception(ctx: ActionContext) -> None:
    ctx.need_reason("từ chối tiếp nhận")
    issue(ctx, Form.REFUSAL, reason=ctx.reason, at_reception=True)


def on_transfer(ctx: ActionContext) -> None:
    """Paper goes to the competent agency; late if after the transfer deadline."""
    dossier = ctx.dossier
    dossier.transferred_at = ctx.at
    if dossier.transfer_due_at and ctx.at > dossier.transfer_due_at:
        ctx.flags.append(LifecycleFlag.TRANSFER_LATE)
    close_step(ctx)
    steps = processing_steps(ctx)
    if steps:
        open_step(ctx, steps[0])


def on_accept_transfer(ctx: ActionContext) -> None:
    """Boundary-free receipt: the competent agency's acceptance starts the clock."""
    if not ctx.dossier.boundary_free:
        raise InvalidInput("chỉ hồ sơ tiếp nhận không phụ thuộc địa giới hành chính mới cần "
                           "xác nhận nhận hồ sơ chuyển đến", field="action")
    if ctx.dossier.clock_started_at is not None:
        raise InvalidInput("hồ sơ đã được xác nhận nhận trước đó", field="action")
    record_clock(ctx, EventKind.RECEIVED)
