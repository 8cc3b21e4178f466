"""Who may *see* which dossiers (the other half of ``engine.lifecycle.policy``, who may act).

One place for the API, the pages, the reports and the printed documents: a clerk sees the
dossiers received or returned at the clerk's unit, officers and leaders those their agency
processes, auditors those of the agencies granted to them (*kiểm soát TTHC*), and
administrators none (they manage calendars and users, not personal data; domain §2.3).
The condition is SQL, so a list or a report filters in the database, never in Python.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from engine.lifecycle.errors import DossierNotFound, Forbidden
from engine.lifecycle.models import Dossier
from engine.users import Role, granted_agencies


class Viewer(Protocol):
    """Who looks: a stored user (``engine.users.User``) or anything with the same fields."""

    username: str
    role: str
    agency_code: str


def visible_to(session: Session, viewer: Viewer) -> ColumnElement[bool]:
    """The SQL condition of the dossiers ``viewer`` may see; :class:`Forbidden` for roles that
    see no dossier at all."""
    if viewer.role == Role.CLERK:
        return or_(col(Dossier.receiving_agency) == viewer.agency_code,
                   col(Dossier.returning_agency) == viewer.agency_code)
    if viewer.role in (Role.OFFICER, Role.LEADER):
        return col(Dossier.competent_agency) == viewer.agency_code
    if viewer.role == Role.AUDITOR:
        grants = granted_agencies(session, viewer.username)
        return or_(col(Dossier.receiving_agency).in_(grants),
                   col(Dossier.competent_agency).in_(grants))
    raise Forbidden("Quản trị hệ thống không xem dữ liệu hồ sơ cá nhân.", role=viewer.role)


def visible_ranges(session: Session, viewer: Viewer) -> list[ColumnElement[bool]]:
    """:func:`visible_to` as disjoint conditions, each one index range on one scope column
    (``engine.lifecycle.worklist`` reads each range in order and merges them): a clerk's
    receiving agency, then the returning agency of dossiers received elsewhere — two index
    ranges where the OR made the database scan the table. Together they select exactly the
    dossiers of :func:`visible_to`, none twice."""
    if viewer.role == Role.CLERK:
        here = viewer.agency_code
        return [col(Dossier.receiving_agency) == here,
                and_(col(Dossier.returning_agency) == here, col(Dossier.receiving_agency) != here)]
    if viewer.role == Role.AUDITOR:
        grants = granted_agencies(session, viewer.username)
        return [col(Dossier.competent_agency).in_(grants),
                and_(col(Dossier.receiving_agency).in_(grants),
                     col(Dossier.competent_agency).not_in(grants))]
    return [visible_to(session, viewer)]


def visible_dossier(session: Session, viewer: Viewer, code: str) -> Dossier:
    """The dossier ``code`` if ``viewer`` may see it. One outside the viewer's scope raises
    :class:`DossierNotFound` exactly like a code that does not exist, so that codes cannot
    be probed."""
    dossier = session.exec(select(Dossier).where(Dossier.code == code,
                                                 visible_to(session, viewer))).first()
    if dossier is None:
        raise DossierNotFound(f"Không tìm thấy hồ sơ {code}.", code=code)
    return dossier
