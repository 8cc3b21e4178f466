"""Signing in and out: ``POST /api/v1/auth/token`` (OAuth2 password flow), ``/logout``,
``/password`` and ``GET /api/v1/auth/me``. The login checks, shared with the web page, are
``service/login.py``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import Field

from engine.users import granted_agencies
from service.api.schemas.auth import Me, RevokedSessions, Token
from service.auth import authenticate, hash_password, issue_token
from service.deps import CurrentUser, SessionDep, now
from service.login import check_login, start_session, too_many
from service.problems import Problem
from service.sessions import API, revoke_session, revoke_user_sessions
from service.validation import StrictModel

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class PasswordChange(StrictModel):
    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


@router.post("/token", response_model=Token, summary="Đăng nhập (OAuth2 password flow)")
def login(request: Request, session: SessionDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    user = check_login(request, session, form.username, form.password)
    row = start_session(request, session, user, API)
    token = issue_token(request.app.state.signing_key, user, row.id, row.expires_at)
    return Token(access_token=token, expires_at=row.expires_at)


@router.post("/logout", status_code=204, summary="Đăng xuất (thu hồi token hiện tại)")
def logout(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """Revoke the session of the credential used for this request: a copy of the token (or
    cookie) stops working at once."""
    revoke_session(session, request.state.auth_session_id, now(request), user.username,
                   "logout")
    if "session" in request.scope:
        request.session.clear()
    return Response(status_code=204)


@router.post("/password", summary="Đổi mật khẩu (thu hồi mọi phiên đăng nhập)")
def change_password(request: Request, body: PasswordChange, session: SessionDep,
                    user: CurrentUser) -> RevokedSessions:
    """Change one's own password. Every session of the user, this one included, is revoked:
    whoever had a copy of a credential is out, and the user signs in again.

    A wrong old password counts as a failed login for the username's delay, so a borrowed
    session cannot be used to guess the password faster than the login page allows.
    """
    limits = request.app.state.limits
    wait = limits.login_user.wait(user.username)
    if wait:
        raise too_many(wait)
    if not authenticate(session, user.username, body.old_password):
        limits.login_failed(user.username)
        raise Problem(422, "wrong-password", "Mật khẩu hiện tại không đúng.",
                      errors=[{"field": "old_password", "message": "không đúng"}])
    if body.new_password == body.old_password:
        raise Problem(422, "validation", "Mật khẩu mới phải khác mật khẩu hiện tại.",
                      errors=[{"field": "new_password", "message": "trùng mật khẩu cũ"}])
    at = now(request)
    user.password_hash = hash_password(body.new_password)
    user.password_changed_at = at
    session.add(user)
    revoked = revoke_user_sessions(session, user.username, at, user.username,
                                   "password-changed")  # commits the new hash too
    if "session" in request.scope:
        request.session.clear()
    return RevokedSessions(revoked_sessions=revoked)


@router.get("/me", response_model=Me, summary="Người dùng hiện tại")
def me(user: CurrentUser, session: SessionDep) -> Me:
    return Me(username=user.username, full_name=user.full_name, role=user.role,
              agency=user.agency_code, granted_agencies=granted_agencies(session, user.username))

