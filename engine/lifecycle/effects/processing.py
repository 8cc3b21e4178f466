"""Effects of the processing stage at the competent agency: assigning an officer, moving
between steps, consulting another agency, pausing the clock with a listed reason, and the
apology with a new appointment (Mẫu 04)."""

from __future__ import annotations

from datetime import date

from engine.clock import EventKind
from engine.forms import Form
from engine.lifecycle.context import ActionContext
from engine.lifecycle.documents import issue
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.handoffs import close_step, open_step, processing_steps
from engine.lifecycle.projection import record_clock


def on_assign(ctx: ActionContext) -> None:
    assignee = ctx.payload.get("assignee")
    if not assignee:
        raise InvalidInput("phải chọn cán bộ được phân công", field="assignee")
    ctx.dossier.assignee = assignee
    rows = [r for r in ctx.step_rows() if r.open]
    if rows:
        rows[-1].values["assignee"] = assignee


def on_forward(ctx: ActionContext) -> None:
    steps = processing_steps(ctx)
    current = ctx.dossier.current_step
    if current not in steps or steps.index(current) + 1 >= len(steps):
        raise InvalidInput("đây là bước xử lý cuối cùng; hãy hoàn thành (finish)",
                           field="action")
    close_step(ctx)
    ctx.dossier.assignee = ctx.payload.get("assignee")
    open_step(ctx, steps[steps.index(current) + 1])


def on_send_back(ctx: ActionContext) -> None:
    ctx.need_reason("trả lại bước trước")
    steps = processing_steps(ctx)
    current = ctx.dossier.current_step
    if current not in steps or steps.index(current) == 0:
        raise InvalidInput("đây là bước xử lý đầu tiên, không thể trả lại", field="action")
    close_step(ctx)
    ctx.dossier.assignee = None
    open_step(ctx, steps[steps.index(current) - 1])


def on_consult(ctx: ActionContext) -> None:
    if not ctx.payload.get("agency") or not ctx.payload.get("reply_by"):
        raise InvalidInput("phải ghi cơ quan được lấy ý kiến và thời hạn trả lời (reply_by)",
                           field="payload")


def on_pause(ctx: ActionContext) -> None:
    """T8: only the reasons the procedure lists stop the clock."""
    ctx.need_reason("tạm dừng (căn cứ pháp lý)")
    if ctx.reason not in ctx.spec.pause_reasons:
        raise InvalidInput(f"lý do tạm dừng không có trong danh mục của thủ tục: "
                           f"{', '.join(ctx.spec.pause_reasons) or '(không có)'}",
                           field="reason", allowed=list(ctx.spec.pause_reasons))
    record_clock(ctx, EventKind.PAUSED, reason=ctx.reason)


def on_resume(ctx: ActionContext) -> None:
    record_clock(ctx, EventKind.RESUMED)


def on_apologise(ctx: ActionContext) -> None:
    """T9: once, with a later appointment, before the dossier is late (Mẫu 04)."""
    ctx.need_reason("xin lỗi, gia hạn")
    if ctx.dossier.apology_count >= 1:
        raise InvalidInput("chỉ được xin lỗi và hẹn lại ngày trả kết quả một lần",
                           field="action")
    try:
        new_due = date.fromisoformat(str(ctx.payload.get("new_due", ""))[:10])
    except ValueError:
        raise InvalidInput("phải ghi ngày hẹn trả mới (new_due, YYYY-MM-DD)",
                           field="new_due") from None
    old = ctx.dossier.appointment_date
    if old is not None and new_due <= old:
        raise InvalidInput(f"ngày hẹn mới ({new_due:%d/%m/%Y}) phải sau ngày hẹn hiện tại "
                           f"({old:%d/%m/%Y})", field="new_due")
    record_clock(ctx, EventKind.APOLOGY, reason=ctx.reason, new_due=new_due.isoformat())
    issue(ctx, Form.APOLOGY, reason=ctx.reason, previous_appointment=str(old),
          new_due=new_due.isoformat())
