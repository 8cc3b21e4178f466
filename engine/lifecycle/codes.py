"""Dossier codes (*mã số hồ sơ*) and other gap-free sequences (domain §7.1, decree118 §0.2a).

Formats are a versioned setting because the law changed them and may again:

- ``2018`` (TT 01/2018 Art 19): ``AGENCYCODE-YYMMDD-XXXX`` — the receiving agency's identifier,
  the local receipt date and a 4-digit daily sequence (at most 9 999 a day).
- ``centralised`` (TT 04/2025 adding Art 13(3) TT 03/2025, from 25/01/2026, for nationally
  centralised systems): ``AGENCYCODE-YYMMDD-AAXXXX`` — the resolving agency's identifier, ``AA``
  two digits of the system owner's identifier, and a sequence of at least 4 digits, uncapped.

Numbers come from one database row per (scheme, agency, local day), incremented atomically with
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the receiving transaction: concurrent
receipts serialise on that row, a rolled-back receipt gives its number back, and a committed
number is never issued twice — so codes are unique and gap-free per agency-day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlmodel import Session

from engine.lifecycle.errors import LifecycleError, contention_as_conflict

CENTRALISED_FROM = date(2026, 1, 25)
SCHEMES = ("2018", "centralised")


class CodeCapacityExceeded(LifecycleError, RuntimeError):
    """The 2018 format allows 9 999 dossiers per agency per day.

    A :class:`LifecycleError`, so callers (the API) answer with a problem document, not a 500.
    """

    type = "code-capacity-exceeded"
    status = 409


_NEXT_VALUE = text("INSERT INTO counter (scope, value) VALUES (:scope, 1) "
                   "ON CONFLICT (scope) DO UPDATE SET value = counter.value + 1 "
                   "RETURNING value")


def next_value(session: Session, scope: str) -> int:
    """Atomically increment and return the counter named ``scope`` (first value: 1).

    Often the first write of its transaction, where SQLite waits for its write lock: a wait
    that runs out raises :class:`~engine.lifecycle.errors.Conflict`.
    """
    with contention_as_conflict(scope=scope):
        return session.connection().execute(_NEXT_VALUE, {"scope": scope}).scalar_one()


def scheme_for(configured: str, receipt_day: date) -> str:
    """The code format in force for a dossier received on ``receipt_day``.

    ``auto`` and ``2018`` mean the 2018 format; ``centralised`` applies from 25/01/2026 only
    (a dossier keeps the rules in force on its receipt date).
    """
    if configured == "centralised" and receipt_day >= CENTRALISED_FROM:
        return "centralised"
    return "2018"


def new_dossier_code(session: Session, *, agency_code: str, receipt_day: date,
                     scheme: str = "auto", system_digits: str = "00") -> str:
    """Issue the next dossier code of ``agency_code`` for the local day ``receipt_day``."""
    effective = scheme_for(scheme, receipt_day)
    seq = next_value(session, f"code:{effective}:{agency_code}:{receipt_day:%y%m%d}")
    if effective == "2018":
        if seq > 9999:
            raise CodeCapacityExceeded(
                f"đã hết số mã hồ sơ trong ngày {receipt_day:%d/%m/%Y} của {agency_code} (9999)",
                agency=agency_code, day=receipt_day.isoformat())
        return f"{agency_code}-{receipt_day:%y%m%d}-{seq:04d}"
    return f"{agency_code}-{receipt_day:%y%m%d}-{system_digits}{seq:04d}"


def register_number(session: Session, *, agency_code: str, year: int) -> int:
    """Next number in the agency's register (*Sổ theo dõi hồ sơ*): from 01 for the whole year."""
    return next_value(session, f"register:{agency_code}:{year}")


def document_number(session: Session, *, agency_code: str, form: str, year: int) -> int:
    """Next number of an issued form of one agency in one year (``Số: 05/HDHS``)."""
    return next_value(session, f"doc:{form}:{agency_code}:{year}")
