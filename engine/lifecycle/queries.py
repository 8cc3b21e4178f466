"""Reading dossiers: by code (with the row lock an action takes), their events, hand-off rows,
issued documents, procedure version and state machine.

Statements run on every action are built once: building a statement and its cache key costs
about as much as running it on SQLite (``bench/lifecycle.py``).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from engine.agencies import Agency
from engine.lifecycle.errors import Conflict, InvalidInput, NotFound, is_contention
from engine.lifecycle.machine import DossierMachine, machine_for
from engine.lifecycle.models import Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.lifecycle.states import Action
from engine.procedures import ProcedureSpec, get_version
from engine.text import fold, nfc

_BY_CODE = select(Dossier).where(Dossier.code == bindparam("code"))
_BY_CODE_LOCKED = _BY_CODE.with_for_update(nowait=True)
_STEPS = (select(DossierStep).where(DossierStep.dossier_id == bindparam("dossier_id"))
          .order_by(col(DossierStep.seq)))
_EVENTS = (select(DossierEvent).where(DossierEvent.dossier_id == bindparam("dossier_id"))
           .order_by(col(DossierEvent.seq)))
_DOCUMENTS = (select(IssuedDocument).where(IssuedDocument.dossier_id == bindparam("dossier_id"))
              .order_by(col(IssuedDocument.id)))
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
    return list(session.exec(_EVENTS, params={"dossier_id": dossier.id}).all())


def steps_of(session: Session, dossier: Dossier) -> list[DossierStep]:
    """The dossier's hand-off rows in order (the control sheet, Mẫu 05/06)."""
    return list(session.exec(_STEPS, params={"dossier_id": dossier.id}).all())


def documents_of(session: Session, dossier: Dossier) -> list[IssuedDocument]:
    """The forms issued for the dossier, reprints included, in the order they were issued."""
    return list(session.exec(_DOCUMENTS, params={"dossier_id": dossier.id}).all())


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


def consultable_agencies(session: Session, dossier: Dossier) -> list[Agency]:
    """The agencies the competent agency may ask for an opinion (*lấy ý kiến*, ND 61/2018
    Art 19(5)): every agency of the tree but itself and the one-stop units, which receive and
    return dossiers and give no opinion on them [I: the law names no list]. Higher levels
    first (bộ, tỉnh, xã), then in the tree's code order (the same on every database, where
    names would sort by each one's collation)."""
    return list(session.exec(select(Agency).where(
        Agency.code != dossier.competent_agency, col(Agency.is_one_stop).is_(False))
        .order_by(col(Agency.level), col(Agency.code))))


def recent_procedures(session: Session, username: str, since: datetime,
                      limit: int = 20) -> list[str]:
    """Codes of the procedures whose dossiers ``username`` received since ``since``, the most
    recently received first: the counter's search puts them first among equal matches
    (``engine.catalogue_search``). One grouped statement over the receipt events; an index on
    ``dossier_event (actor_id, at)`` serves it when the event table is large."""
    last = func.max(DossierEvent.at)
    rows = session.exec(
        select(Dossier.procedure_code, last)
        .join(DossierEvent, col(DossierEvent.dossier_id) == col(Dossier.id))
        .where(DossierEvent.actor_id == username, DossierEvent.action == Action.RECEIVE.value,
               col(DossierEvent.at) >= since)
        .group_by(col(Dossier.procedure_code)).order_by(last.desc(), col(Dossier.procedure_code))
        .limit(limit)).all()
    return [code for code, _at in rows]


_SEPARATORS = re.compile(r"[\s.\-()]")
#: A whole dossier code: ``{agency}-{yymmdd}-{number}`` (``engine.lifecycle.codes``).
_WHOLE_CODE = re.compile(r"\S+-[0-9]{6}-[0-9A-Za-z]{4,}")


def phone_or_citizen_id(text: str) -> tuple[str, str] | None:
    """``("phone", "0912345678")`` or ``("id_number", "031195004321")`` when ``text`` is a
    whole Vietnamese phone number (10 digits from 0, or +84/84 and 9 digits; spaces, dots,
    dashes and brackets ignored) or a 12-digit citizen ID (CCCD), in the form both are stored
    at receipt; ``None`` otherwise."""
    digits = _SEPARATORS.sub("", text)
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if re.fullmatch(r"0[0-9]{9}", digits):
        return "phone", digits
    if re.fullmatch(r"[0-9]{12}", digits):
        return "id_number", digits
    return None


def dossier_search(text: str) -> ColumnElement[bool] | None:
    """The condition of the dossiers a counter search ``text`` finds, across all dates.

    A whole phone number or CCCD is compared exactly with the stored (normalised) column, and
    a whole dossier code with the code (both equalities an index can serve); anything else is
    words, each of which must appear in the folded code, applicant name, CCCD or phone
    (``Dossier.search_text``), so "nguyen thi mai" finds "Nguyễn Thị Mai" and "0001" the
    day's first code. ``None`` for blank text (no condition)."""
    text = nfc(text or "").strip()
    exact = phone_or_citizen_id(text)
    if exact is not None:
        kind, digits = exact
        column = Dossier.applicant_phone if kind == "phone" else Dossier.applicant_id_number
        return col(column) == digits
    if _WHOLE_CODE.fullmatch(text):
        return col(Dossier.code).in_(sorted({text, text.upper()}))
    words = fold(text).split()
    if not words:
        return None
    return and_(*(col(Dossier.search_text).contains(w, autoescape=True) for w in words))
