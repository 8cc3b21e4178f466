"""A local fake of the national portal's sync endpoint.

It checks each request's signature the way docs/sync.md tells a receiver to (its own HMAC, not
MotCua's code), keeps each ``Idempotency-Key`` once (a repeat answers 200 and changes nothing,
as the portal does), and answers as scripted: per dossier code, a queue of "ok", "reject"
(422 with a JSON reason), "timeout" (answers after the client gave up) or "500".
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

SECRET = "khoá-ký-cổng-thử-nghiệm"
KEY_ID = "motcua-hp-01"
#: The tests give the portal client this timeout; a "timeout" answer waits longer.
CLIENT_TIMEOUT = 0.3
REASON = "Mã thủ tục hành chính không có trong CSDL quốc gia về TTHC"


def genuine(headers, body: bytes) -> bool:
    timestamp = headers.get("X-MotCua-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = "sha256=" + hmac.new(SECRET.encode("utf-8"), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers.get("X-MotCua-Signature", ""))


class FakePortal(ThreadingHTTPServer):
    """``accepted``: the records taken, in arrival order, each key once; ``seen``: every
    accepted request per key (a key twice = the portal deduplicated a re-send)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, deque[str]] = defaultdict(deque)
        self.accepted: list[tuple[str, dict]] = []
        self.keys: set[str] = set()
        self.seen: Counter[str] = Counter()
        self.arrivals: list[str] = []  # every accepted request's key, repeats included
        self.requests: Counter[str] = Counter()
        self.bad: list[str] = []  # keys whose signature or key id was wrong
        self.delay = 0.0  # seconds before answering "ok" (a slow portal)
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/dongbo/hoso"

    def script(self, code: str, *answers: str) -> None:
        with self.lock:
            self.scripts[code].extend(answers)

    def order_of(self, code: str) -> list[int]:
        """The event numbers of one dossier's records, in the order the portal took them."""
        with self.lock:
            return [int(key.rsplit(":", 1)[1]) for key, _ in self.accepted
                    if key.split(":")[1] == code]


class _Handler(BaseHTTPRequestHandler):
    server: FakePortal

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        portal = self.server
        key = self.headers.get("Idempotency-Key", "")
        code = key.split(":")[1] if key.count(":") == 2 else ""
        with portal.lock:
            portal.requests[key] += 1
            answer = portal.scripts[code].popleft() if portal.scripts[code] else "ok"
            if not genuine(self.headers, body) or self.headers.get("X-MotCua-Key-Id") != KEY_ID:
                portal.bad.append(key)
                answer = "unsigned"
        if answer == "timeout":
            time.sleep(CLIENT_TIMEOUT * 4)
            return self._answer(200, {})
        if answer == "500":
            return self._answer(500, {"error": "Lỗi máy chủ"})
        if answer in {"reject", "unsigned"}:
            return self._answer(422 if answer == "reject" else 401,
                                {"reason": REASON if answer == "reject" else "chữ ký sai"})
        if portal.delay:
            time.sleep(portal.delay)
        with portal.lock:
            portal.seen[key] += 1
            portal.arrivals.append(key)
            if key not in portal.keys:  # idempotent: a key is kept once
                portal.keys.add(key)
                portal.accepted.append((key, json.loads(body)))
        return self._answer(200, {"ok": True})

    def _answer(self, status: int, document: dict) -> None:
        payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[FakePortal]:
    server = FakePortal()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
