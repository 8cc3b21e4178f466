"""What the citizen's lookup answers: status and steps, never personal data."""

from __future__ import annotations

from service.api.schemas.common import Day, Instant, Public


class PublicStep(Public):
    name: str
    started_at: Instant
    finished_at: Instant | None


class PublicStatus(Public):
    code: str
    procedure: str
    status_code: int
    status: str
    received_at: Instant | None
    appointment: Day | None
    returned_at: Instant | None
    steps: list[PublicStep]
