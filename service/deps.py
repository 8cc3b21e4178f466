"""Request-scoped dependencies: the database session and the signed-in user."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from engine.lifecycle.service import Actor
from engine.users import Role, User
from service.auth import read_token
from service.problems import Problem

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use), for forms and the pages' fetch calls."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf(request: Request, sent: str | None) -> None:
    """A cookie-authenticated write must echo the session's CSRF token (form field or
    ``X-CSRF-Token`` header): another site can make the browser send the cookie, not the token.
    """
    expected = request.session.get("csrf")
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise Problem(403, "csrf", "Phiên làm việc không hợp lệ; hãy tải lại trang và thử lại.")


def get_session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def current_user(request: Request, session: SessionDep,
                 token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user of a bearer token, or of the web session cookie."""
    username = None
    if token:
        username = read_token(request.app.state.signing_key, token)
    elif "session" in request.scope:
        username = request.session.get("user")
        if username and request.method not in SAFE_METHODS:
            check_csrf(request, request.headers.get("X-CSRF-Token"))
    user = session.get(User, username) if username else None
    if user is None or not user.active:
        raise Problem(401, "unauthenticated", "Vui lòng đăng nhập.",
                      headers={"WWW-Authenticate": "Bearer"})
    request.state.user = user.username
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role):
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Problem(403, "forbidden",
                          f"Chức năng này dành cho: {', '.join(sorted(allowed))}.")
        return user

    return check


def actor_of(user: User) -> Actor:
    return Actor(id=user.username, role=user.role, agency=user.agency_code, name=user.full_name)


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
