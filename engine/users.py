"""People who use MotCua: a role and an agency each (domain §2.3); auditors get agency grants.

Password hashing and tokens are the service layer's business (``service/auth.py``); the engine
only stores the hash.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from sqlmodel import Field, Session, SQLModel, col, select


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


def full_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """Username → full name (*họ và tên*) of the people a journal or a control sheet names,
    in one statement. The one place that turns the usernames stored on events, hand-offs and
    reads into what people read: a login name is for machines, a sheet is signed by a person.
    A username no longer known is left out (the caller shows it as it is)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    rows = session.exec(select(User.username, User.full_name)
                        .where(col(User.username).in_(wanted)))
    return {username: name for username, name in rows if name}


#: Who may be given a processing step (*phân công xử lý*): the people of the competent agency
#: who process (officers) or approve and sign (leaders); clerks work at the counter, auditors
#: and administrators never hold a dossier (domain §2.3).
PROCESSING_ROLES = frozenset({Role.OFFICER.value, Role.LEADER.value})


def assignable_roles(step_role: str | None) -> frozenset[str]:
    """The roles that may be assigned a step done by ``step_role``: that role, and leaders,
    who may act on any step of their agency (``engine.lifecycle.policy.authorize``). A step of
    no processing role (or none known) may go to any processing role."""
    if step_role in PROCESSING_ROLES:
        return frozenset({step_role, Role.LEADER.value})
    return PROCESSING_ROLES


def assignable_users(session: Session, agency_code: str,
                     roles: Iterable[str] = PROCESSING_ROLES) -> list[User]:
    """The active users of ``agency_code`` with one of ``roles``, by full name: the people a
    leader may assign a dossier of that agency to (and the only ones the server accepts)."""
    return list(session.exec(select(User).where(
        User.agency_code == agency_code, col(User.role).in_(sorted(roles)),
        col(User.active).is_(True)).order_by(col(User.full_name), col(User.username))))
