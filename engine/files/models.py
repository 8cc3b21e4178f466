"""What a stored file is for: one row per file attached to a dossier (*tài liệu đính kèm*).

The bytes are in the blob store (``engine.files.store``) under their SHA-256; the row says
which dossier, which component of the procedure (or what else: a supplement, the result, a
scan), the name the uploader gave (NFC, without any path), the sniffed type, the size and who
uploaded it when — the server's clock. The row is written in the transaction of the action that
brings the file, so a refused action leaves no row (and an orphan blob at most).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from engine.lifecycle.models import utcnow


class AttachmentKind(StrEnum):
    """Why a file is on the dossier."""

    COMPONENT = "component"  # thành phần hồ sơ, as submitted or received
    SUPPLEMENT = "supplement"  # bổ sung theo yêu cầu (Mẫu 02)
    SCAN = "scan"  # bản quét giấy tờ gốc tại quầy
    RESULT = "result"  # kết quả giải quyết
    OTHER = "other"  # tài liệu khác trong quá trình xử lý

    @property
    def label_vi(self) -> str:
        return {"component": "Thành phần hồ sơ", "supplement": "Tài liệu bổ sung",
                "scan": "Bản quét giấy tờ", "result": "Kết quả giải quyết",
                "other": "Tài liệu khác"}[self.value]


class Attachment(SQLModel, table=True):
    """One file of one dossier (migration 0013)."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", index=True)
    kind: str = Field(max_length=16)
    #: the procedure component's id (``workflows`` catalogue) for a component or supplement
    component_id: str | None = Field(default=None, max_length=64)
    file_name: str = Field(max_length=255)
    media_type: str = Field(max_length=64)
    size: int
    sha256: str = Field(max_length=64, index=True)
    uploaded_at: datetime = Field(default_factory=utcnow)
    #: a staff username, or "applicant" for the citizen (online, with the secret)
    uploaded_by: str = Field(max_length=64)
    #: the journal event (``dossier_event.seq``) whose payload names this file's hash
    event_seq: int | None = None
