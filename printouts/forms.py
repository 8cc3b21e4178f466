"""The two form sets as printed: each form's number and title per set (domain §4.1;
decree118 §3.1).

Form names are :class:`engine.forms.Form`'s values everywhere (engine storage, the CLI, the
API, the templates); which set a dossier uses is :func:`engine.forms.form_set_for` on its
receipt date (``IssuedDocument.form_set``). This module only holds what the law prints:
TT 01/2018/TT-VPCP (Mẫu 01–06) and TT 03/2025/TT-VPCP (Mẫu 01–07).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from engine.forms import Form, FormSet

#: The forms printed for one dossier, the names a document URL takes (the register covers an
#: agency's period, not a dossier).
DossierForm = StrEnum("DossierForm", {f.name: f.value for f in Form if f is not Form.REGISTER})


class FormNotInSet(ValueError):
    """The form does not exist in that set (the stop notice before TT 03/2025)."""


@dataclass(frozen=True, slots=True)
class FormSpec:
    form: Form
    form_set: FormSet
    number: str  # "01" … "07"
    title: str  # upper case, as printed

    @property
    def key(self) -> str:
        """The form's name: its template, its override keys, the page's CSS class."""
        return self.form.value

    @property
    def template(self) -> str:
        return f"{self.key}.html"

    @property
    def circular(self) -> str:
        return self.form_set.circular

    @property
    def landscape(self) -> bool:
        """The register is A4 landscape; every other form A5 portrait."""
        return self.form is Form.REGISTER

    @property
    def label(self) -> str:
        return f"Mẫu số {self.number}"

    @property
    def title_lines(self) -> list[str]:
        """The title as printed: long titles break where the sense does, not where A5 ends."""
        split = _TITLE_BREAKS.get(self.title)
        return [self.title[:split].rstrip(), self.title[split:].lstrip()] if split else [
            self.title]


#: Number and printed title of each form, per set; a form missing from a set does not exist
#: in it (the stop notice in TT 01/2018).
NUMBERS: dict[FormSet, dict[Form, tuple[str, str]]] = {
    FormSet.TT01_2018: {
        Form.RECEIPT: ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        Form.SUPPLEMENT_REQUEST: ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
        Form.REFUSAL: ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
        Form.APOLOGY: ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
        Form.CONTROL: ("05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        Form.REGISTER: ("06", "SỔ THEO DÕI HỒ SƠ"),
    },
    FormSet.TT03_2025: {
        Form.RECEIPT: ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
        Form.SUPPLEMENT_REQUEST: ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
        Form.REFUSAL: ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
        Form.APOLOGY: ("04", "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"),
        Form.STOP_NOTICE: ("05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"),
        Form.CONTROL: ("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
        Form.REGISTER: ("07", "SỔ THEO DÕI HỒ SƠ"),
    },
}


_TITLE_BREAKS = {
    "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT":
        len("VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ"),
}


def form_spec(form: Form | str, form_set: FormSet | str) -> FormSpec:
    """What ``form`` prints in ``form_set``; a ``ValueError`` names the choices for an unknown
    form or set, :class:`FormNotInSet` says why the stop notice is missing from 2018."""
    try:
        form = Form(form)
    except ValueError:
        raise ValueError(f"mẫu không tồn tại: {form!r}; chọn một trong "
                         f"{', '.join(Form)}") from None
    try:
        form_set = FormSet(form_set)
    except ValueError:
        raise ValueError(f"bộ mẫu không tồn tại: {form_set!r}; chọn 2018 hoặc 2025") from None
    entry = NUMBERS[form_set].get(form)
    if entry is None:
        raise FormNotInSet(
            f"bộ mẫu {form_set.circular} không có mẫu '{form}' (Thông báo dừng giải quyết hồ "
            "sơ chỉ có từ Thông tư 03/2025/TT-VPCP, áp dụng cho hồ sơ tiếp nhận từ 15/9/2025)")
    number, title = entry
    return FormSpec(form, form_set, number, title)
