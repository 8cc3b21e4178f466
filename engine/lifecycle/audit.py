"""The tamper-evident event log: each event's hash covers its content and the previous hash.

Changing, deleting or reordering any stored event of a dossier breaks the chain from that
event on; ``motcua audit verify`` recomputes every chain and reports the first broken link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from engine.lifecycle.models import Dossier, DossierEvent

GENESIS = "0" * 64


def _instant(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def event_digest(event: DossierEvent | Any, dossier_code: str, prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical JSON of everything the event says
    (``event``: a stored event, or anything with its attributes, e.g. one being written)."""
    content: dict[str, Any] = {
        "dossier": dossier_code, "seq": event.seq, "action": event.action,
        "at": _instant(event.at), "actor_id": event.actor_id, "actor_role": event.actor_role,
        "actor_agency": event.actor_agency, "state_before": event.state_before,
        "state_after": event.state_after, "step_before": event.step_before,
        "step_after": event.step_after, "reason": event.reason, "payload": event.payload,
        "request_id": event.request_id, "idempotency_key": event.idempotency_key,
        "imported": event.imported,
    }
    canonical = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                           default=str)
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def seal(event: DossierEvent, dossier_code: str, prev_hash: str) -> None:
    event.prev_hash = prev_hash
    event.hash = event_digest(event, dossier_code, prev_hash)


@dataclass(frozen=True, slots=True)
class BrokenLink:
    dossier_code: str
    seq: int
    reason: str

    def __str__(self) -> str:
        return f"{self.dossier_code} sự kiện #{self.seq}: {self.reason}"


def verify_chain(dossier_code: str, events: Iterable[DossierEvent],
                 head: str = "") -> BrokenLink | None:
    """The first broken link of one dossier's events (in seq order), or None.

    ``head`` is the hash the dossier row remembers for its last event: without it, deleting
    the last events would leave a shorter chain that still verifies.
    """
    prev, expected_seq = GENESIS, 1
    for event in events:
        if event.seq != expected_seq:
            return BrokenLink(dossier_code, expected_seq, f"thiếu sự kiện (gặp #{event.seq})")
        if event.prev_hash != prev:
            return BrokenLink(dossier_code, event.seq, "liên kết với sự kiện trước bị sai")
        if event_digest(event, dossier_code, prev) != event.hash:
            return BrokenLink(dossier_code, event.seq, "nội dung sự kiện đã bị thay đổi")
        prev, expected_seq = event.hash, expected_seq + 1
    if head and head != prev:
        return BrokenLink(dossier_code, expected_seq,
                          "thiếu sự kiện cuối (chuỗi bị cắt so với hồ sơ)")
    return None


def verify(session: Session, *, dossier_code: str | None = None) -> tuple[int, list[BrokenLink]]:
    """Check every dossier's chain (or one); return (dossiers checked, broken links)."""
    query = select(Dossier.id, Dossier.code, Dossier.chain_head).order_by(col(Dossier.id))
    if dossier_code:
        query = query.where(Dossier.code == dossier_code)
    broken, checked = [], 0
    for dossier_id, code, head in session.exec(query).all():
        events = session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier_id)
                              .order_by(col(DossierEvent.seq))).all()
        checked += 1
        link = verify_chain(code, events, head)
        if link:
            broken.append(link)
    return checked, broken
