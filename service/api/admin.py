"""Administration: users, and uploading procedure definitions (validated, errors per line)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from pydantic import Field
from sqlmodel import col, select

from engine.agencies import Agency
from engine.text import nfc
from engine.users import AuditorGrant, Role, User
from service.api.schemas.admin import ProcedureLoaded, SessionPublic, UserPublic
from service.api.schemas.auth import RevokedSessions
from service.auth import hash_password
from service.deps import SessionDep, require_roles
from service.problems import Problem
from service.validation import StrictModel

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])
Admin = Annotated[User, Depends(require_roles(Role.ADMIN))]
MAX_UPLOAD = 256 * 1024


class UserIn(StrictModel):
    username: str = Field(pattern=r"^[a-z0-9_.-]{3,64}$")
    full_name: str = Field(min_length=1, max_length=255)
    role: Role
    agency: str = Field(max_length=64)
    password: str = Field(min_length=10, max_length=256)
    granted_agencies: list[str] = Field(default_factory=list, max_length=500)


def user_json(session, user: User) -> UserPublic:
    grants = session.exec(select(AuditorGrant.agency_code)
                          .where(AuditorGrant.username == user.username)).all()
    return UserPublic(username=user.username, full_name=user.full_name, role=user.role,
                      agency=user.agency_code, active=user.active,
                      granted_agencies=sorted(grants))


@router.get("/users", summary="Danh sách người dùng")
def list_users(session: SessionDep, _admin: Admin) -> list[UserPublic]:
    return [user_json(session, u)
            for u in session.exec(select(User).order_by(col(User.username))).all()]


@router.post("/users", status_code=201, summary="Tạo người dùng")
def create_user(body: UserIn, session: SessionDep, _admin: Admin) -> UserPublic:
    if session.get(User, body.username):
        raise Problem(409, "user-exists", f"Tên đăng nhập {body.username} đã tồn tại.")
    for code in [body.agency, *body.granted_agencies]:
        if session.get(Agency, code) is None:
            raise Problem(422, "validation", f"Không có cơ quan mã {code}.",
                          errors=[{"field": "agency", "message": f"không có {code}"}])
    user = User(username=body.username, full_name=nfc(body.full_name), role=body.role.value,
                agency_code=body.agency, password_hash=hash_password(body.password))
    session.add(user)
    if body.role is Role.AUDITOR:
        for code in body.granted_agencies:
            session.add(AuditorGrant(username=body.username, agency_code=code))
    session.commit()
    return user_json(session, user)


@router.post("/users/{username}/active", summary="Khóa / mở khóa người dùng")
def set_active(username: str, active: bool, session: SessionDep,
               admin: Admin) -> UserPublic:
    user = session.get(User, username)
    if user is None:
        raise Problem(404, "user-not-found", f"Không có người dùng {username}.")
    if user.username == admin.username and not active:
        raise Problem(422, "validation", "Không thể tự khóa tài khoản của mình.")
    user.active = active
    session.add(user)
    session.commit()
    return user_json(session, user)


@router.post("/catalogue", summary="Tải lên định nghĩa thủ tục (YAML)")
async def upload_procedure(session: SessionDep, _admin: Admin,
                           file: Annotated[UploadFile, File(description="Tệp .yaml")],
                           ) -> ProcedureLoaded:
    """Validate one procedure file; load it when valid. Errors name the line."""
    from engine.procedures import save_version
    from workflows.loader import CatalogueError, load_procedure
    from workflows.sync import version_spec

    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Problem(413, "too-large", "Tệp quá lớn (tối đa 256 KB).")
    name = Path(file.filename or "thu-tuc.yaml").name
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (name if name.endswith((".yaml", ".yml")) else name + ".yaml")
        path.write_bytes(data)
        try:
            procedure = load_procedure(path)
        except CatalogueError as exc:
            raise Problem(422, "catalogue-invalid", f"Tệp {name} có {len(exc.issues)} lỗi.",
                          errors=[{"line": i.line, "message": i.message}
                                  for i in exc.issues]) from None
    for version in procedure.versions:
        save_version(session, spec=version_spec(procedure, version))
    session.commit()
    return ProcedureLoaded(code=procedure.code, name=procedure.name,
                           versions=[v.effective_from.isoformat()
                                     for v in procedure.versions])


# ----- sessions (service/sessions.py) ------------------------------------------------------

def _user_or_404(session, username: str) -> User:
    user = session.get(User, username)
    if user is None:
        raise Problem(404, "user-not-found", f"Không có người dùng {username}.")
    return user


@router.get("/users/{username}/sessions", summary="Các phiên đăng nhập còn hiệu lực")
def user_sessions(username: str, request: Request, session: SessionDep,
                  _admin: Admin) -> list[SessionPublic]:
    """Live web sessions and API tokens of a user (never their ids: an id is a credential)."""
    from service.sessions import active_sessions, session_json

    _user_or_404(session, username)
    return [SessionPublic.model_validate(session_json(row)) for row in active_sessions(
        session, username, request.app.state.clock(), request.app.state.session_settings)]


@router.post("/users/{username}/revoke-sessions", summary="Thu hồi mọi phiên đăng nhập")
def revoke_sessions(username: str, request: Request, session: SessionDep,
                    admin: Admin) -> RevokedSessions:
    """End every session and token of a user now (a lost laptop, a leaving employee)."""
    from service.sessions import revoke_user_sessions

    _user_or_404(session, username)
    return RevokedSessions(revoked_sessions=revoke_user_sessions(
        session, username, request.app.state.clock(), admin.username, "admin"))
