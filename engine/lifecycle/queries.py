"""Reading dossiers: by code (with the row lock an action takes), their events, hand-off rows,
issued documents, procedure version and state machine.

Statements run on every action are built once: building a statement and its cache key costs
about as much as running it on SQLite (``bench/lifecycle.py``).
"""

from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.lifecycle.errors import Conflict, InvalidInput, NotFound, is_contention
from engine.lifecycle.machine import DossierMachine, machine_for
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.procedures import ProcedureSpec, get_version

_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))
_BY_CODE_LOCKED = _BY_CODE.with_for_update(nowait=True)
_STEPS = (select(DossierStep).where(DossierStep.dossier_id == bindparam("dossier_id"))
          .order_by(col(DossierStep.seq)))
_AGENCIES = select(Agency).where(col(Agency.code).in_(bindparam("codes", expanding=True)))


def get_dossier(session: Session, code: str, *, lock: bool = False) -> Dossier:
    """Load a dossier by code; with ``lock``, take its row lock (PostgreSQL) or fail fast."""
    query = _BY_CODE
    if lock and session.get_bind().dialect.name == "postgresql":
        query = _BY_CODE_LOCKED
    try:
        dossier = session.exec(query, params={"code": code}).first()
    except OperationalError as exc:
        if not is_contention(exc):  # a lost connection is not a conflict: retried or 503
            raise
        raise Conflict("hồ sơ đang được người khác cập nhật; vui lòng thử lại",
                       code=code) from exc
    if dossier is None:
        raise NotFound(f"không tìm thấy hồ sơ {code}", code=code)
    return dossier


def events_of(session: Session, dossier: Dossier) -> list[DossierEvent]:
    """The dossier's events in order (its journal)."""
    return list(session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                             .order_by(col(DossierEvent.seq))).all())


def steps_of(session: Session, dossier: Dossier) -> list[DossierStep]:
    """The dossier's hand-off rows in order (the control sheet, Mẫu 05/06)."""
    return list(session.exec(_STEPS, params={"dossier_id": dossier.id}).all())


def documents_of(session: Session, dossier: Dossier) -> list[IssuedDocument]:
    """The forms issued for the dossier, reprints included, in the order they were issued."""
    return list(session.exec(select(IssuedDocument)
                             .where(IssuedDocument.dossier_id == dossier.id)
                             .order_by(col(IssuedDocument.id))).all())


def spec_of(session: Session, dossier: Dossier) -> ProcedureSpec:
    """The procedure version the dossier keeps for its whole life (the one of its receipt)."""
    return get_version(session, code=dossier.procedure_code,
                       effective_from=dossier.procedure_version)


def machine_of(spec: ProcedureSpec) -> DossierMachine:
    """The shared machine of the dossier's procedure version."""
    return machine_for(spec.key)


def load_agencies(session: Session, *codes: str | None) -> list[Agency]:
    """Load these agencies into the session in one statement, so that :func:`agency` finds
    them without one more each (while the caller holds the list)."""
    return list(session.exec(_AGENCIES, params={"codes": sorted({c for c in codes if c})}))


def agency(session: Session, code: str, what: str) -> Agency:
    """The agency ``code``, or :class:`InvalidInput` naming the field (``what``) that gave it."""
    found = session.get(Agency, code)
    if found is None:
        raise InvalidInput(f"không có {what} mã {code!r}", field=what, value=code)
    return found
