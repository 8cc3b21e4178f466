"""People who use MotCua: a role and an agency each (domain §2.3); auditors get agency grants.

Password hashing and tokens are the service layer's business (``service/auth.py``); the engine
only stores the hash.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, select


class Role(StrEnum):
    """What a user does (domain §2.3), and who performs a catalogue step (``workflows``)."""

    CLERK = "clerk"  # cán bộ tiếp nhận và trả kết quả
    OFFICER = "officer"  # chuyên viên xử lý
    LEADER = "leader"  # lãnh đạo: phân công, ký duyệt, xin lỗi
    AUDITOR = "auditor"  # kiểm soát TTHC: chỉ đọc
    ADMIN = "admin"  # quản trị: lịch, người dùng, danh mục; không xem dữ liệu cá nhân

    @property
    def label_vi(self) -> str:
        return {"clerk": "Cán bộ tiếp nhận", "officer": "Chuyên viên xử lý",
                "leader": "Lãnh đạo", "auditor": "Kiểm soát viên",
                "admin": "Quản trị hệ thống"}[self.value]


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    username: str = Field(primary_key=True, max_length=64)
    full_name: str = Field(max_length=255)
    role: str = Field(max_length=16)
    agency_code: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    active: bool = True
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    #: Set when the password changes; every session opened before it is revoked then.
    password_changed_at: datetime | None = None


class AuditorGrant(SQLModel, table=True):
    """An auditor reads the dossiers of the agencies granted, and only those."""

    __tablename__ = "auditor_grant"

    username: str = Field(primary_key=True, max_length=64)
    agency_code: str = Field(primary_key=True, max_length=64)


class AppSetting(SQLModel, table=True):
    """Small persistent settings (e.g. the generated token signing key)."""

    __tablename__ = "app_setting"

    key: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=500)


def granted_agencies(session: Session, username: str) -> list[str]:
    return sorted(session.exec(select(AuditorGrant.agency_code)
                               .where(AuditorGrant.username == username)))
