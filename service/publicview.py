"""What a citizen may know of a dossier, for the lookup API and the lookup page alike: found
by its code *and* its secret (printed on the receipt), and only status and steps — no
personal data. A wrong secret answers exactly like an unknown code, so codes cannot be
probed."""

from __future__ import annotations

import hmac

from sqlmodel import Session, select

from engine.lifecycle import steps_of
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import State
from engine.timezone import to_local
from service.api.schemas.public import PublicStatus, PublicStep
from service.problems import Problem

NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập."


def lookup(session: Session, code: str, secret: str) -> Dossier:
    """The dossier of ``code`` if ``secret`` is its own (compared in constant time, also for
    an unknown code), else 404 ``dossier-not-found``."""
    dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
    expected = dossier.secret if dossier else "x" * 16
    if not hmac.compare_digest(expected.encode(), secret.encode()) or dossier is None:
        raise Problem(404, "dossier-not-found", NOT_FOUND)
    return dossier


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
    )
