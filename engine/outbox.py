"""The outbox (*hộp thư đi*): every message MotCua sends — to staff, to citizens, to the
national portal — is first a row here, written in the same transaction as its cause.

Why a table and not a send in the request: a message written with its cause is committed with
it or not at all, so a crash can neither lose a message whose cause happened nor send one whose
cause rolled back. Delivery happens later, in workers (``service/delivery``), which may run in
several processes.

Exactly once, by construction:

- **Written once.** Each message has a uniqueness key — dossier, step, kind, rung, channel and
  recipient (:func:`message_key`) — and :func:`enqueue` inserts with ``ON CONFLICT DO NOTHING``:
  a sweep that runs twice, two scheduler processes, or a sweep resumed after a crash find the
  row already there.
- **Claimed by one worker.** :func:`claim` takes due rows with ``FOR UPDATE SKIP LOCKED``
  (PostgreSQL; SQLite has one writer at a time) and leases them for a while; a worker that dies
  mid-send loses its lease and another takes the row over.
- **Delivered idempotently.** The key travels as the message id (``Message-ID``, the webhook's
  ``Idempotency-Key``), so the rare second delivery after a lost acknowledgement is recognised
  by the receiver.

Failures are retried with exponential backoff up to :data:`MAX_ATTEMPTS`, then the row is
*dead* and listed for administrators, who can retry it (:func:`retry_dead`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, func, or_, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Field, Session, SQLModel, col, select


def utcnow() -> datetime:
    return datetime.now(UTC)


class Channel(StrEnum):
    """How a message travels (*kênh gửi*)."""

    IN_APP = "in_app"  # the bell on every staff page; recipient = username
    EMAIL = "email"  # SMTP (MOTCUA_SMTP_*); recipient = an e-mail address
    WEBHOOK = "webhook"  # signed POST (MOTCUA_WEBHOOK_*); recipient = the target's name
    #: the national portal's sync (MOTCUA_PORTAL_*; engine/sync/outbound.py): one record per
    #: state change, sent in order per dossier (:func:`claim`); recipient = "portal"
    PORTAL = "portal"

    @property
    def label_vi(self) -> str:
        return {"in_app": "Trong ứng dụng", "email": "Thư điện tử",
                "webhook": "Webhook", "portal": "Cổng DVC quốc gia"}[self.value]

    @property
    def applicant_label_vi(self) -> str:
        """How the channel reads to a citizen ("sent by …"): the webhook carries SMS/Zalo."""
        return {"in_app": "thông báo trong ứng dụng", "email": "thư điện tử",
                "webhook": "tin nhắn SMS",
                "portal": "Cổng Dịch vụ công quốc gia"}[self.value]


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its first attempt or a retry (next_attempt_at)
    SENDING = "sending"  # claimed by a worker until claimed_until
    DELIVERED = "delivered"  # handed over (in-app: stored, visible in the bell)
    DEAD = "dead"  # gave up after MAX_ATTEMPTS; an administrator may retry

    @property
    def label_vi(self) -> str:
        return {"pending": "Chờ gửi", "sending": "Đang gửi", "delivered": "Đã gửi",
                "dead": "Gửi thất bại"}[self.value]


#: Attempts before a message is dead; with :func:`backoff` the last is about an hour after the
#: first (30 s + 1 + 2 + 4 + 8 + 16 + 30 min).
MAX_ATTEMPTS = 8
#: How long a claimed row stays with its worker before another may take it over.
CLAIM_SECONDS = 120
#: The portal's messages not delivered yet, per dossier in order (migration 0018): what
#: :func:`claim` looks up to keep a dossier's records in order.
PORTAL_OPEN = "channel = 'portal' AND state <> 'delivered'"


class OutboxMessage(SQLModel, table=True):
    """One message to one recipient on one channel (migration 0009)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_message_key"),
        Index("ix_outbox_due", "state", "next_attempt_at"),
        Index("ix_outbox_inbox", "channel", "recipient", "read_at"),
        Index("ix_outbox_portal_open", "dossier_code", "id", sqlite_where=text(PORTAL_OPEN),
              postgresql_where=text(PORTAL_OPEN)),
    )

    id: int | None = Field(default=None, primary_key=True)
    #: The uniqueness key (:func:`message_key`, or the portal's ``portal:<code>:<seq>``),
    #: also the message id a receiver sees.
    key: str = Field(max_length=128)
    kind: str = Field(max_length=48)  # what happened or was found (docs/notifications.md)
    rung: str = Field(default="", max_length=32)  # which warning of a ladder ("" for events)
    channel: str = Field(max_length=16)
    recipient: str = Field(max_length=255)
    dossier_code: str | None = Field(default=None, max_length=64, index=True)
    step_seq: int | None = None
    subject: str = Field(max_length=255)
    body: str = Field(sa_column=Column(Text, nullable=False))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    state: str = Field(default=DeliveryState.PENDING.value, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=128)
    claimed_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None
    read_at: datetime | None = None  # in-app: when the recipient marked it read


@dataclass(frozen=True, slots=True)
class Draft:
    """A message to write: what, for whom, where and about which dossier."""

    kind: str
    channel: Channel | str
    recipient: str
    subject: str
    body: str
    dossier_code: str | None = None
    step_seq: int | None = None
    rung: str = ""
    payload: Mapping[str, Any] | None = None
    #: A key chosen by the caller instead of :func:`message_key` (the portal's record key,
    #: ``portal:<code>:<seq>``, which the portal and the sync rate read as such).
    own_key: str | None = None

    @property
    def key(self) -> str:
        if self.own_key:
            return self.own_key
        return message_key(self.dossier_code, self.step_seq, self.kind, self.rung,
                           Channel(self.channel), self.recipient)


def message_key(dossier_code: str | None, step_seq: int | None, kind: str, rung: str,
                channel: Channel | str, recipient: str) -> str:
    """The uniqueness key: the same finding for the same recipient is one message, however
    often it is found. Hashed to a fixed length (an address may be long)."""
    raw = "|".join((dossier_code or "", "" if step_seq is None else str(step_seq), kind, rung,
                    Channel(channel).value, recipient))
    return hashlib.sha256(raw.encode()).hexdigest()


@cache
def _enqueue_statement(dialect: str) -> Any:
    """:func:`enqueue`'s statement, built once per dialect: built anew on every call (an
    action queues its messages each time) it cost its cache key each time too."""
    table = OutboxMessage.__table__
    insert = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    return insert.on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


def enqueue(session: Session, drafts: Iterable[Draft], *, at: datetime | None = None) -> int:
    """Write these messages in the caller's transaction; those already written (same key)
    are skipped. Returns how many are new."""
    now = at or utcnow()
    rows = [{"key": d.key, "kind": d.kind, "rung": d.rung, "channel": Channel(d.channel).value,
             "recipient": d.recipient, "dossier_code": d.dossier_code, "step_seq": d.step_seq,
             "subject": d.subject[:255], "body": d.body, "payload": dict(d.payload or {}),
             "state": DeliveryState.PENDING.value, "attempts": 0, "next_attempt_at": now,
             "created_at": now} for d in drafts]
    if not rows:
        return 0
    # RETURNING counts the new rows on both databases: an INSERT's rowcount is -1 under
    # SQLAlchemy 2.1 with psycopg unless asked for. The rows go as parameters of one cached
    # statement (SQLAlchemy batches them into multi-row INSERTs), not compiled into its text.
    statement = _enqueue_statement(session.get_bind().dialect.name)
    return len(session.connection().execute(statement, rows).all())


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt: 30 s, 1 min, 2 min, … capped at 30 min."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def claim(session: Session, *, worker: str, channels: Iterable[Channel | str] | None = None,
          limit: int = 50, now: datetime | None = None) -> list[OutboxMessage]:
    """Take up to ``limit`` messages due now (pending, or sending with an expired claim) and
    lease them to ``worker`` for :data:`CLAIM_SECONDS`. The caller commits right away and
    delivers outside the transaction; rows locked by another worker are skipped.

    One statement, ``UPDATE … WHERE id IN (due rows) RETURNING``: choosing and leasing cannot
    be split by another worker. On PostgreSQL the due rows are picked ``FOR UPDATE SKIP
    LOCKED`` in a materialised CTE (evaluated once, so the ``LIMIT`` holds); on SQLite the one
    statement takes the write lock, so a second process waits and then sees the rows leased
    (a ``SELECT`` then ``UPDATE`` would let two processes lease the same rows: the Python
    driver starts the transaction only at the ``UPDATE``).

    The portal's records go **in order per dossier**: one is due only when no earlier portal
    message of its dossier is undelivered (:func:`_behind_earlier`), so a batch holds at most
    one per dossier, and a dead one holds the later ones back until it is sent again."""
    now = now or utcnow()
    table = OutboxMessage.__table__
    due = (select(table.c.id)
           .where(or_(table.c.state == DeliveryState.PENDING.value,
                      (table.c.state == DeliveryState.SENDING.value)
                      & (table.c.claimed_until < now)),
                  table.c.next_attempt_at <= now,
                  or_(table.c.channel != Channel.PORTAL.value, ~_behind_earlier(table)))
           .order_by(table.c.next_attempt_at, table.c.id)
           .limit(limit))
    if channels is not None:
        due = due.where(table.c.channel.in_([Channel(c).value for c in channels]))
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    due_cte = due.cte("due").prefix_with("MATERIALIZED")
    statement = (update(OutboxMessage)
                 .where(col(OutboxMessage.id).in_(select(due_cte.c.id)))
                 .values(state=DeliveryState.SENDING.value, claimed_by=worker,
                         claimed_until=now + timedelta(seconds=CLAIM_SECONDS),
                         attempts=col(OutboxMessage.attempts) + 1)
                 .returning(OutboxMessage)
                 .execution_options(synchronize_session=False, populate_existing=True))
    rows = list(session.scalars(statement).all())
    rows.sort(key=lambda row: (_aware(row.next_attempt_at), row.id or 0))
    return rows


def _behind_earlier(table):
    """An earlier portal message of the same dossier is not delivered yet (pending, being
    sent, or dead). Earlier = smaller id: a dossier's actions commit one after another (the
    compare-and-set of its version), so their messages get increasing ids."""
    earlier = table.alias("earlier")
    return (select(earlier.c.id)
            .where(earlier.c.channel == Channel.PORTAL.value,
                   earlier.c.state != DeliveryState.DELIVERED.value,
                   earlier.c.dossier_code == table.c.dossier_code,
                   earlier.c.id < table.c.id)
            .exists())


def _aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def _still_mine(message_id: int, worker: str):
    """The claim is still ``worker``'s: a worker whose lease expired and was taken over must
    not overwrite what its successor records."""
    table = OutboxMessage.__table__
    return ((table.c.id == message_id) & (table.c.claimed_by == worker)
            & (table.c.state == DeliveryState.SENDING.value))


def delivered(session: Session, message_id: int, *, worker: str,
              now: datetime | None = None) -> bool:
    """Record a delivery; False if the claim was lost meanwhile (another worker owns it)."""
    return message_id in delivered_all(session, [message_id], worker=worker, now=now)


def delivered_all(session: Session, message_ids: Iterable[int], *, worker: str,
                  now: datetime | None = None) -> set[int]:
    """:func:`delivered` for a batch in one statement; returns the ids recorded (the others'
    claims were lost)."""
    ids = list(message_ids)
    if not ids:
        return set()
    table = OutboxMessage.__table__
    result = session.connection().execute(
        update(table)
        .where(table.c.id.in_(ids), table.c.claimed_by == worker,
               table.c.state == DeliveryState.SENDING.value)
        .values(state=DeliveryState.DELIVERED.value, delivered_at=now or utcnow(),
                claimed_until=None, last_error=None)
        .returning(table.c.id))
    return set(result.scalars().all())


def failed(session: Session, message_id: int, *, worker: str, error: str,
           now: datetime | None = None, permanent: bool = False) -> DeliveryState | None:
    """Record a failed attempt: retry later with :func:`backoff`, or dead after
    :data:`MAX_ATTEMPTS` — at once if ``permanent`` (a refused address: retrying cannot
    help). None if the claim was lost meanwhile."""
    now = now or utcnow()
    table = OutboxMessage.__table__
    attempts = session.connection().execute(
        select(table.c.attempts).where(_still_mine(message_id, worker))).scalar()
    if attempts is None:
        return None
    dead = permanent or attempts >= MAX_ATTEMPTS
    state = DeliveryState.DEAD if dead else DeliveryState.PENDING
    values: dict[str, Any] = {"state": state.value, "claimed_until": None,
                              "last_error": error[:2000]}
    if not dead:
        values["next_attempt_at"] = now + backoff(attempts)
    result = session.connection().execute(
        update(table).where(_still_mine(message_id, worker), table.c.attempts == attempts)
        .values(**values))
    return state if result.rowcount == 1 else None


def release(session: Session, message_id: int, *, worker: str) -> bool:
    """Give a claimed message back untried (the worker ran out of time before sending it):
    pending again at once, the attempt not counted."""
    table = OutboxMessage.__table__
    result = session.connection().execute(
        update(table).where(_still_mine(message_id, worker))
        .values(state=DeliveryState.PENDING.value, claimed_by=None, claimed_until=None,
                attempts=table.c.attempts - 1))
    return result.rowcount == 1


def note_waiting(session: Session, channel: Channel | str, reason: str) -> int:
    """Say why pending messages of a channel are not being sent (e.g. "chưa cấu hình SMTP"),
    so the administrators' list shows it; rows that already carry an error keep it."""
    table = OutboxMessage.__table__
    return session.connection().execute(
        update(table).where(table.c.channel == Channel(channel).value,
                            table.c.state == DeliveryState.PENDING.value,
                            table.c.last_error.is_(None))
        .values(last_error=reason[:2000])).rowcount or 0


def retry_dead(session: Session, message_id: int, *, now: datetime | None = None) -> bool:
    """An administrator sends a dead message again (attempts start over)."""
    row = session.get(OutboxMessage, message_id)
    if row is None or row.state != DeliveryState.DEAD.value:
        return False
    row.state, row.attempts = DeliveryState.PENDING.value, 0
    row.next_attempt_at, row.claimed_by, row.claimed_until = now or utcnow(), None, None
    session.add(row)
    session.flush()
    return True


def depth(session: Session) -> dict[str, int]:
    """Messages per state (``/metrics``: outbox depth, dead letters)."""
    rows = session.exec(select(OutboxMessage.state, func.count())
                        .group_by(col(OutboxMessage.state))).all()
    return {state: count for state, count in rows}
