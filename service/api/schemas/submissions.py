"""The online submission (``service/api/submissions.py``): what the citizen sends and what
the public pages read (procedures without login, the proof-of-work challenge, the answer
with the tracking code and secret)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from engine.lifecycle.states import ReturnMethod
from engine.text import nfc
from service.api.schemas.common import Instant, Limit, Public
from service.validation import StrictModel, check_phone


class _Nfc(StrictModel):
    """Text NFC and trimmed at the door (an NFD name looks the same and breaks search)."""

    @model_validator(mode="before")
    @classmethod
    def _nfc(cls, data: Any) -> Any:
        return nfc(data, strip=True)


class OnlineApplicant(_Nfc):
    name: str = Field(min_length=1, max_length=255, description="Họ và tên")
    id_number: str = Field(min_length=9, max_length=20,
                           description="Số định danh cá nhân (CCCD), kiểm tra như tại quầy")
    birth_date: date | None = None
    sex: Literal["nam", "nữ"] | None = None
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=255, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return check_phone(value) if value else None

    @model_validator(mode="after")
    def _reachable(self) -> OnlineApplicant:
        if not self.phone and not self.email:
            raise ValueError("cần số điện thoại hoặc thư điện tử để nhận thông báo")
        return self


class SubmissionIn(_Nfc):
    """The ``submission`` field of the multipart form (JSON); the files are the parts
    ``file-<n>``, ``n`` the component's position in the procedure's list, from 1."""

    procedure: str = Field(pattern=r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$", examples=["1.004873"])
    competent_agency: str | None = Field(
        None, max_length=64, description="Nơi giải quyết, một trong danh sách của thủ tục")
    applicant: OnlineApplicant
    return_method: ReturnMethod = ReturnMethod.COUNTER
    recipient_address: str | None = Field(None, max_length=500,
                                          description="Địa chỉ nhận kết quả qua bưu chính")


class Challenge(Public):
    """A proof-of-work challenge (``service/pow.py``)."""

    challenge: str
    bits: int
    expires_at: Instant


class PublicProcedure(Public):
    code: str
    name: str
    field: str
    level: str
    time_limit_label: str


class PublicComponent(Public):
    id: str
    name: str
    required: bool
    originals: int
    copies: int


class PublicFee(Public):
    name: str
    amount_vnd: int | None = None
    note: str | None = None


class PublicAgency(Public):
    """Where a dossier of the procedure is processed and the one-stop unit that receives it."""

    code: str
    name: str
    receiving_code: str
    receiving_name: str


class PublicProcedureDetail(PublicProcedure):
    time_limit: Limit
    components: list[PublicComponent]
    fees: list[PublicFee]
    result_type: str
    result_online: bool
    agencies: list[PublicAgency]
    max_file_mb: float
    max_dossier_mb: float


class SubmittedFile(Public):
    component_id: str | None
    file_name: str
    size: int
    media_type: str
    sha256: str


class Submitted(Public):
    """The answer to a submission: the code and secret (shown, printable, and sent)."""

    code: str
    secret: str
    status_code: int
    status: str
    procedure: str
    submitted_at: Instant
    receiving_agency: str
    files: list[SubmittedFile]
    lookup_url: str
    notified: list[str]


class SupplementDone(Public):
    code: str
    status_code: int
    status: str
    files: list[SubmittedFile]
