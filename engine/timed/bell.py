"""The bell (*chuông thông báo*): the in-app messages delivered to one member of staff.

An in-app message is an outbox row on channel ``in_app`` whose recipient is a username; the
delivery worker marks it delivered (it is stored, nothing leaves the database), and from then
on its recipient sees it here until they mark it read (``read_at``). Queries use the index
``ix_outbox_inbox`` (channel, recipient, read_at). Only the recipient's own rows are ever
selected: a message of someone else is as good as absent (the API answers 404).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from engine.outbox import Channel, DeliveryState, OutboxMessage


def _mine(username: str):
    return (col(OutboxMessage.channel) == Channel.IN_APP.value,
            col(OutboxMessage.recipient) == username,
            col(OutboxMessage.state) == DeliveryState.DELIVERED.value)


def messages_of(session: Session, username: str, *, limit: int = 20,
                before: int | None = None, unread_only: bool = False) -> list[OutboxMessage]:
    """My delivered messages, newest first; ``before`` is the id cursor of the next page.
    Returns up to ``limit + 1`` rows, so that the caller knows whether a next page exists."""
    query = select(OutboxMessage).where(*_mine(username))
    if unread_only:
        query = query.where(col(OutboxMessage.read_at).is_(None))
    if before is not None:
        query = query.where(col(OutboxMessage.id) < before)
    return list(session.exec(query.order_by(col(OutboxMessage.id).desc())
                             .limit(limit + 1)).all())


def unread_count(session: Session, username: str) -> int:
    return session.exec(select(func.count()).select_from(OutboxMessage)
                        .where(*_mine(username), col(OutboxMessage.read_at).is_(None))).one()


def message_of(session: Session, username: str, message_id: int) -> OutboxMessage | None:
    """One of my messages, or None (someone else's, not delivered yet, or no such id)."""
    return session.exec(select(OutboxMessage)
                        .where(col(OutboxMessage.id) == message_id, *_mine(username))).first()


def mark_read(session: Session, username: str, message_id: int, *,
              now: datetime) -> OutboxMessage | None:
    """Mark one of my messages read (the first time counts; again changes nothing)."""
    row = message_of(session, username, message_id)
    if row is not None and row.read_at is None:
        row.read_at = now
        session.add(row)
        session.flush()
    return row


def mark_all_read(session: Session, username: str, *, now: datetime) -> int:
    """Mark every unread message of mine read; returns how many were unread."""
    table = OutboxMessage.__table__
    result = session.connection().execute(
        update(table).where(table.c.channel == Channel.IN_APP.value,
                            table.c.recipient == username,
                            table.c.state == DeliveryState.DELIVERED.value,
                            table.c.read_at.is_(None))
        .values(read_at=now))
    return result.rowcount or 0
