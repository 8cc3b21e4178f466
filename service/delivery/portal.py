"""The national portal's channel: one signed JSON ``POST`` per record (docs/sync.md, "Outbound").

The body is the record itself (``engine.sync.record.national_record``: compact UTF-8 JSON, keys
sorted, so an attempt repeats the same bytes). Headers — the webhook's scheme
(``service.delivery.webhook``), so a receiver checks both alike:

- ``X-MotCua-Timestamp`` and ``X-MotCua-Signature: sha256=<hex>``: HMAC-SHA256 with
  ``MOTCUA_PORTAL_SECRET`` over ``"<timestamp>.<body>"``;
- ``X-MotCua-Key-Id``: ``MOTCUA_PORTAL_KEY_ID``, which secret the portal should check with
  (it may hold several during a key rotation);
- ``Idempotency-Key``: ``portal:<dossier code>:<event seq>``, the same on every attempt: the
  portal keeps each key once, so a record re-sent after a lost answer changes nothing.

Answers: 2xx delivered. A 4xx is the portal **rejecting the record** (an unknown procedure
code, a field it refuses): retrying the same bytes cannot help, so the message is dead at once
with the portal's reason, shown to administrators (``/quan-tri/thong-bao``) — except 408, 425
and 429, which say "later". 5xx, a redirect, a timeout or a lost connection are retried with
the outbox's backoff.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from service.delivery.message import DeliveryError, Outgoing
from service.delivery.settings import PortalSettings
from service.delivery.webhook import signature

#: 4xx answers that mean "try again later", not "this record is wrong".
RETRY_LATER = frozenset({408, 425, 429})
#: Longest reason kept from the portal's answer.
REASON_CHARS = 500


def body_of(message: Outgoing) -> bytes:
    """The record as compact UTF-8 JSON with sorted keys."""
    return json.dumps(message.payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":"), default=str).encode("utf-8")


def headers_for(message: Outgoing, body: bytes, settings: PortalSettings, *,
                now: float | None = None) -> dict[str, str]:
    timestamp = str(int(time.time() if now is None else now))
    headers = {"Content-Type": "application/json; charset=utf-8",
               "X-MotCua-Timestamp": timestamp,
               "X-MotCua-Signature": signature(settings.secret, timestamp, body),
               "Idempotency-Key": message.key, "X-MotCua-Kind": message.kind}
    if settings.key_id:
        headers["X-MotCua-Key-Id"] = settings.key_id
    return headers


def reason_of(answer: httpx.Response) -> str:
    """The portal's reason in its own words: a JSON answer's ``reason`` (or ``detail``,
    ``message``, ``title``, ``error``), else the answer's text."""
    text = answer.text.strip()
    try:
        document: Any = answer.json()
    except ValueError:
        document = None
    if isinstance(document, dict):
        for name in ("reason", "detail", "message", "title", "error"):
            value = document.get(name)
            if isinstance(value, str) and value.strip():
                text = value.strip()
                break
    return text[:REASON_CHARS] or "(không nêu lý do)"


class PortalCourier:
    """Sends records to the portal, one at a time in the order given (the claim gives at
    most one record per dossier per batch, so order within a dossier holds across batches)."""

    def __init__(self, settings: PortalSettings, client: httpx.Client):
        self.settings, self.client = settings, client

    def send(self, message: Outgoing) -> None:
        body = body_of(message)
        try:
            answer = self.client.post(self.settings.url, content=body,
                                      headers=headers_for(message, body, self.settings),
                                      timeout=self.settings.timeout)
        except httpx.TimeoutException as exc:
            raise DeliveryError("Cổng DVC quốc gia không trả lời trong "
                                f"{self.settings.timeout:g} giây") from exc
        except httpx.HTTPError as exc:
            raise DeliveryError("không kết nối được Cổng DVC quốc gia: "
                                f"{type(exc).__name__}: {exc}") from exc
        if answer.is_success:
            return
        status = answer.status_code
        if 400 <= status < 500 and status not in RETRY_LATER:
            raise DeliveryError(f"Cổng DVC quốc gia từ chối bản ghi (HTTP {status}): "
                                f"{reason_of(answer)}", permanent=True)
        raise DeliveryError(f"Cổng DVC quốc gia trả lời HTTP {status}: "
                            f"{answer.text[:200]}")

    def close(self) -> None:
        """The client is shared; nothing of this courier's own to close."""
