"""Effects of the supplement and payment stage: a request to complete the dossier (*yêu cầu
bổ sung, hoàn thiện hồ sơ*, Mẫu 02, T7), the documents handed in, and the fees or financial
obligations (*nghĩa vụ tài chính*) asked for and paid."""

from __future__ import annotations

from collections.abc import Mapping

from engine.clock import EventKind
from engine.forms import Form
from engine.lifecycle.context import ActionContext
from engine.lifecycle.documents import issue
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.handoffs import close_step, open_step, processing_steps
from engine.lifecycle.projection import record_clock


def on_request_supplement(ctx: ActionContext) -> None:
    """Everything missing is listed once, in full; the clock waits from the request."""
    ctx.need_reason("yêu cầu bổ sung")
    missing = ctx.payload.get("missing")
    if not missing:
        raise InvalidInput("phải liệt kê đầy đủ, một lần các nội dung cần bổ sung",
                           field="missing")
    if ctx.dossier.received_at is not None and ctx.dossier.clock_started_at is not None:
        record_clock(ctx, EventKind.SUPPLEMENT_REQUESTED)
    close_step(ctx)
    issue(ctx, Form.SUPPLEMENT_REQUEST, missing=missing, reason=ctx.reason)


def on_receive_supplement(ctx: ActionContext) -> None:
    """The documents handed in complete the dossier (replacing same-named ones)."""
    dossier = ctx.dossier
    supplied = ctx.payload.get("components")
    if supplied:
        if not isinstance(supplied, list) or not all(
                isinstance(c, Mapping) and c.get("name") for c in supplied):
            raise InvalidInput("components: danh sách thành phần, mỗi mục có 'name'",
                               field="components")
        merged = {c["name"]: c for c in dossier.components}
        merged.update({c["name"]: dict(c) for c in supplied})
        dossier.components = list(merged.values())
    if dossier.received_at is None:  # pre-receipt online guidance: back to "submitted"
        return
    if dossier.clock_started_at is not None:
        record_clock(ctx, EventKind.SUPPLEMENT_RECEIVED)
    open_step(ctx, dossier.current_step or processing_steps(ctx)[0])


def on_request_payment(ctx: ActionContext) -> None:
    if not ctx.payload.get("amount_vnd") and not ctx.reason:
        raise InvalidInput("phải ghi khoản phí, lệ phí hoặc nghĩa vụ tài chính phải nộp",
                           field="amount_vnd")


def on_confirm_payment(ctx: ActionContext) -> None:
    """Nothing beyond the event: the payment is the journal entry itself."""
    return None
