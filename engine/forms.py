"""The legal forms (*biểu mẫu*) a one-stop unit issues or prints, and which set applies.

One set of names for the engine, the printouts, the CLI and the API: the values of
:class:`Form` are what ``IssuedDocument.form`` stores, what ``motcua-print`` takes and what a
document URL names. Two sets of forms exist (domain §4.1; decree118 §3.1): TT 01/2018/TT-VPCP
(Mẫu 01–06) and TT 03/2025/TT-VPCP (Mẫu 01–07). A dossier keeps the set in force on its
receipt date (:func:`form_set_for`).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

#: Forms of TT 03/2025 apply to dossiers received from this day; earlier ones keep the
#: TT 01/2018 forms (domain §4.1; decree118 §8 item 8) [I]: the circular took effect on
#: 15/9/2025 and names no transition for dossiers received before.
FORM_SET_2025_FROM = date(2025, 9, 15)


class FormSet(StrEnum):
    """A set of forms, named by the year of its circular."""

    TT01_2018 = "2018"
    TT03_2025 = "2025"

    @property
    def circular(self) -> str:
        return {"2018": "Thông tư số 01/2018/TT-VPCP",
                "2025": "Thông tư số 03/2025/TT-VPCP"}[self.value]


def form_set_for(day: date) -> FormSet:
    """The set in force for a dossier received on ``day`` (the local receipt date)."""
    return FormSet.TT03_2025 if day >= FORM_SET_2025_FROM else FormSet.TT01_2018


class Form(StrEnum):
    """A form, in the order of the annexes."""

    RECEIPT = "receipt"  # Mẫu 01: giấy tiếp nhận hồ sơ và hẹn trả kết quả
    SUPPLEMENT_REQUEST = "supplement_request"  # Mẫu 02: yêu cầu bổ sung, hoàn thiện hồ sơ
    REFUSAL = "refusal"  # Mẫu 03: từ chối tiếp nhận giải quyết hồ sơ
    APOLOGY = "apology"  # Mẫu 04: xin lỗi và hẹn lại ngày trả kết quả
    STOP_NOTICE = "stop_notice"  # Mẫu 05 (2025 only): thông báo dừng giải quyết
    CONTROL = "control"  # phiếu kiểm soát quá trình giải quyết (printed, not issued)
    REGISTER = "register"  # sổ theo dõi hồ sơ (printed, not issued)

    @property
    def label_vi(self) -> str:
        return _LABELS[self]

    @property
    def issued(self) -> bool:
        """Issued to the applicant with a number (the control sheet and register are not)."""
        return self in _SYMBOLS

    @property
    def symbol(self) -> str:
        """The number's suffix in the agency's register of issued forms (``05/TNHS``)."""
        return _SYMBOLS[self]

    def in_set(self, form_set: FormSet | str) -> bool:
        """The stop notice exists only in the 2025 set."""
        return self is not Form.STOP_NOTICE or FormSet(form_set) is FormSet.TT03_2025


_LABELS = {
    Form.RECEIPT: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả",
    Form.SUPPLEMENT_REQUEST: "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ",
    Form.REFUSAL: "Phiếu từ chối tiếp nhận giải quyết hồ sơ",
    Form.APOLOGY: "Phiếu xin lỗi và hẹn lại ngày trả kết quả",
    Form.STOP_NOTICE: "Thông báo dừng giải quyết hồ sơ",
    Form.CONTROL: "Phiếu kiểm soát quá trình giải quyết hồ sơ",
    Form.REGISTER: "Sổ theo dõi hồ sơ",
}
_SYMBOLS = {
    Form.RECEIPT: "TNHS", Form.SUPPLEMENT_REQUEST: "HDHS", Form.REFUSAL: "TCHS",
    Form.APOLOGY: "PXL", Form.STOP_NOTICE: "TBDG",
}
