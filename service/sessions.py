"""Server-side session records (table ``auth_session``): one row per web sign-in or API token.

A signed cookie or a JWT alone cannot be taken back: a copy made before logout kept working
for its whole life. The cookie now holds only the row's random id, and a token carries it as
``jti``; every request looks the row up, so revoking it (logout, a password change, an
administrator) ends the credential at once, in every process.

Settings (environment, read when the app is built):

- ``MOTCUA_SESSION_IDLE_MINUTES`` (default 30): a web session unused this long is over;
- ``MOTCUA_SESSION_MAX_HOURS`` (default 12): absolute lifetime of a web session and of a token;
- the cookie is ``Secure`` when ``MOTCUA_PUBLIC_BASE_URL`` starts with ``https://``.

``last_seen_at`` is written at most once per ``TOUCH_EVERY`` per session, not on every request.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from engine.access import AuthSession
from engine.settings import positive_number
from engine.users import User
from printouts.qr import ENV_VAR as PUBLIC_BASE_URL_VAR

DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_MAX_AGE = timedelta(hours=12)
TOUCH_EVERY = timedelta(minutes=1)
WEB, API = "web", "api"


@dataclass(frozen=True)
class SessionSettings:
    idle: timedelta = DEFAULT_IDLE
    max_age: timedelta = DEFAULT_MAX_AGE
    secure_cookie: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SessionSettings:
        """Read the settings; a bad number stops the start-up with the variable's name rather
        than silently falling back to a default."""
        env = os.environ if env is None else env
        idle = positive_number(env, "MOTCUA_SESSION_IDLE_MINUTES",
                               DEFAULT_IDLE / timedelta(minutes=1))
        hours = positive_number(env, "MOTCUA_SESSION_MAX_HOURS",
                                DEFAULT_MAX_AGE / timedelta(hours=1))
        public = env.get(PUBLIC_BASE_URL_VAR, "").strip().lower()
        return cls(idle=timedelta(minutes=idle), max_age=timedelta(hours=hours),
                   secure_cookie=public.startswith("https://"))


def open_session(db: Session, user: User, kind: str, now: datetime, settings: SessionSettings,
                 address: str | None = None, user_agent: str | None = None) -> AuthSession:
    """Record a sign-in and commit it; the returned row's id is the credential's secret part."""
    row = AuthSession(id=secrets.token_urlsafe(32), username=user.username, kind=kind,
                      created_at=now, last_seen_at=now, expires_at=now + settings.max_age,
                      client_address=(address or None) and address[:64],
                      user_agent=(user_agent or None) and user_agent[:255])
    db.add(row)
    db.commit()
    return row


def is_live(row: AuthSession, now: datetime, settings: SessionSettings) -> bool:
    """Not revoked, not past its lifetime, and (web) used within the idle timeout. API tokens
    have no idle timeout: scripts pause for longer than a person at a counter."""
    if row.revoked_at is not None or now >= row.expires_at:
        return False
    return not (row.kind == WEB and now - row.last_seen_at > settings.idle)


def use_session(db: Session, session_id: str | None, now: datetime,
                settings: SessionSettings) -> AuthSession | None:
    """The live session ``session_id`` names, its ``last_seen_at`` refreshed (at most once a
    minute, so that reading pages does not write on every request); None if it is over."""
    if not session_id or len(session_id) > 64:
        return None
    row = db.get(AuthSession, session_id)
    if row is None or not is_live(row, now, settings):
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.add(row)
        db.commit()
    return row


def revoke_session(db: Session, session_id: str, now: datetime, by: str, reason: str) -> bool:
    """Revoke one session (logout); False if it was already over or unknown."""
    row = db.get(AuthSession, session_id)
    if row is None or row.revoked_at is not None:
        return False
    _revoke(row, now, by, reason)
    db.add(row)
    db.commit()
    return True


def revoke_user_sessions(db: Session, username: str, now: datetime, by: str,
                         reason: str) -> int:
    """Revoke every unrevoked session of ``username`` (password change, administrator);
    the number revoked. The caller's own transaction is committed too."""
    rows = db.exec(select(AuthSession).where(AuthSession.username == username,
                                             col(AuthSession.revoked_at).is_(None))).all()
    for row in rows:
        _revoke(row, now, by, reason)
        db.add(row)
    db.commit()
    return len(rows)


def _revoke(row: AuthSession, now: datetime, by: str, reason: str) -> None:
    row.revoked_at, row.revoked_by, row.revoked_reason = now, by[:64], reason[:64]


def active_sessions(db: Session, username: str, now: datetime,
                    settings: SessionSettings) -> list[AuthSession]:
    """The user's sessions still usable now, newest first (for the administrator)."""
    rows = db.exec(select(AuthSession)
                   .where(AuthSession.username == username,
                          col(AuthSession.revoked_at).is_(None),
                          col(AuthSession.expires_at) > now)
                   .order_by(col(AuthSession.created_at).desc())).all()
    return [row for row in rows if is_live(row, now, settings)]


def session_json(row: AuthSession) -> dict[str, Any]:
    """What an administrator sees of a session: never its id (the id *is* the credential);
    a short prefix is enough to tell sessions apart."""
    return {"ref": row.id[:8], "kind": row.kind, "created_at": row.created_at.isoformat(),
            "last_seen_at": row.last_seen_at.isoformat(),
            "expires_at": row.expires_at.isoformat(), "client_address": row.client_address,
            "user_agent": row.user_agent}
