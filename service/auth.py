"""Authentication: argon2 password hashes, signed bearer tokens, usernames, demo users.

API clients use the OAuth2 password flow (``POST /api/v1/auth/token``) and send
``Authorization: Bearer …``; the web pages use a session cookie instead (with a CSRF token).
Both name a server-side session record (``service/sessions.py``); login throttling is in
``service/ratelimit.py``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, select

from engine.text import nfc
from engine.users import AppSetting, AuditorGrant, Role, User

#: argon2's defaults (RFC 9106 low-memory profile). ``MOTCUA_ARGON2_PROFILE=test`` makes hashing
#: cheap for the test suite only; the parameters travel inside each hash, so verification of
#: existing hashes is unaffected.
_hasher = (PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
           if os.environ.get("MOTCUA_ARGON2_PROFILE") == "test" else PasswordHasher())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def signing_key(session: Session) -> str:
    """``MOTCUA_SECRET_KEY``, or a random key generated once and kept in the database so that
    restarts and several workers accept the same tokens."""
    configured = os.environ.get("MOTCUA_SECRET_KEY", "").strip()
    if configured:
        return configured
    row = session.get(AppSetting, "token_signing_key")
    if row is None:
        row = AppSetting(key="token_signing_key", value=secrets.token_urlsafe(48))
        session.add(row)
        session.commit()
    return row.value


def issue_token(key: str, user: User, session_id: str, expires_at: datetime) -> str:
    """A bearer token naming its server-side session (``jti``), so that it can be revoked;
    it expires with the session."""
    return jwt.encode({"sub": user.username, "role": user.role, "agency": user.agency_code,
                       "jti": session_id, "iat": datetime.now(UTC), "exp": expires_at},
                      key, algorithm="HS256")


@dataclass(frozen=True)
class TokenClaims:
    username: str
    session_id: str


def read_token(key: str, token: str) -> TokenClaims | None:
    """The user and session of a well-signed, unexpired token, else None. A token without a
    session id (issued before sessions were recorded) is refused: it could not be revoked."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"])
    except jwt.PyJWTError:
        return None
    subject, session_id = claims.get("sub"), claims.get("jti")
    if not isinstance(subject, str) or not isinstance(session_id, str):
        return None
    return TokenClaims(subject, session_id)


def normalize_username(raw: str) -> str:
    """The one spelling of a typed username, used for throttling *and* authenticating.

    Usernames are ``^[a-z0-9_.-]{3,64}$``; a login that throttled ``"auditor   "`` but
    authenticated ``"auditor"`` gave unlimited attempts, so both logins call this first.
    """
    return nfc(raw).strip().lower()


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.get(User, username)
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)  # same cost whether or not the user exists
        return None
    return user if verify_password(user.password_hash, password) else None


_DUMMY_HASH = _hasher.hash("motcua-dummy")


# ----- demo users --------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: Role
    agency: str


#: One user per role on the demo tree: the commune centre's clerk, the commune's officer and
#: leader, an auditor granted every agency, an administrator at the city.
DEMO_USERS = (
    DemoUser("clerk", "Nguyễn Thị Lan", Role.CLERK, "000.01.31.H26"),
    DemoUser("officer", "Trần Văn Minh", Role.OFFICER, "000.00.31.H26"),
    DemoUser("leader", "Lê Văn Hùng", Role.LEADER, "000.00.31.H26"),
    DemoUser("auditor", "Phạm Thu Hà", Role.AUDITOR, "000.00.00.H26"),
    DemoUser("admin", "Đỗ Quang Huy", Role.ADMIN, "000.00.00.H26"),
)


def ensure_demo_users(session: Session, password: str | None = None) -> str | None:
    """Create the demo users if there are none yet.

    The password is ``MOTCUA_DEMO_PASSWORD`` when set, else generated; it is returned (to be
    printed once) only when users were created with a generated password. Never fixed in code.
    """
    if session.exec(select(User)).first() is not None:
        return None
    configured = password or os.environ.get("MOTCUA_DEMO_PASSWORD", "").strip()
    chosen = configured or secrets.token_urlsafe(9)
    hashed = hash_password(chosen)
    from engine.agencies import Agency

    agencies = [a.code for a in session.exec(select(Agency)).all()]
    for demo in DEMO_USERS:
        session.add(User(username=demo.username, full_name=demo.full_name, role=demo.role.value,
                         agency_code=demo.agency, password_hash=hashed))
        if demo.role is Role.AUDITOR:
            for code in agencies:
                session.add(AuditorGrant(username=demo.username, agency_code=code))
    session.commit()
    return None if configured else chosen
