"""The applicant's rating of the service after the result was returned (*đánh giá mức độ hài
lòng*, SIPAS-like; QĐ 766 criterion 5.4): one per dossier, a score 1–5, reasons from a fixed
list and a comment.

Why only after return (state ``returned``, national status 10) [I]: the rating is of the whole
service — reception, processing and the hand-over of the result — and QĐ 766 5.4 counts the
dossiers that were *settled*; a dossier refused, withdrawn or stopped has no returned result to
judge (its applicant can still complain through the feedback channels). Once only: a second
rating would let one dossier weigh twice in the satisfaction figures.

Why the reasons are a fixed list of codes (not free text): the dashboard counts them per agency
and procedure; the labels follow the SIPAS areas (access, procedure, officials, result,
feedback) plus time, cost and the online channel [I]. A code is never renamed; a new one may
be added. The comment is free text (NFC, at most :data:`COMMENT_MAX` characters, no control
or bidirectional characters). The instant is the server's clock.

"Dislike" (*không hài lòng*) for QĐ 766 5.4 is a score ≤ ``MOTCUA_RATING_DISLIKE_MAX``
(default 2) [I] (:func:`dislike_max`).

The "returned" message to the applicant (``engine.timed.messages``) ends with the lookup link
opened at the rating form (``…/tra-cuu?ma=CODE&k=SECRET#danh-gia``): the secret is in the link
because rating needs it, and the message goes only to the applicant's own e-mail or phone (as
the receipt's QR code carries it); the lookup page takes it out of the address bar at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, SmallInteger
from sqlmodel import Field, Session, SQLModel, select

from engine.lifecycle.models import Dossier, utcnow
from engine.lifecycle.states import State
from engine.text import nfc, unsafe_characters

#: The reasons an applicant may tick, code → Vietnamese label (the form shows them in this
#: order). SIPAS-like areas [I]; codes are stable (reports count them).
REASONS: dict[str, str] = {
    "time": "Thời gian giải quyết (đúng hẹn hay trễ hẹn)",
    "attitude": "Thái độ phục vụ của công chức",
    "guidance": "Hướng dẫn của công chức (rõ ràng, đầy đủ, một lần)",
    "procedure": "Thủ tục hành chính (thành phần hồ sơ, mức độ phức tạp)",
    "cost": "Chi phí (phí, lệ phí và các chi phí khác)",
    "access": "Tiếp cận dịch vụ (nơi tiếp nhận, trang thiết bị, cổng dịch vụ công)",
    "result": "Kết quả giải quyết (chính xác, đầy đủ)",
    "notice": "Thông tin, thông báo về tình trạng hồ sơ",
    "other": "Khác",
}
SCORE_LABELS = {1: "Rất không hài lòng", 2: "Không hài lòng", 3: "Bình thường",
                4: "Hài lòng", 5: "Rất hài lòng"}
COMMENT_MAX = 1000
DISLIKE_ENV = "MOTCUA_RATING_DISLIKE_MAX"
DEFAULT_DISLIKE_MAX = 2


class Rating(SQLModel, table=True):
    """One applicant's rating of one dossier (migration 0015); unique per dossier."""

    __tablename__ = "dossier_rating"

    id: int | None = Field(default=None, primary_key=True)
    dossier_id: int = Field(foreign_key="dossier.id", unique=True)
    score: int = Field(sa_column=Column(SmallInteger, nullable=False))
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", max_length=COMMENT_MAX)
    rated_at: datetime = Field(default_factory=utcnow, index=True)

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "score_label": SCORE_LABELS[self.score],
                "reasons": list(self.reasons),
                "reason_labels": [REASONS.get(r, r) for r in self.reasons],
                "comment": self.comment, "rated_at": self.rated_at}


class RatingError(Exception):
    """A rating refused; ``code`` is the problem type, the message Vietnamese."""

    code = "rating-invalid"
    field: str | None = None

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field or self.field


class InvalidRating(RatingError):
    code = "rating-invalid"


class NotReturned(RatingError):
    code = "rating-not-returned"


class AlreadyRated(RatingError):
    code = "rating-exists"


def dislike_max(env: Mapping[str, str] | None = None) -> int:
    """The highest score that counts as "dislike" for QĐ 766 5.4 (1–4; default 2) [I]."""
    raw = (os.environ if env is None else env).get(DISLIKE_ENV, "").strip()
    if not raw:
        return DEFAULT_DISLIKE_MAX
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{DISLIKE_ENV} phải là số nguyên từ 1 đến 4, không phải {raw!r}") \
            from None
    if not 1 <= value <= 4:
        raise ValueError(f"{DISLIKE_ENV} phải là số nguyên từ 1 đến 4, không phải {raw!r}")
    return value


def rating_of(session: Session, dossier: Dossier) -> Rating | None:
    return session.exec(select(Rating).where(Rating.dossier_id == dossier.id)).first()


def can_rate(dossier: Dossier) -> bool:
    """Only a returned dossier is rated (see the module's docstring)."""
    return dossier.state == State.RETURNED.value


def clean(score: Any, reasons: Iterable[Any] | None, comment: Any) -> tuple[int, list[str], str]:
    """The rating's fields checked and normalised, or :class:`InvalidRating` naming the field.
    Reasons keep the list's order, each once."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise InvalidRating("điểm đánh giá phải là số nguyên từ 1 đến 5", field="score")
    chosen: list[str] = []
    for reason in reasons or ():
        if not isinstance(reason, str) or reason not in REASONS:
            raise InvalidRating(f"lý do không có trong danh sách: {reason!r}; cho phép: "
                                f"{', '.join(REASONS)}", field="reasons")
        if reason not in chosen:
            chosen.append(reason)
    text = nfc(comment or "", strip=True)
    if not isinstance(text, str):
        raise InvalidRating("ý kiến phải là văn bản", field="comment")
    if len(text) > COMMENT_MAX:
        raise InvalidRating(f"ý kiến tối đa {COMMENT_MAX} ký tự", field="comment")
    bad = unsafe_characters(text, multiline=True)
    if bad:
        raise InvalidRating(f"ý kiến chứa ký tự không được phép ({', '.join(bad)})",
                            field="comment")
    return score, [r for r in REASONS if r in chosen], text


def rate(session: Session, dossier: Dossier, *, score: Any, reasons: Iterable[Any] | None = (),
         comment: Any = "", at: datetime | None = None) -> Rating:
    """Store the applicant's rating of ``dossier`` (the caller commits). Refused with
    :class:`NotReturned` before the return, :class:`AlreadyRated` the second time (the unique
    constraint also stops two at once), :class:`InvalidRating` for bad fields."""
    score, reasons, comment = clean(score, reasons, comment)
    if not can_rate(dossier):
        raise NotReturned("chỉ đánh giá được sau khi đã nhận kết quả giải quyết hồ sơ")
    if rating_of(session, dossier) is not None:
        raise AlreadyRated("hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần")
    rating = Rating(dossier_id=dossier.id, score=score, reasons=reasons, comment=comment,
                    rated_at=at or utcnow())
    session.add(rating)
    session.flush()
    return rating
