"""``POST /api/v1/auth/token`` (OAuth2 password flow) and ``GET /api/v1/auth/me``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from engine.users import granted_agencies
from service.auth import authenticate, issue_token
from service.deps import CurrentUser, SessionDep
from service.problems import Problem

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"


class Me(BaseModel):
    username: str
    full_name: str
    role: str
    agency: str
    granted_agencies: list[str]


def throttle_login(request: Request, username: str) -> None:
    """At most 5 attempts per username and address per 5 minutes (brute force)."""
    client = request.client.host if request.client else "?"
    wait = request.app.state.login_limiter.hit(f"{username}|{client}")
    if wait:
        raise Problem(429, "too-many-logins",
                      f"Đăng nhập sai quá nhiều lần; thử lại sau {int(wait) + 1} giây.",
                      headers={"Retry-After": str(int(wait) + 1)})


@router.post("/token", response_model=Token, summary="Đăng nhập (OAuth2 password flow)")
def login(request: Request, session: SessionDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    throttle_login(request, form.username)
    user = authenticate(session, form.username, form.password)
    if user is None:
        raise Problem(401, "invalid-credentials", "Sai tên đăng nhập hoặc mật khẩu.",
                      headers={"WWW-Authenticate": "Bearer"})
    client = request.client.host if request.client else "?"
    request.app.state.login_limiter.reset(f"{form.username}|{client}")
    return Token(access_token=issue_token(request.app.state.signing_key, user))


@router.get("/me", response_model=Me, summary="Người dùng hiện tại")
def me(user: CurrentUser, session: SessionDep) -> Me:
    return Me(username=user.username, full_name=user.full_name, role=user.role,
              agency=user.agency_code, granted_agencies=granted_agencies(session, user.username))
