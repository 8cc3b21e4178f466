"""What a citizen may know of a dossier, for the lookup API and the lookup page alike: found
by its code *and* its secret (printed on the receipt), and only status and steps — no
personal data. A wrong secret answers exactly like an unknown code, so codes cannot be
probed."""

from __future__ import annotations

import hmac
import logging
import re

from sqlmodel import Session, select

from engine.lifecycle import events_of, moves_of, spec_of, steps_of
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import State
from engine.timezone import to_local
from service.api.schemas.public import (
    PublicMove,
    PublicRating,
    PublicStatus,
    PublicStep,
    PublicSupplement,
)
from service.problems import Problem
from service.ratelimit import Limits

NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập."
TOO_MANY = "Bạn tra cứu quá nhiều lần; vui lòng thử lại sau."
_SPACES = re.compile(r"\s+")


def typed_secret(secret: str) -> str:
    """The secret as stored: the receipt prints it in groups of four (easier to copy from
    paper), so the spaces a citizen types between the groups are not part of it."""
    return _SPACES.sub("", secret)


def lookup(session: Session, code: str, secret: str) -> Dossier:
    """The dossier of ``code`` if ``secret`` is its own (compared in constant time, also for
    an unknown code), else 404 ``dossier-not-found``."""
    code, secret = code.strip(), typed_secret(secret)
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    expected = dossier.secret if dossier else "x" * 16
    if not hmac.compare_digest(expected.encode(), secret.encode()) or dossier is None:
        raise Problem(404, "dossier-not-found", NOT_FOUND)
    return dossier


_SECRET_IN_QUERY = re.compile(r"([?&](?:k|secret)=)[^&#\s]*")


def redact_secret(path: str) -> str:
    """``path`` with the lookup secret of its query string (``k=`` of the receipt's QR link,
    ``secret=`` of the API) replaced by ``***``."""
    return _SECRET_IN_QUERY.sub(r"\1***", path)


class SecretRedaction(logging.Filter):
    """Keeps lookup secrets out of the access log: the receipt's QR link carries the secret in
    its query (a scanned code opens the dossier at once), and uvicorn logs every request's
    path and query. Installed on ``uvicorn.access`` by ``motcua serve``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_secret(a) if isinstance(a, str) else a
                                for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact_secret(record.msg)
        return True


def guarded_lookup(session: Session, limits: Limits, code: str, secret: str,
                   address: str) -> Dossier:
    """:func:`lookup` behind the citizen rate limits (``service/ratelimit.py``): 429
    ``rate-limited`` while the code or the address must wait — decided *before* the secret is
    compared, so a guess is never confirmed while waiting — and a wrong secret counted against
    both. Per code *and* per address rather than per address alone: a shared address (a
    centre's Wi-Fi, a carrier's NAT) where someone mistyped other codes still opens the right
    dossier, while one code's guesses are slowed from every address together."""
    code = code.strip()
    wait = limits.lookup_wait(code, address)
    if wait:
        raise Problem(429, "rate-limited", TOO_MANY,
                      headers={"Retry-After": str(int(wait) + 1)})
    try:
        return lookup(session, code, secret)
    except Problem:
        limits.lookup_failed(code, address)
        raise


def supplement_guidance(session: Session, dossier: Dossier) -> PublicSupplement | None:
    """The guidance of the supplement request an online dossier awaits before receipt (the
    applicant uploads through the lookup page, docs/online.md); None otherwise."""
    if dossier.state != State.AWAITING_SUPPLEMENT.value or dossier.received_at is not None:
        return None
    asked = next((e for e in reversed(events_of(session, dossier))
                  if e.action == "request_supplement"), None)
    items = ((asked.payload or {}).get("missing") or []) if asked else []
    missing = [str(i.get("name", "")) if isinstance(i, dict) else str(i) for i in items]
    components = [{"id": str(n), "name": c.name}
                  for n, c in enumerate(spec_of(session, dossier).components, start=1)]
    return PublicSupplement(reason=(asked.reason if asked else None) or "", missing=missing,
                            components=components)


def public_view(session: Session, dossier: Dossier) -> PublicStatus:
    state = State(dossier.state)
    return PublicStatus(
        code=dossier.code,
        procedure=dossier.procedure_name,
        status_code=dossier.status_code,
        status=state.label_vi,
        received_at=to_local(dossier.received_at).isoformat() if dossier.received_at else None,
        appointment=dossier.appointment_date.isoformat() if dossier.appointment_date else None,
        returned_at=to_local(dossier.returned_at).isoformat() if dossier.returned_at else None,
        steps=[PublicStep(name=s.step_name, started_at=to_local(s.started_at).isoformat(),
                          finished_at=to_local(s.finished_at).isoformat()
                          if s.finished_at else None)
               for s in steps_of(session, dossier)],
        # A calendar edit that moved the printed appointment (issue 15): dates and reason only.
        appointment_moves=[PublicMove(at=to_local(m.at).isoformat(), reason=m.reason,
                                      old_appointment=m.old_appointment.isoformat()
                                      if m.old_appointment else None,
                                      new_appointment=m.new_appointment.isoformat()
                                      if m.new_appointment else None)
                           for m in moves_of(session, dossier) if m.appointment_moved],
        **rating_view(session, dossier),
        supplement=supplement_guidance(session, dossier),
    )


def rating_view(session: Session, dossier: Dossier) -> dict:
    """The lookup's rating part (issue 16): ``rateable`` once returned and not yet rated, and
    the rating given (the page shows its form or the rating)."""
    from engine.ratings import can_rate, rating_of

    rating = rating_of(session, dossier) if can_rate(dossier) else None
    if rating is None:
        return {"rateable": can_rate(dossier), "rating": None}
    fields = rating.as_dict()
    return {"rateable": False, "rating": PublicRating(
        **{**fields, "rated_at": to_local(fields["rated_at"]).isoformat()})}
