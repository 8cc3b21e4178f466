"""A dossier submitted on the national portal (*Cổng Dịch vụ công quốc gia*) and taken in by
``POST /api/v1/sync/inbound`` (``service/api/sync.py``, docs/sync.md "Inbound").

Field names are the portal's own vocabulary (domain §7.4: ``MaHoSo``, ``MaTTHC``, ``ChuHoSo``,
``SoDienThoai``, ``Email``, ``TaiLieuNop[]`` …), so the portal's integration sends what it
already has; ``service.validation.FIELD_NAMES`` gives each its Vietnamese label for errors.
Text is NFC and trimmed at the door (an NFD name looks the same and breaks search).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from engine.text import nfc
from service.api.schemas.common import Instant, Public
from service.api.schemas.submissions import SubmittedFile
from service.validation import StrictModel, check_phone

#: ``HinhThucNhanKetQua`` [I]: how the applicant gets the result — 1 at the one-stop unit,
#: 2 by post, 3 online. Not the order of the submission channel ``KenhThucHien`` (domain §2.1:
#: 1 counter, 2 online, 3 post); the domain file gives no codes for this field, so these are
#: ours, documented in docs/sync.md.
RETURN_METHODS = {1: "counter", 2: "post", 3: "online"}


class _Nfc(StrictModel):
    @model_validator(mode="before")
    @classmethod
    def _nfc(cls, data: Any) -> Any:
        return nfc(data, strip=True)


class PortalDocumentIn(_Nfc):
    """One file of ``TaiLieuNop``: for the component at position ``MaThanhPhanHoSo`` (from 1,
    as MotCua numbers a procedure's components), its bytes either in ``NoiDungBase64`` or at
    ``DuongDanTaiTepTin`` (an https address MotCua fetches) — exactly one of the two."""

    MaThanhPhanHoSo: str = Field(pattern=r"^[1-9][0-9]{0,2}$",
                                 description="Thành phần hồ sơ: số thứ tự trong thủ tục, từ 1")
    TenTepDinhKem: str = Field(min_length=1, max_length=255, description="Tên tệp")
    NoiDungBase64: str | None = Field(None, description="Nội dung tệp, mã hóa base64")
    DuongDanTaiTepTin: str | None = Field(None, max_length=2000,
                                          description="Địa chỉ https để tải tệp")

    @model_validator(mode="after")
    def _one_source(self) -> PortalDocumentIn:
        if (self.NoiDungBase64 is None) == (self.DuongDanTaiTepTin is None):
            raise ValueError("mỗi tệp cần đúng một trong hai: nội dung base64 "
                             "(NoiDungBase64) hoặc đường dẫn tải tệp (DuongDanTaiTepTin)")
        return self


class PortalDossierIn(_Nfc):
    """What the portal sends for one dossier submitted there (status 1, *Mới đăng ký*)."""

    MaHoSo: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-/]+$",
                        description="Mã hồ sơ trên Cổng DVCQG (khóa chống tạo trùng)")
    MaTTHC: str = Field(pattern=r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$", examples=["1.004873"],
                        description="Mã thủ tục trong CSDL quốc gia (có thể kèm hậu tố tỉnh)")
    TenTTHC: str | None = Field(None, max_length=500)
    DonViXuLy: str | None = Field(None, max_length=64,
                                  description="Mã cơ quan giải quyết, một trong danh sách của "
                                              "thủ tục (bỏ trống khi thủ tục chỉ có một)")
    KenhThucHien: Literal[2] = Field(2, description="Kênh thực hiện: 2 = trực tuyến")
    LoaiDoiTuong: Literal[1, 2] = Field(1, description="1 = công dân, 2 = doanh nghiệp")
    ChuHoSo: str = Field(min_length=1, max_length=255, description="Họ và tên chủ hồ sơ")
    SoDinhDanh: str = Field(min_length=9, max_length=20,
                            description="Số định danh cá nhân (CCCD), kiểm tra như tại quầy")
    NgaySinh: date | None = None
    GioiTinh: Literal["nam", "nữ"] | None = None
    DiaChi: str | None = Field(None, max_length=500)
    SoDienThoai: str | None = Field(None, max_length=20)
    Email: str | None = Field(None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    TrichYeuHoSo: str | None = Field(None, max_length=1000)
    HinhThucNhanKetQua: Literal[1, 2, 3] = Field(
        1, description="1 = tại Bộ phận Một cửa, 2 = qua bưu chính, 3 = trực tuyến")
    DiaChiNhanKetQua: str | None = Field(None, max_length=500)
    TaiLieuNop: list[PortalDocumentIn] = Field(default_factory=list, max_length=30)

    @field_validator("SoDienThoai")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value) if value else None

    @model_validator(mode="after")
    def _reachable(self) -> PortalDossierIn:
        if not self.SoDienThoai and not self.Email:
            raise ValueError("cần số điện thoại (SoDienThoai) hoặc thư điện tử (Email) của "
                             "chủ hồ sơ để nhận thông báo")
        return self


class PortalDossierTaken(Public):
    """The answer: the local dossier (201 when created, 200 when the portal sent it before)."""

    created: bool
    portal_id: str
    code: str
    state: str
    status_code: int
    status: str
    procedure: str
    receiving_agency: str
    competent_agency: str
    submitted_at: Instant
    files: list[SubmittedFile]
