"""The two form sets: numbers and titles (domain §4.1; decree118 §3.1).

A dossier is printed with the set in force on its receipt date (``IssuedDocument.form_set``,
chosen by the engine with ``FORM_SET_2025_FROM``): TT 01/2018/TT-VPCP (Mẫu 01–06) before
15/9/2025, TT 03/2025/TT-VPCP (Mẫu 01–07) from then on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from engine.lifecycle.service import FORM_SET_2025_FROM

#: Form names on the command line, in the order of the annexes.
FORMS = ("receipt", "supplement", "refusal", "apology", "stop", "control", "register")
#: Command-line name → ``IssuedDocument.form`` (the control sheet and register are not issued).
ENGINE_FORM = {"receipt": "receipt", "supplement": "supplement_request", "refusal": "refusal",
               "apology": "apology", "stop": "stop_notice"}
CLI_FORM = {v: k for k, v in ENGINE_FORM.items()}
SETS = ("2018", "2025")


class FormNotInSet(ValueError):
    """The form does not exist in that set (the stop notice before TT 03/2025)."""


@dataclass(frozen=True, slots=True)
class FormSpec:
    key: str  # receipt, supplement, …
    form_set: str  # "2018" | "2025"
    number: str  # "01" … "07"
    title: str  # upper case, as printed
    circular: str
    landscape: bool = False  # the register is A4 landscape; every other form A5 portrait

    @property
    def template(self) -> str:
        return f"{self.key}.html"

    @property
    def label(self) -> str:
        return f"Mẫu số {self.number}"

    @property
    def title_lines(self) -> list[str]:
        """The title as printed: long titles break where the sense does, not where A5 ends."""
        split = _TITLE_BREAKS.get(self.title)
        return [self.title[:split].rstrip(), self.title[split:].lstrip()] if split else [
            self.title]


_CIRCULAR = {"2018": "Thông tư số 01/2018/TT-VPCP", "2025": "Thông tư số 03/2025/TT-VPCP"}
_TABLE: dict[str, dict[str, tuple[str, str]]] = {
    "2018": {
        "receipt": ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        "supplement": ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
        "refusal": ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
        "apology": ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
        "control": ("05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        "register": ("06", "SỔ THEO DÕI HỒ SƠ"),
    },
    "2025": {
        "receipt": ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        "supplement": ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
        "refusal": ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
        "apology": ("04", "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"),
        "stop": ("05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"),
        "control": ("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        "register": ("07", "SỔ THEO DÕI HỒ SƠ"),
    },
}


_TITLE_BREAKS = {
    "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT":
        len("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ"),
}


def form_set_for(day: date) -> str:
    """The set in force for a dossier received on ``day`` (same rule as the engine)."""
    return "2025" if day >= FORM_SET_2025_FROM else "2018"


def form_spec(key: str, form_set: str) -> FormSpec:
    if key not in FORMS:
        raise ValueError(f"mẫu không tồn tại: {key!r}; chọn một trong {', '.join(FORMS)}")
    if form_set not in _TABLE:
        raise ValueError(f"bộ mẫu không tồn tại: {form_set!r}; chọn 2018 hoặc 2025")
    entry = _TABLE[form_set].get(key)
    if entry is None:
        raise FormNotInSet(
            f"bộ mẫu {_CIRCULAR[form_set]} không có mẫu '{key}' (Thông báo dừng giải quyết hồ "
            "sơ chỉ có từ Thông tư 03/2025/TT-VPCP, áp dụng cho hồ sơ tiếp nhận từ 15/9/2025)")
    number, title = entry
    return FormSpec(key, form_set, number, title, _CIRCULAR[form_set],
                    landscape=key == "register")
