"""Dossier states and actions, and how they map to the national vocabulary (domain §2.1)."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Internal dossier state; each maps to one of the ten national status codes."""

    NEW = "new"  # only inside the receiving transaction; never committed
    SUBMITTED = "submitted"  # 1 Mới đăng ký (online, not yet checked)
    RECEIVED = "received"  # 2 Được tiếp nhận
    REFUSED_AT_RECEPTION = "refused_at_reception"  # 3 Không được tiếp nhận
    IN_PROCESSING = "in_processing"  # 4 Đang xử lý
    PAUSED = "paused"  # 4 Đang xử lý, clock paused for a legal reason (T8)
    AWAITING_SUPPLEMENT = "awaiting_supplement"  # 5 Yêu cầu bổ sung giấy tờ
    AWAITING_PAYMENT = "awaiting_payment"  # 6 Yêu cầu thực hiện nghĩa vụ tài chính
    WITHDRAWN = "withdrawn"  # 7 Công dân yêu cầu rút hồ sơ
    STOPPED = "stopped"  # 8 Dừng xử lý (stopped on request, or refused after appraisal)
    RESULT_READY = "result_ready"  # 9 Đã xử lý xong
    RETURNED = "returned"  # 10 Đã trả kết quả

    @property
    def national_code(self) -> int:
        """``TrangThaiHoSo`` of the national exchange."""
        return _CODES[self]

    @property
    def label_vi(self) -> str:
        return _LABELS[self]

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


_CODES = {
    State.NEW: 0, State.SUBMITTED: 1, State.RECEIVED: 2, State.REFUSED_AT_RECEPTION: 3,
    State.IN_PROCESSING: 4, State.PAUSED: 4, State.AWAITING_SUPPLEMENT: 5,
    State.AWAITING_PAYMENT: 6, State.WITHDRAWN: 7, State.STOPPED: 8, State.RESULT_READY: 9,
    State.RETURNED: 10,
}
_LABELS = {
    State.NEW: "Mới tạo", State.SUBMITTED: "Mới đăng ký", State.RECEIVED: "Được tiếp nhận",
    State.REFUSED_AT_RECEPTION: "Không được tiếp nhận", State.IN_PROCESSING: "Đang xử lý",
    State.PAUSED: "Đang xử lý (tạm dừng tính thời gian)",
    State.AWAITING_SUPPLEMENT: "Yêu cầu bổ sung giấy tờ",
    State.AWAITING_PAYMENT: "Yêu cầu thực hiện nghĩa vụ tài chính",
    State.WITHDRAWN: "Công dân yêu cầu rút hồ sơ", State.STOPPED: "Dừng xử lý",
    State.RESULT_READY: "Đã xử lý xong", State.RETURNED: "Đã trả kết quả",
}
TERMINAL = frozenset({State.REFUSED_AT_RECEPTION, State.WITHDRAWN, State.STOPPED,
                      State.RETURNED})


class Channel(StrEnum):
    """How the dossier came in (``KenhThucHien``): counter, online, postal; kiosk since 2026."""

    COUNTER = "counter"  # 1 trực tiếp
    ONLINE = "online"  # 2 trực tuyến (Cổng Dịch vụ công quốc gia)
    POSTAL = "postal"  # 3 bưu chính công ích
    KIOSK = "kiosk"  # ki-ốt, VNeID or chip-card authentication (ND 309/2026)

    @property
    def national_code(self) -> int:
        return {"counter": 1, "online": 2, "postal": 3, "kiosk": 1}[self.value]

    @property
    def label_vi(self) -> str:
        return {"counter": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính công ích",
                "kiosk": "Ki-ốt"}[self.value]


class Action(StrEnum):
    """Everything a person can do to a dossier (domain §2.2). Names are the API's."""

    SUBMIT = "submit"  # nộp trực tuyến
    RECEIVE = "receive"  # tiếp nhận (Mẫu 01)
    REFUSE_AT_RECEPTION = "refuse_at_reception"  # từ chối tiếp nhận (Mẫu 03)
    TRANSFER = "transfer"  # chuyển hồ sơ đến cơ quan có thẩm quyền
    ACCEPT_TRANSFER = "accept_transfer"  # competent agency receives a boundary-free dossier
    ASSIGN = "assign"  # phân công xử lý
    FORWARD = "forward"  # chuyển bước tiếp theo
    SEND_BACK = "send_back"  # trả lại bước trước
    CONSULT = "consult"  # lấy ý kiến cơ quan phối hợp
    REQUEST_SUPPLEMENT = "request_supplement"  # yêu cầu bổ sung, hoàn thiện (Mẫu 02)
    RECEIVE_SUPPLEMENT = "receive_supplement"  # nhận hồ sơ bổ sung
    REQUEST_PAYMENT = "request_payment"  # yêu cầu thực hiện nghĩa vụ tài chính
    CONFIRM_PAYMENT = "confirm_payment"
    PAUSE = "pause"  # tạm dừng tính thời gian (T8)
    RESUME = "resume"
    APOLOGISE = "apologise"  # xin lỗi và hẹn lại ngày trả kết quả (Mẫu 04), once
    REFUSE = "refuse"  # từ chối giải quyết sau thẩm định (Mẫu 03)
    STOP = "stop"  # dừng giải quyết theo yêu cầu (Mẫu 05 từ 2025)
    WITHDRAW = "withdraw"  # rút hồ sơ
    FINISH = "finish"  # có kết quả, chuyển Bộ phận Một cửa
    RETURN_RESULT = "return_result"  # trả kết quả
    CORRECT_RESULT = "correct_result"  # đính chính kết quả đã trả (T14)
    RECORD_POSTAL_DELIVERY = "record_postal_delivery"  # bưu điện đã phát kết quả (postal.py)
    #: internal: staff attach files at the current step (a scan, the result document); the
    #: state does not change, the event names the files' hashes (``engine.files.journal``)
    ATTACH = "attach"  # đính kèm tài liệu

    @property
    def label_vi(self) -> str:
        return _ACTION_LABELS[self]

    @property
    def outcome_vi(self) -> str:
        """How the control sheet (*phiếu kiểm soát*) names a hand-off this action ended: a
        few steps read as what happened to the dossier ("Có kết quả") rather than as the
        button a person pressed ("Hoàn thành, chuyển trả kết quả")."""
        return _OUTCOME_LABELS.get(self, self.label_vi)


_ACTION_LABELS = {
    Action.SUBMIT: "Nộp hồ sơ trực tuyến", Action.RECEIVE: "Tiếp nhận hồ sơ",
    Action.REFUSE_AT_RECEPTION: "Từ chối tiếp nhận",
    Action.TRANSFER: "Chuyển cơ quan giải quyết",
    Action.ACCEPT_TRANSFER: "Nhận hồ sơ chuyển đến",
    Action.ASSIGN: "Phân công xử lý", Action.FORWARD: "Chuyển bước tiếp theo",
    Action.SEND_BACK: "Trả lại bước trước", Action.CONSULT: "Lấy ý kiến phối hợp",
    Action.REQUEST_SUPPLEMENT: "Yêu cầu bổ sung hồ sơ",
    Action.RECEIVE_SUPPLEMENT: "Nhận hồ sơ bổ sung",
    Action.REQUEST_PAYMENT: "Yêu cầu thực hiện nghĩa vụ tài chính",
    Action.CONFIRM_PAYMENT: "Xác nhận đã nộp phí, lệ phí",
    Action.PAUSE: "Tạm dừng tính thời gian", Action.RESUME: "Tiếp tục tính thời gian",
    Action.APOLOGISE: "Xin lỗi và hẹn lại ngày trả", Action.REFUSE: "Từ chối giải quyết",
    Action.STOP: "Dừng giải quyết", Action.WITHDRAW: "Rút hồ sơ",
    Action.FINISH: "Hoàn thành, chuyển trả kết quả", Action.RETURN_RESULT: "Trả kết quả",
    Action.CORRECT_RESULT: "Đính chính kết quả", Action.ATTACH: "Đính kèm tài liệu",
    Action.RECORD_POSTAL_DELIVERY: "Ghi nhận bưu điện đã phát kết quả",
}
_OUTCOME_LABELS = {
    Action.RECEIVE: "Tiếp nhận", Action.ACCEPT_TRANSFER: "Nhận hồ sơ",
    Action.TRANSFER: "Chuyển hồ sơ", Action.FINISH: "Có kết quả",
}


class ReturnMethod(StrEnum):
    """How the applicant gets the result back (*hình thức nhận kết quả*), chosen at
    reception and printed in the register's "Phương thức nhận kết quả" column."""

    COUNTER = "counter"  # trực tiếp tại Bộ phận Một cửa
    POST = "post"  # qua dịch vụ bưu chính công ích
    ONLINE = "online"  # trực tuyến

    @property
    def label_vi(self) -> str:
        return {"counter": "Trực tiếp", "post": "Qua dịch vụ bưu chính công ích",
                "online": "Trực tuyến"}[self.value]


class LifecycleFlag(StrEnum):
    """Irregularities an action notices besides the clock's own (``engine.clock.Flag``):
    recorded on the dossier and its event, never blocking; auditors review them."""

    TRANSFER_LATE = "transfer_late"  # paper sent to the competent agency after its deadline
    FINISHED_BEFORE_LAST_STEP = "finished_before_last_step"  # a step was skipped
    RESULT_CORRECTED = "result_corrected"  # đính chính kết quả (T14)
    BACKDATED = "backdated"  # an action entered with an earlier instant (ghi lùi)

    @property
    def label_vi(self) -> str:
        return {"transfer_late": "Chuyển hồ sơ muộn",
                "finished_before_last_step": "Có kết quả trước bước cuối",
                "result_corrected": "Đã đính chính kết quả",
                "backdated": "Có thao tác ghi lùi thời điểm"}[self.value]
