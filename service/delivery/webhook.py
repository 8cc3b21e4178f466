"""The webhook channel: a signed JSON ``POST`` per message.

Headers:

- ``X-MotCua-Timestamp``: Unix seconds when the request was signed;
- ``X-MotCua-Signature: sha256=<hex>``: HMAC-SHA256 with ``MOTCUA_WEBHOOK_SECRET`` over
  ``"<timestamp>.<body>"`` (the timestamp is signed too, so an old request cannot be replayed
  with a fresh one; receivers reject timestamps far from their clock, :func:`verify`);
- ``Idempotency-Key``: the outbox key, the same on every attempt, so a receiver that has seen
  it answers 2xx and does nothing (a delivery whose answer was lost is retried).

Any 2xx is delivered; every other answer, a timeout or a connection error is a failed attempt,
retried with the outbox's backoff until the message is dead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import httpx

from service.delivery.message import DeliveryError, Outgoing
from service.delivery.settings import WebhookSettings

#: How far a timestamp may be from the receiver's clock before :func:`verify` rejects it.
TOLERANCE = 300


def body_of(message: Outgoing) -> bytes:
    """The JSON body: compact UTF-8, keys sorted, so the same message has the same bytes."""
    document: dict[str, Any] = {
        "key": message.key, "kind": message.kind, "rung": message.rung,
        "target": message.recipient, "dossier_code": message.dossier_code,
        "step_seq": message.step_seq, "subject": message.subject, "body": message.body,
        "payload": message.payload, "created_at": message.created_at.isoformat()}
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      default=str).encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                      hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str, body: bytes, signed: str, *,
           now: float | None = None, tolerance: int = TOLERANCE) -> bool:
    """What a receiver checks (docs/notifications.md shows it without MotCua): the signature
    matches, compared in constant time, and the timestamp is recent."""
    try:
        fresh = abs((time.time() if now is None else now) - int(timestamp)) <= tolerance
    except ValueError:
        return False
    return fresh and hmac.compare_digest(signature(secret, timestamp, body), signed)


def headers_for(message: Outgoing, body: bytes, secret: str, *,
                now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    return {"Content-Type": "application/json; charset=utf-8",
            "X-MotCua-Timestamp": timestamp,
            "X-MotCua-Signature": signature(secret, timestamp, body),
            "Idempotency-Key": message.key,
            "X-MotCua-Kind": message.kind}


def new_client() -> httpx.Client:
    """The HTTP client every webhook batch shares (kept across batches: its connections are
    reused). No redirects: a 3xx is an answer to fix at the receiver, not to follow."""
    return httpx.Client(follow_redirects=False, headers={"User-Agent": "MotCua-webhook/1"},
                        limits=httpx.Limits(max_keepalive_connections=8, max_connections=16))


class WebhookCourier:
    """Sends webhook messages to one URL (each target has its own courier, so a slow
    receiver holds up only its own messages)."""

    def __init__(self, settings: WebhookSettings, url: str, client: httpx.Client):
        self.settings, self.url, self.client = settings, url, client

    def send(self, message: Outgoing) -> None:
        body = body_of(message)
        try:
            answer = self.client.post(self.url, content=body,
                                      headers=headers_for(message, body, self.settings.secret),
                                      timeout=self.settings.timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryError(f"máy nhận không trả lời trong {self.settings.timeout:g} giây"
                                ) from exc
        except httpx.HTTPError as exc:
            raise DeliveryError(f"không kết nối được máy nhận: {type(exc).__name__}: {exc}"
                                ) from exc
        if not answer.is_success:
            raise DeliveryError(f"máy nhận trả lời HTTP {answer.status_code}: "
                                f"{answer.text[:200]}")

    def close(self) -> None:
        """The client is shared; nothing of this courier's own to close."""
