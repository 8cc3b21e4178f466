"""What a sweep can find, and what the lifecycle announces: the kinds of notification.

A *finding* comes from time passing (a due date approaching, a wait too long); an *event*
comes from an action (a receipt, a supplement request). Both become outbox messages keyed by
(dossier, step, kind, rung, channel, recipient), so each is written once however often a
sweep runs (docs/notifications.md lists every rung and its message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class FindingKind(StrEnum):
    """Found by a sweep (domain §3: time rules; T9 the apology)."""

    DUE_SOON = "due_soon"  # the dossier is due within the agency's warning horizon
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    STEP_DUE_SOON = "step_due_soon"  # an open hand-off row is due within the horizon
    STEP_OVERDUE = "step_overdue"
    APOLOGY_DUE = "apology_due"  # Form 04 must go out by the working day before the due date
    APOLOGY_MISSED = "apology_missed"  # that day passed without a Form 04
    SUPPLEMENT_AWAITED = "supplement_awaited"  # a supplement awaited too many working days
    TRANSFER_LATE = "transfer_late"  # paper not sent to the competent agency by its deadline
    NOT_ACCEPTED = "not_accepted"  # boundary-free dossier not yet accepted by its agency

    @property
    def label_vi(self) -> str:
        return _FINDING_LABELS[self]


class EventKind(StrEnum):
    """Announced by a lifecycle action to someone who must hear about it."""

    RECEIVED = "received"  # Mẫu 01 issued: the applicant gets the appointment
    SUPPLEMENT_REQUESTED = "supplement_requested"  # Mẫu 02
    APOLOGY_SENT = "apology_sent"  # Mẫu 04: the new appointment
    RESULT_READY = "result_ready"  # come and collect the result
    REFUSED = "refused"  # Mẫu 03 after receipt, or at the counter
    RETURNED = "returned"  # the result handed over (at the counter, by post, online)

    @property
    def label_vi(self) -> str:
        return _EVENT_LABELS[self]


_FINDING_LABELS = {
    FindingKind.DUE_SOON: "Hồ sơ sắp đến hạn", FindingKind.DUE_TODAY: "Hồ sơ đến hạn hôm nay",
    FindingKind.OVERDUE: "Hồ sơ quá hạn", FindingKind.STEP_DUE_SOON: "Bước xử lý sắp đến hạn",
    FindingKind.STEP_OVERDUE: "Bước xử lý quá hạn",
    FindingKind.APOLOGY_DUE: "Cần gửi văn bản xin lỗi",
    FindingKind.APOLOGY_MISSED: "Quá hạn gửi văn bản xin lỗi",
    FindingKind.SUPPLEMENT_AWAITED: "Chờ bổ sung quá lâu",
    FindingKind.TRANSFER_LATE: "Chậm chuyển hồ sơ",
    FindingKind.NOT_ACCEPTED: "Cơ quan giải quyết chưa nhận hồ sơ",
}
_EVENT_LABELS = {
    EventKind.RECEIVED: "Đã tiếp nhận hồ sơ", EventKind.SUPPLEMENT_REQUESTED: "Yêu cầu bổ sung",
    EventKind.APOLOGY_SENT: "Xin lỗi và hẹn lại", EventKind.RESULT_READY: "Đã có kết quả",
    EventKind.REFUSED: "Từ chối hồ sơ", EventKind.RETURNED: "Đã trả kết quả",
}


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a sweep found about one dossier (and, for step kinds, one hand-off row).

    ``rung`` tells apart the warnings of one ladder (e.g. the day a due-soon warning is for),
    so a warning for a new due date is a new message while a repeat of the same is not.
    """

    kind: FindingKind
    dossier_code: str
    rung: str
    competent_agency: str
    due: date | datetime | None = None
    step_seq: int | None = None
    step_role: str | None = None
    assignee: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
