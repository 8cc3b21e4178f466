"""What ``/api/v1/read-journal`` answers: who read which dossier, newest first."""

from __future__ import annotations

from service.api.schemas.common import Instant, Public


class ReadEntry(Public):
    id: int
    at: Instant
    username: str
    role: str
    agency: str
    dossier: str
    what: str
    document: str | None
    request_id: str | None
    client_address: str | None


class ReadPage(Public):
    """One page of reads; ``next`` is the ``before`` cursor of the following page."""

    items: list[ReadEntry]
    next: int | None
