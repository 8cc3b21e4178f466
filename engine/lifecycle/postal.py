"""The postal channel (*bưu chính công ích*, QĐ 45/2016/QĐ-TTg; domain §7.2): a dossier that
arrived by post, and a result sent back by post.

What the law gives and what we chose (docs/lifecycle.md, "The postal channel"):

- **Receipt by post.** The clock starts at the formal receipt of a complete dossier (T2), the
  moment the one-stop unit checks and accepts it (Form 01) — the server's clock, as for an
  online dossier. The day the post office delivered the envelope (``postal_delivered_on``) is
  recorded as evidence, shown and printed, but does not move the receipt [I]. A unit that
  counts from the delivery records an earlier receipt with the back-dating rules
  (``engine.lifecycle.backdating``: role, window, reason), never silently.
- **Return by post.** The result counts as returned (status 10) when the clerk hands it to the
  post office: the return action's instant is the hand-over, journaled with the tracking
  number (*số hiệu bưu gửi*) and the recipient's address; the postal receipt is the evidence
  instead of a signature (domain §4.8) [I]. No time rule depends on it — the clock ended at
  the result (status 9, T12). The day the post office delivered it is recorded later
  (``record_postal_delivery``).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from engine.lifecycle.context import ActionContext
from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import Channel, ReturnMethod
from engine.timezone import to_local

#: A tracking number as printed on the postal receipt: letters, digits, dashes (UPU S10 is
#: ``EB123456789VN``; domestic numbers vary), spaces ignored.
TRACKING = re.compile(r"^[A-Z0-9][A-Z0-9-]{3,39}$")
#: How far before the receipt a delivery date may lie: a year catches a mistyped year [I].
MAX_DELIVERY_AGE = timedelta(days=366)


def _day(value: Any, field: str, what: str) -> date:
    """A calendar day from the API (``YYYY-MM-DD``) or from Python."""
    if isinstance(value, datetime):
        raise InvalidInput(f"{what}: chỉ nhập ngày (YYYY-MM-DD)", field=field)
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InvalidInput(f"{what} không hợp lệ (định dạng YYYY-MM-DD): {value!r}",
                           field=field) from None


def delivered_at_receipt(value: Any, *, channel: str, at: datetime) -> date | None:
    """The day the post office delivered a dossier received at ``at``, checked: required for
    the postal channel and only there, not after the receipt day, not a year before it."""
    if Channel(channel) is not Channel.POSTAL:
        if value not in (None, ""):
            raise InvalidInput("chỉ nhập ngày bưu điện giao hồ sơ khi hồ sơ nộp qua bưu chính "
                               "công ích", field="postal_delivered_on")
        return None
    what = "ngày bưu điện giao hồ sơ"
    if value in (None, ""):
        raise InvalidInput("hồ sơ nộp qua bưu chính công ích: nhập ngày bưu điện giao hồ sơ "
                           "đến Bộ phận Một cửa", field="postal_delivered_on")
    day, received = _day(value, "postal_delivered_on", what), to_local(at).date()
    if day > received:
        raise InvalidInput(f"{what} ({day:%d/%m/%Y}) không được sau ngày tiếp nhận "
                           f"({received:%d/%m/%Y})", field="postal_delivered_on")
    if day < received - MAX_DELIVERY_AGE:
        raise InvalidInput(f"{what} ({day:%d/%m/%Y}) sớm hơn ngày tiếp nhận quá một năm; "
                           "kiểm tra lại năm", field="postal_delivered_on")
    return day


def receipt_warnings(dossier: Dossier) -> list[str]:
    """Said at the counter, never blocking: a dossier the post office delivered before the
    day it is received still has its clock start at the receipt."""
    delivered, received = dossier.postal_delivered_on, dossier.received_at
    if delivered is None or received is None or delivered >= to_local(received).date():
        return []
    return [f"Bưu điện giao hồ sơ ngày {delivered:%d/%m/%Y}, trước ngày tiếp nhận "
            f"{to_local(received):%d/%m/%Y}: thời hạn giải quyết tính từ ngày tiếp nhận. Nếu "
            "Bộ phận Một cửa đã nhận hồ sơ từ ngày bưu điện giao, người có quyền ghi lùi nhập "
            "thời điểm tiếp nhận thực tế (kèm lý do)."]


def tracking_number(value: Any) -> str:
    """The tracking number as printed (upper case, no spaces), or a Vietnamese refusal."""
    text = re.sub(r"\s+", "", str(value or "")).upper()
    if not text:
        raise InvalidInput("trả kết quả qua bưu chính: nhập số hiệu bưu gửi (in trên biên nhận "
                           "của bưu điện)", field="payload.tracking_number")
    if not TRACKING.match(text):
        raise InvalidInput(f"số hiệu bưu gửi không hợp lệ: {value!r} (chỉ gồm chữ cái không dấu, "
                           "chữ số và dấu gạch ngang, 4–40 ký tự)",
                           field="payload.tracking_number")
    return text


def return_method(ctx: ActionContext) -> ReturnMethod:
    """How this result goes out: ``payload.method`` if the applicant changed their mind at
    the counter, otherwise what was chosen at reception."""
    value = ctx.payload.get("method") or ctx.dossier.return_method
    try:
        return ReturnMethod(value)
    except ValueError:
        raise InvalidInput(f"hình thức trả kết quả không hợp lệ: {value!r}",
                           field="payload.method",
                           allowed=[m.value for m in ReturnMethod]) from None


def hand_over(ctx: ActionContext) -> None:
    """Return by post: the hand-over to the post office, with the tracking number and the
    address (default: the one given at reception, else the applicant's), journaled in the
    event's payload; a delivery recorded for an earlier hand-over (before a correction, T14)
    no longer applies."""
    dossier, payload = ctx.dossier, ctx.payload
    number = tracking_number(payload.get("tracking_number"))
    address = (payload.get("recipient_address") or dossier.recipient_address
               or dossier.applicant_address or "").strip()
    if not address:
        raise InvalidInput("trả kết quả qua bưu chính: nhập địa chỉ nhận kết quả",
                           field="payload.recipient_address")
    if len(address) > 500:
        raise InvalidInput("địa chỉ nhận kết quả dài quá 500 ký tự",
                           field="payload.recipient_address")
    dossier.postal_tracking_number, dossier.recipient_address = number, address
    dossier.result_delivered_on = None
    ctx.payload = {**payload, "method": ReturnMethod.POST.value, "tracking_number": number,
                   "recipient_address": address}


def refuse_postal_fields(ctx: ActionContext, method: ReturnMethod) -> None:
    """A result handed over at the counter or online has no tracking number: a client that
    sends one meant a postal return, and is told so rather than ignored."""
    for key, what in (("tracking_number", "số hiệu bưu gửi"),
                      ("recipient_address", "địa chỉ nhận kết quả")):
        if ctx.payload.get(key):
            raise InvalidInput(f"chỉ nhập {what} khi trả kết quả qua bưu chính (hình thức "
                               f"đang chọn: {method.label_vi})", field=f"payload.{key}")


def on_record_postal_delivery(ctx: ActionContext) -> None:
    """The post office delivered the result (from its delivery report): the day, once, not
    before the hand-over and not after today (the server's day)."""
    dossier = ctx.dossier
    if dossier.return_method != ReturnMethod.POST.value or not dossier.postal_tracking_number:
        raise InvalidInput("kết quả của hồ sơ này không gửi qua bưu chính", field="action")
    if dossier.result_delivered_on is not None:
        raise InvalidInput("đã ghi nhận bưu điện phát kết quả ngày "
                           f"{dossier.result_delivered_on:%d/%m/%Y}", field="action")
    what = "ngày bưu điện phát kết quả"
    value = ctx.payload.get("delivered_on")
    if value in (None, ""):
        raise InvalidInput(f"nhập {what}", field="payload.delivered_on")
    day, today = _day(value, "payload.delivered_on", what), to_local(ctx.at).date()
    if day > today:
        raise InvalidInput(f"{what} ({day:%d/%m/%Y}) không được ở tương lai (hôm nay "
                           f"{today:%d/%m/%Y})", field="payload.delivered_on")
    handed = to_local(dossier.returned_at).date()
    if day < handed:
        raise InvalidInput(f"{what} ({day:%d/%m/%Y}) không được trước ngày giao bưu điện "
                           f"({handed:%d/%m/%Y})", field="payload.delivered_on")
    dossier.result_delivered_on = day
    ctx.payload = {**ctx.payload, "delivered_on": day.isoformat()}
