"""What ``/api/v1/auth`` answers."""

from __future__ import annotations

from datetime import datetime

from service.api.schemas.common import Public


class Token(Public):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class Me(Public):
    username: str
    full_name: str
    role: str
    agency: str
    granted_agencies: list[str]


class RevokedSessions(Public):
    """How many sessions a password change or an administrator ended."""

    revoked_sessions: int
