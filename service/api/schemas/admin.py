"""What ``/api/v1/admin`` answers: users, their sessions, a loaded procedure."""

from __future__ import annotations

from service.api.schemas.common import Day, Instant, Public


class UserPublic(Public):
    """A user as an administrator sees it (never the password hash)."""

    username: str
    full_name: str
    role: str
    agency: str
    active: bool
    granted_agencies: list[str]


class SessionPublic(Public):
    """A live session or token; ``ref`` is a prefix of its id (the id is a credential)."""

    ref: str
    kind: str
    created_at: Instant
    last_seen_at: Instant
    expires_at: Instant
    client_address: str | None
    user_agent: str | None


class ProcedureLoaded(Public):
    """A procedure file accepted and loaded, with its versions."""

    code: str
    name: str
    versions: list[Day]
