"""What the citizen's lookup answers: status and steps, never personal data."""

from __future__ import annotations

from service.api.schemas.common import Day, Instant, Public


class PublicStep(Public):
    name: str
    started_at: Instant
    finished_at: Instant | None


class PublicMove(Public):
    """The appointment moved by a calendar edit (a new day off): the citizen's printed date
    changed, so the lookup says from which date to which, and why."""

    at: Instant
    reason: str
    old_appointment: Day | None
    new_appointment: Day | None


class PublicStatus(Public):
    code: str
    procedure: str
    status_code: int
    status: str
    received_at: Instant | None
    appointment: Day | None
    returned_at: Instant | None
    steps: list[PublicStep]
    appointment_moves: list[PublicMove]
