"""The applicant rates the service once the result was returned (issue 16, SIPAS-like; QĐ 766
criterion 5.4): ``POST /api/v1/public/dossiers/{code}/rating`` with the lookup secret, behind
the same rate limits as the lookup (``service.publicview.guarded_lookup``: a wrong secret is
an unknown code, 404, and counts against the code and the address). Rules and the list of
reasons: ``engine.ratings``; the lookup page's form posts here."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.exc import IntegrityError

from engine.ratings import (
    COMMENT_MAX,
    REASONS,
    SCORE_LABELS,
    AlreadyRated,
    InvalidRating,
    NotReturned,
    Rating,
    RatingError,
    rate,
)
from engine.timezone import to_local
from service.api.schemas.ratings import RatingIn, RatingOut, RatingReason, RatingReasons
from service.clientip import client_address
from service.deps import SessionDep, now
from service.problems import Problem
from service.publicview import guarded_lookup

router = APIRouter(prefix="/api/v1/public", tags=["public"])

_STATUS = {InvalidRating: 422, NotReturned: 409, AlreadyRated: 409}
_TITLES = {InvalidRating: "Đánh giá không hợp lệ",
           NotReturned: "Hồ sơ chưa trả kết quả",
           AlreadyRated: "Hồ sơ đã được đánh giá"}


def rating_out(code: str, rating: Rating) -> RatingOut:
    fields = rating.as_dict()
    return RatingOut(code=code, **{**fields, "rated_at": to_local(fields["rated_at"]).isoformat()})


def _problem(exc: RatingError) -> Problem:
    kind = type(exc)
    message = str(exc)
    errors = [{"field": exc.field, "message": message}] if exc.field else None
    return Problem(_STATUS.get(kind, 422), exc.code, message[:1].upper() + message[1:] + ".",
                   title=_TITLES.get(kind), errors=errors)


@router.get("/rating-reasons", summary="Danh sách lý do và mức điểm đánh giá")
def reasons() -> RatingReasons:
    return RatingReasons(scores={str(k): v for k, v in SCORE_LABELS.items()},
                         reasons=[RatingReason(code=c, label=label)
                                  for c, label in REASONS.items()],
                         comment_max=COMMENT_MAX)


@router.post("/dossiers/{code}/rating", status_code=201,
             summary="Đánh giá mức độ hài lòng sau khi nhận kết quả (công dân)",
             responses={404: {"description": "Sai mã hồ sơ hoặc mã tra cứu"},
                        409: {"description": "Chưa trả kết quả, hoặc đã đánh giá"},
                        429: {"description": "Tra cứu sai quá nhiều lần"}})
def rate_dossier(code: str, body: RatingIn, request: Request, session: SessionDep) -> RatingOut:
    """One rating per dossier, only after the result was returned (status 10); the instant
    is the server's clock."""
    dossier = guarded_lookup(session, request.app.state.limits, code, body.secret,
                             client_address(request))
    try:
        rating = rate(session, dossier, score=body.score, reasons=body.reasons,
                      comment=body.comment, at=now(request))
        session.commit()
    except RatingError as exc:
        session.rollback()
        raise _problem(exc) from None
    except IntegrityError:  # two ratings at once: the unique constraint kept the first
        session.rollback()
        raise _problem(AlreadyRated("hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá "
                                    "một lần")) from None
    return rating_out(dossier.code, rating)
