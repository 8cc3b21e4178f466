"""Signing in, the same way for the API's token and the login page: throttle, authenticate,
record the session (``service/sessions.py``). Hashes and tokens are ``service/auth.py``."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from engine.access import AuthSession
from engine.users import User
from service.auth import authenticate, normalize_username
from service.clientip import client_address
from service.deps import now, session_settings
from service.problems import Problem
from service.sessions import open_session


def too_many(wait: float) -> Problem:
    """429 ``too-many-logins`` with the seconds to wait (``Retry-After``)."""
    seconds = int(wait) + 1
    return Problem(429, "too-many-logins",
                   f"Đăng nhập sai quá nhiều lần; thử lại sau {seconds} giây.",
                   headers={"Retry-After": str(seconds)})


def check_login(request: Request, session: Session, raw_username: str, password: str) -> User:
    """Normalise the username once, throttle, then authenticate (API and web page alike).

    429 ``too-many-logins`` (with Retry-After) while the username+address bucket is full or
    the username's failure delay runs; 401 ``invalid-credentials`` on a wrong password.
    """
    username, address = normalize_username(raw_username), client_address(request)
    limits = request.app.state.limits
    wait = limits.login_wait(username, address)
    if wait:
        raise too_many(wait)
    user = authenticate(session, username, password)
    if user is None:
        limits.login_failed(username)
        raise Problem(401, "invalid-credentials", "Sai tên đăng nhập hoặc mật khẩu.",
                      headers={"WWW-Authenticate": "Bearer"})
    limits.login_succeeded(username, address)
    return user


def start_session(request: Request, session: Session, user: User, kind: str) -> AuthSession:
    """Record the sign-in (its id goes into the cookie or the token's ``jti``)."""
    return open_session(session, user, kind, now(request), session_settings(request),
                        address=client_address(request),
                        user_agent=request.headers.get("user-agent"))
