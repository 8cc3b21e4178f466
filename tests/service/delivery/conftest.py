"""Local receivers for the delivery tests: an SMTP sink (aiosmtpd) and a webhook fake.

The webhook fake checks each request's signature the way docs/notifications.md tells a
receiver to (its own HMAC, not MotCua's code), answers as scripted per message key, and counts
what it accepted: a key accepted twice is a duplicate delivery, which must never happen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

SECRET = "khoá-bí-mật-thử-nghiệm"
#: The delivery tests give the webhook client this timeout; a "timeout" answer waits longer.
CLIENT_TIMEOUT = 0.3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SmtpSink:
    """Keeps every message it accepts; refuses the recipients in ``refuse`` with a 550."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse: set[str] = set()
        self.host, self.port = "127.0.0.1", 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.port = free_port()
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


class WebhookFake:
    """Answers per message key from a script ("500", "timeout", "drop", "ok"); a key not
    scripted, or whose script ran out, gets ``default`` (204 unless changed)."""

    def __init__(self) -> None:
        self.scripts: dict[str, deque[str]] = defaultdict(deque)
        self.always: dict[str, str] = {}
        self.accepted: Counter[str] = Counter()
        self.attempts: Counter[str] = Counter()
        self.bad_signatures: list[str] = []
        self.bodies: dict[str, dict] = {}
        self.lock = threading.Lock()
        self.url = ""

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.accepted.values() if n > 1)

    def answer_for(self, key: str) -> str:
        with self.lock:
            self.attempts[key] += 1
            if key in self.always:
                return self.always[key]
            script = self.scripts.get(key)
            return script.popleft() if script else "ok"

    def signed_correctly(self, headers, body: bytes) -> bool:
        """What docs/notifications.md tells a receiver to check."""
        timestamp = headers.get("X-MotCua-Timestamp", "")
        expected = "sha256=" + hmac.new(SECRET.encode(), timestamp.encode() + b"." + body,
                                        hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        return fresh and hmac.compare_digest(expected, headers.get("X-MotCua-Signature", ""))


def _handler(fake: WebhookFake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            key = self.headers.get("Idempotency-Key", "")
            if not fake.signed_correctly(self.headers, body):
                fake.bad_signatures.append(key)
                return self._answer(401)
            answer = fake.answer_for(key)
            if answer == "timeout":
                time.sleep(CLIENT_TIMEOUT * 3)
                self.close_connection = True
                return None
            if answer == "drop":
                self.close_connection = True  # hang up without a word
                return None
            if answer == "500":
                return self._answer(500)
            with fake.lock:
                fake.accepted[key] += 1
                fake.bodies[key] = json.loads(body)
            return self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:
            return None

    return Handler


@pytest.fixture
def webhook_fake() -> Iterator[WebhookFake]:
    fake = WebhookFake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/motcua"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
