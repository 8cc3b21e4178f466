"""What a sender gets: a plain copy of a claimed outbox row, and the one error a sender raises.

Senders run outside the database transaction and in threads, so they get a frozen copy, never
the ORM row (which belongs to a closed session and must not be touched from another thread).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from engine.outbox import OutboxMessage
from engine.text import nfc


class DeliveryError(Exception):
    """A message could not be handed over. ``reason`` is Vietnamese, for the administrators'
    list of failed deliveries; ``permanent`` means retrying cannot help (a refused address):
    the message is dead at once instead of after every attempt."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: int
    key: str
    kind: str
    rung: str
    channel: str
    recipient: str
    dossier_code: str | None
    step_seq: int | None
    subject: str
    body: str
    payload: dict[str, Any]
    created_at: datetime
    attempt: int
    #: Files an e-mail carries (``service.delivery.attachments``), rendered after the claim.
    attachments: tuple[Any, ...] = ()

    @classmethod
    def of(cls, row: OutboxMessage) -> Outgoing:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        return cls(id=row.id or 0, key=row.key, kind=row.kind, rung=row.rung,
                   channel=row.channel, recipient=row.recipient,
                   dossier_code=row.dossier_code, step_seq=row.step_seq,
                   subject=nfc(row.subject), body=nfc(row.body),
                   payload=nfc(dict(row.payload or {})), created_at=created,
                   attempt=row.attempts)
