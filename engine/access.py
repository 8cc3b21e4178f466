"""Storage for signing in: the hits counted by rate limits and the server-side session records.

Both live in the database rather than in a process so that every instance of the service
shares them and a restart forgets nothing (migration 0008). The rules that use them are the
service layer's (``service/ratelimit.py``, ``service/sessions.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel


class RateLimitHit(SQLModel, table=True):
    """One counted event (an attempt, a failure, a lookup) in a limiter's bucket.

    A bucket is ``"<limiter>:<key>"``, e.g. ``"login-address:clerk|10.0.0.7"``; a sliding
    window counts the rows of a bucket newer than ``now - window``.
    """

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_bucket_at", "bucket", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=200)
    at: datetime


class AuthSession(SQLModel, table=True):
    """A web session (cookie) or an API token: the credential only names this row, so
    revoking the row (logout, password change, administrator) ends the credential at once."""

    __tablename__ = "auth_session"

    id: str = Field(primary_key=True, max_length=64)
    username: str = Field(foreign_key="app_user.username", max_length=64, index=True)
    kind: str = Field(max_length=8)  # "web" or "api"
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=64)
    revoked_reason: str | None = Field(default=None, max_length=64)
    client_address: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=255)
