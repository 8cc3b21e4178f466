"""The explanation of a due date (*vì sao hẹn ngày này*): the calculator's answer and the
counter's, both from ``engine.deadline.Due.explanation``."""

from __future__ import annotations

from service.api.schemas.common import Day, Instant, Public


class DayNote(Public):
    """A day skipped (day off) or counted (make-up working day) on the way to the due date."""

    date: Day
    weekday: str
    counted: bool
    kind: str
    reason: str
    legal_basis: str
    confirmed: bool
    estimated: bool


class ExplainedLimit(Public):
    amount: float
    unit: str
    label: str


class DueExplanation(Public):
    """Why the appointment falls on that day: a Vietnamese paragraph and its parts."""

    text: str
    received_at: Instant
    #: The instant the count is based on (a boundary-free dossier: the competent agency's
    #: acceptance or the transfer deadline it assumes; a restart: the complete supplement).
    clock_starts_at: Instant
    start_reason: str | None
    limit: ExplainedLimit
    counted_from: Day
    first_counted_day: Day | None
    shift_reason: str | None
    #: Calendar days: the nominal last day, a day off, the due date moved from.
    rolled_from: Day | None
    skipped: list[DayNote]
    makeup_days_counted: list[DayNote]


class Deadline(Public):
    """``GET /api/v1/deadline``: the due date of a time limit on the national calendar."""

    due: Day
    due_at: Instant
    explanation: DueExplanation
