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


class PublicRating(Public):
    """The rating the applicant gave after return (``service/api/ratings.py``)."""

    score: int
    score_label: str
    reasons: list[str]
    reason_labels: list[str]
    comment: str
    rated_at: Instant


class PublicSupplement(Public):
    """What the applicant must add before the online dossier is received (Mẫu 02, once and
    fully): the reason, the items, and the components a file may be sent for."""

    reason: str
    missing: list[str]
    components: list[dict[str, str]]


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
    #: the rating after return (issue 16, ``engine.ratings``): may it be rated now, and the
    #: rating given (score, reasons, comment — never who gave it)
    rateable: bool = False
    rating: PublicRating | None = None
    #: an online dossier awaiting a supplement before receipt (issue 16, docs/online.md)
    supplement: PublicSupplement | None = None
