"""The applicant's rating after return (``service/api/ratings.py``): what is sent, what the
lookup answers, and the list of reasons."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from service.api.schemas.common import Instant, Public


class RatingIn(Public):
    """A rating: the lookup secret (as on the receipt, spaces allowed), a score 1–5, reasons
    from ``GET /api/v1/public/rating-reasons`` and an optional comment (at most 1,000
    characters once NFC-normalised)."""

    secret: Annotated[str, Field(min_length=1, max_length=64)]
    score: Annotated[int, Field(ge=1, le=5, description="1 rất không hài lòng … 5 rất hài lòng")]
    reasons: Annotated[list[Annotated[str, Field(max_length=32)]],
                       Field(default_factory=list, max_length=20)]
    comment: Annotated[str, Field(default="", max_length=4000)]


class RatingOut(Public):
    """A stored rating (never who gave it: the lookup has no personal data)."""

    code: str
    score: int
    score_label: str
    reasons: list[str]
    reason_labels: list[str]
    comment: str
    rated_at: Instant


class RatingReason(Public):
    code: str
    label: str


class RatingReasons(Public):
    scores: dict[str, str]
    reasons: list[RatingReason]
    comment_max: int
