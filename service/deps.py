"""Request-scoped dependencies: the database session and the signed-in user (found through
its server-side session record, ``service/sessions.py``)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session, col, select

from engine.access import AuthSession
from engine.lifecycle import Actor
from engine.users import Role, User
from service.auth import read_token
from service.problems import Problem
from service.sessions import API, SessionSettings, use_session

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


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's database session. Opened on the event loop (no I/O: the connection is
    taken at the first statement, in the route's thread) and closed in a worker thread only
    when it holds a connection (returning it rolls back, a round trip): a sync generator
    here cost two thread hops per request, each a wait for the interpreter lock under load
    (issue 18)."""
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


def now(request: Request) -> datetime:
    """The app's clock (``app.state.clock``; tests move it instead of sleeping)."""
    return request.app.state.clock()


def session_settings(request: Request) -> SessionSettings:
    return request.app.state.session_settings


def _live_user(request: Request, session: Session, row: AuthSession | None) -> User | None:
    """The active user of a live session (remembered on the request, for logout); a session
    opened before the user's last password change is over even if nobody revoked it (belt
    and braces)."""
    user = session.get(User, row.username) if row is not None else None
    if user is None or not user.active:
        return None
    if user.password_changed_at is not None and row.created_at < user.password_changed_at:
        return None
    request.state.auth_session_id = row.id
    return user


def _with_user(session: Session, session_id: str | None) -> Any:
    """The ``auth_session`` row and its user read in one statement, to be held by the caller
    while ``use_session`` and ``_live_user`` look them up by key (found in the session's
    identity map, which holds them only while referenced): one statement per request for
    authentication instead of two."""
    if not session_id or len(session_id) > 64:
        return None
    return session.exec(select(AuthSession, User).where(AuthSession.id == session_id)
                        .join(User, col(User.username) == col(AuthSession.username),
                              isouter=True)).first()


def web_user(request: Request, session: Session) -> User | None:
    """The user of the web session cookie, or None: the cookie holds only the id of an
    ``auth_session`` row, which must still be live."""
    if "session" not in request.scope:
        return None
    held = _with_user(session, request.session.get("sid"))  # noqa: F841 (held, see there)
    row = use_session(session, request.session.get("sid"), now(request),
                      session_settings(request))
    return _live_user(request, session, row)


def token_user(request: Request, session: Session, token: str) -> User | None:
    """The user of a bearer token whose session (``jti``) is still live, or None."""
    claims = getattr(request.state, "token_claims", None)  # read by bearer_token, if it ran
    if claims is None:
        claims = read_token(request.app.state.signing_key, token)
    if claims is None:
        return None
    held = _with_user(session, claims.session_id)  # noqa: F841 (held, see there)
    row = use_session(session, claims.session_id, now(request), session_settings(request))
    if row is None or row.username != claims.username or row.kind != API:
        return None
    return _live_user(request, session, row)


def _unauthenticated() -> Problem:
    return Problem(401, "unauthenticated", "Vui lòng đăng nhập.",
                   headers={"WWW-Authenticate": "Bearer"})


async def bearer_token(request: Request,
                       token: Annotated[str | None, Depends(oauth2_scheme)]) -> str | None:
    """The bearer token of a route that authenticates in its own thread (:func:`authenticate`).
    Checked here, on the event loop and before the body is validated, as far as it can be
    without the database: no token and no session cookie, or a token not well signed or
    expired, is a 401 at once (not a 422 about a body nobody may send). Whether the session is
    still live is for :func:`authenticate`; the claims read here are kept for it."""
    if token:
        claims = read_token(request.app.state.signing_key, token)
        if claims is None:
            raise _unauthenticated()
        request.state.token_claims = claims
    elif "session" not in request.scope or not request.session.get("sid"):
        raise _unauthenticated()
    return token


#: The bearer token, if any, checked as far as it can be without the database
#: (:func:`bearer_token`). A route that authenticates inside its own worker thread takes this
#: and calls :func:`authenticate`.
BearerToken = Annotated[str | None, Depends(bearer_token)]


def current_user(request: Request, session: SessionDep,
                 token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user of a bearer token, or of the web session cookie."""
    return authenticate(request, session, token)


def authenticate(request: Request, session: Session, token: str | None) -> User:
    """:func:`current_user` called by a route in its own thread. FastAPI runs every sync
    dependency in a worker thread of its own, and under load each such hop waits for the event
    loop and the interpreter lock: the busiest routes (issue 18) authenticate in the thread
    that does their work, one hop per request instead of two."""
    if token:
        user = token_user(request, session, token)
    else:
        user = web_user(request, session)
        if user is not None and request.method not in SAFE_METHODS:
            check_csrf(request, request.headers.get("X-CSRF-Token"))
    if user is None:
        raise _unauthenticated()
    request.state.user = user.username
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require_roles(*roles: Role):
    allowed = {r.value for r in roles}

    def check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise Problem(403, "forbidden",
                          "Chức năng này dành cho: "
                          f"{', '.join(Role(r).label_vi for r in sorted(allowed))}.")
        return user

    return check


def actor_of(user: User) -> Actor:
    return Actor(id=user.username, role=user.role, agency=user.agency_code, name=user.full_name)


def request_id(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)
