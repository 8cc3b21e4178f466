"""Idempotency keys: a repeated request gets the first answer, and only its own.

An outside probe found the key looked up alone: a clerk at another agency sending the
README's example key got somebody else's dossier back, and a key reused with another body
silently dropped the new applicant. So, after the IETF *Idempotency-Key* draft:

- a key is **scoped** to the user, the user's agency and the route (``receive``, ``submit``,
  ``refuse_at_reception``, ``guide``, ``act``): two users can never meet on one key;
- the record carries the **hash of the request** (what was asked, not when): the same key with
  a different request is :class:`IdempotencyKeyReused` (422), never the old answer;
- the record is written **first**, in the transaction of the request it answers
  (:func:`claim_if_new`: ``INSERT … ON CONFLICT DO NOTHING``, one statement). A concurrent
  repeat therefore waits for that transaction (PostgreSQL's unique index, SQLite's write lock)
  and then finds the committed record and replays it; where a plain insert lost the race
  (:func:`claim`) it fails with :class:`IdempotencyRace`, and the caller rolls back and asks
  again (:func:`retrying`) — every repeat gets the answer, none gets a 409.

The event's own ``idempotency_key`` column holds the scope hash (unique, hash-chained).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from engine.lifecycle.errors import LifecycleError, contention_as_conflict
from engine.lifecycle.models import IdempotencyRecord

T = TypeVar("T")


class IdempotencyKeyReused(LifecycleError):
    """The key was already used by this user on this route for a different request."""

    type = "idempotency-key-reused"
    status = 422


class IdempotencyRace(Exception):
    """A concurrent request with the same key committed first: roll back and ask again."""


@dataclass(frozen=True, slots=True)
class Idempotency:
    """One request's key, its scope and the fingerprint of what it asks."""

    username: str
    agency: str
    route: str
    key: str
    request_hash: str

    @property
    def scope_hash(self) -> str:
        raw = "\n".join((self.username, self.agency, self.route, self.key))
        return hashlib.sha256(raw.encode()).hexdigest()


def fingerprint(**request: Any) -> str:
    """SHA-256 of a request's meaning as canonical JSON (sorted keys, NFC text already).

    Built from the parameters of the call rather than the raw HTTP body, so that the same
    request from the API, the pages or the CLI has one fingerprint and a re-serialised body
    (other key order, other spacing) is still "the same request"."""
    canonical = json.dumps(request, sort_keys=True, ensure_ascii=False, default=_plain,
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    return str(value)


def scoped(key: str | None, *, username: str, agency: str, route: str,
           **request: Any) -> Idempotency | None:
    """The :class:`Idempotency` of a call, or None without a key."""
    if not key:
        return None
    return Idempotency(username, agency, route, key, fingerprint(route=route, **request))


def find(session: Session, idem: Idempotency) -> IdempotencyRecord | None:
    """The committed record of this key in this scope; :class:`IdempotencyKeyReused` when it
    answered a different request."""
    record = session.get(IdempotencyRecord, idem.scope_hash)
    if record is not None and record.request_hash != idem.request_hash:
        raise IdempotencyKeyReused(
            "khóa Idempotency-Key đã được dùng cho một yêu cầu khác; hãy dùng khóa mới cho "
            "mỗi yêu cầu mới", idempotency_key=idem.key)
    return record


def claim(session: Session, idem: Idempotency) -> None:
    """Write the record before the work: a concurrent repeat now waits for this transaction.

    Raises :class:`IdempotencyRace` when another transaction with the same key committed
    meanwhile; a database busy for other reasons is a Conflict, as for any first write."""
    try:  # no savepoint: the caller rolls the whole transaction back (see retrying)
        with contention_as_conflict(idempotency_key=idem.key):
            session.connection().execute(IdempotencyRecord.__table__.insert().values(
                scope_hash=idem.scope_hash, username=idem.username, route=idem.route,
                key=idem.key, request_hash=idem.request_hash, created_at=datetime.now(UTC)))
    except IntegrityError as exc:
        raise IdempotencyRace(idem.key) from exc


@cache
def _claim_statement(dialect: str) -> Any:
    """:func:`claim_if_new`'s statement, built once per dialect."""
    table = IdempotencyRecord.__table__
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return insert.on_conflict_do_nothing(index_elements=["scope_hash"]).returning(
        table.c.scope_hash)


def claim_if_new(session: Session, idem: Idempotency) -> bool:
    """Write the record unless one of this scope exists: ``True`` when this request claimed
    the key, ``False`` when a committed record answers it (look it up with :func:`find`).

    One statement for the usual, first request (a lookup first cost a round trip on every
    keyed receipt; issue 18). A concurrent repeat still waits for the claiming transaction
    (PostgreSQL's unique index, SQLite's write lock) and then finds its committed record."""
    conn = session.connection()
    with contention_as_conflict(idempotency_key=idem.key):
        inserted = conn.execute(_claim_statement(conn.dialect.name), dict(
            scope_hash=idem.scope_hash, username=idem.username, route=idem.route,
            key=idem.key, request_hash=idem.request_hash,
            created_at=datetime.now(UTC))).first()
    return inserted is not None


def settle(session: Session, idem: Idempotency, *, dossier_id: int | None = None,
           event_id: int | None = None, guidance_id: int | None = None) -> None:
    """Point the claimed record at the answer (same transaction)."""
    session.connection().execute(
        update(IdempotencyRecord.__table__)
        .where(IdempotencyRecord.__table__.c.scope_hash == idem.scope_hash)
        .values(dossier_id=dossier_id, event_id=event_id, guidance_id=guidance_id))


def retrying(session: Session, call: Callable[[], T], attempts: int = 3) -> T:
    """Run ``call`` (one unit of work on ``session``); when it lost an idempotency race, roll
    back and run it again, so that it replays the winner's committed answer."""
    for attempt in range(attempts):
        try:
            return call()
        except IdempotencyRace:
            session.rollback()
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
