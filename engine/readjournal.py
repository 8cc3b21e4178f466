"""The read journal: who read which dossier's personal data, when, from where (migration 0008).

Reading a dossier (its detail, a printed form, the staff page) shows a citizen's name, ID
number, address and phone; the law on personal data (Nghị định 13/2023/NĐ-CP) expects such
processing to be traceable. It is a plain table, *not* the dossier's hash-chained event log:
reads are many, change nothing, and must not lengthen or lock the chain that proves the
writes. Pure storage: the service fills in the request id and the address.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Index, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, select

from engine.timezone import local_instant


class ReadKind(StrEnum):
    """What was read: the values of ``ReadJournal.what``."""

    DETAIL = "detail"  # the API's dossier detail
    DOCUMENT = "document"  # a printed form (PDF)
    PAGE = "page"  # the staff page /ho-so/{code}

    @property
    def label_vi(self) -> str:
        return {"detail": "Xem chi tiết", "document": "Xem/in giấy tờ",
                "page": "Mở trang hồ sơ"}[self.value]


class ReadJournal(SQLModel, table=True):
    """One read of one dossier by one user."""

    __tablename__ = "read_journal"
    __table_args__ = (
        Index("ix_read_journal_dossier_at", "dossier_code", "at"),
        Index("ix_read_journal_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    username: str = Field(max_length=64)
    role: str = Field(max_length=16)
    agency_code: str = Field(max_length=64)  # the reader's agency
    dossier_code: str = Field(max_length=64)
    what: str = Field(max_length=32)  # a ReadKind
    document: str | None = Field(default=None, max_length=64)  # the form, for a PDF
    request_id: str | None = Field(default=None, max_length=64)
    client_address: str | None = Field(default=None, max_length=64)


def record_read(session: Session, *, username: str, role: str, agency_code: str,
                dossier_code: str, what: str, document: str | None = None,
                request_id: str | None = None, client_address: str | None = None,
                at: datetime | None = None, wait_for_disk: bool = True) -> None:
    """Write one read in ``session``'s transaction (the caller commits: a read request has
    nothing else to commit, so it must do so explicitly). Values are cut to the columns'
    sizes: a long client-chosen request id must not turn a read into an error.

    ``wait_for_disk=False``: on PostgreSQL the transaction's commit then returns before its
    WAL reaches the disk (``synchronous_commit`` off for this transaction only; every other
    keeps waiting) — the wait was a quarter of a dossier page's time under load (issue 18).
    What it risks: a crash of the *database server* (not of MotCua: ``kill -9`` of the
    service loses nothing committed) within about 0.6 s of the commit loses those entries,
    never half of one and never a dossier's row. Said in the same statement as the entry
    (:data:`_INSERT_RELAXED`): a ``SET LOCAL`` of its own was one more round trip. SQLite in
    WAL mode does not wait for the disk at commit anyway."""
    values = dict(at=at or datetime.now(UTC), username=username[:64], role=role[:16],
                  agency_code=agency_code[:64], dossier_code=dossier_code[:64],
                  what=what[:32], document=document[:64] if document else None,
                  request_id=request_id[:64] if request_id else None,
                  client_address=client_address[:64] if client_address else None)
    relaxed = not wait_for_disk and session.get_bind().dialect.name == "postgresql"
    session.execute(_INSERT_RELAXED if relaxed else _INSERT, values)


_TABLE = ReadJournal.__table__
_COLUMNS = [c for c in _TABLE.c if c.name != "id"]
_INSERT = _TABLE.insert()
#: The entry, written only once ``set_config`` has turned this transaction's
#: ``synchronous_commit`` off (it answers the new value, so the condition always holds).
_INSERT_RELAXED = _TABLE.insert().from_select(
    [c.name for c in _COLUMNS],
    sa_select(*(bindparam(c.name, type_=c.type) for c in _COLUMNS)).where(
        func.set_config("synchronous_commit", "off", True) == "off"))


def journal_waits_for_disk(env: Mapping[str, str] = os.environ) -> bool:
    """``MOTCUA_READ_JOURNAL_SYNC``: ``1``/``on`` makes each read's entry wait for the disk
    at commit like any write; unset or ``0``/``off``, it does not
    (``record_read(wait_for_disk=False)``). Anything else stops the start-up."""
    raw = env.get("MOTCUA_READ_JOURNAL_SYNC", "").strip().lower()
    if raw in ("", "0", "off", "false", "no"):
        return False
    if raw in ("1", "on", "true", "yes"):
        return True
    raise ValueError(f"MOTCUA_READ_JOURNAL_SYNC phải là on hoặc off (nhận {raw!r}) / must "
                     "be on or off")


@dataclass(frozen=True)
class ReadFilter:
    """What an auditor asks of the journal; days are local (Asia/Ho_Chi_Minh) and inclusive."""

    dossier: str | None = None
    username: str | None = None
    start: date | None = None
    end: date | None = None


def conditions(wanted: ReadFilter) -> list[ColumnElement[bool]]:
    """The SQL conditions of ``wanted`` on ``ReadJournal`` (local days → UTC instants)."""
    found: list[ColumnElement[bool]] = []
    if wanted.dossier:
        found.append(col(ReadJournal.dossier_code) == wanted.dossier)
    if wanted.username:
        found.append(col(ReadJournal.username) == wanted.username)
    if wanted.start:
        found.append(col(ReadJournal.at) >= local_instant(wanted.start, time()))
    if wanted.end:
        found.append(col(ReadJournal.at) < local_instant(wanted.end + timedelta(days=1),
                                                         time()))
    return found


def reads_of(session: Session, dossier_code: str, *, limit: int = 50) -> list[ReadJournal]:
    """The latest reads of one dossier, newest first (the dossier page's short table)."""
    return list(session.exec(select(ReadJournal)
                             .where(col(ReadJournal.dossier_code) == dossier_code)
                             .order_by(col(ReadJournal.at).desc(), col(ReadJournal.id).desc())
                             .limit(limit)).all())
