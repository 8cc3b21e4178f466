#!/usr/bin/env python3
"""An outside probe of the MotCua service: the holes of issue 12, measured from the outside.

Run it from the repository (it needs nothing but the project's own virtualenv)::

    .venv/bin/python scripts/probe.py                       # a fresh SQLite file
    .venv/bin/python scripts/probe.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python scripts/probe.py --only 1,2,5 --json

It starts its own ``motcua serve`` on a free loopback port (a second one for the login
throttle check), on a fresh database: a SQLite file in a temporary folder, or a new schema in
the PostgreSQL database named by ``--database-url`` (dropped at the end). Every check sends a
small, bounded number of requests to 127.0.0.1 and prints one line: ``CLOSED`` or ``OPEN`` and
the figure it measured. The exit code is 1 when a check is OPEN, 2 when the server could not
be started or an option is wrong, else 0.

Why a script and not only tests: the tests call the application in-process; the probe talks
to the real server over sockets (two processes on one database, a 10 MB body on the wire,
connections dropped by PostgreSQL), as the outside probe of issue 12 did.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import http.client
import json
import os
import re
import secrets
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = json.loads((ROOT / "examples" / "receive.json").read_text(encoding="utf-8"))
PROBLEM = "application/problem+json"
REQUEST_TIMEOUT = 60.0  # seconds; the first PDF loads WeasyPrint and its fonts
START_TIMEOUT = 120.0  # seconds for `motcua serve` to migrate, seed and answer /healthz
DEMO_USERS = ("clerk", "officer", "leader", "auditor", "admin")
#: Connection failures a client can see (counted as "resets" by the load check).
NETWORK_ERRORS = (OSError, http.client.HTTPException)


# ----- HTTP over loopback -----------------------------------------------------------------

@dataclass
class Reply:
    """One HTTP answer: status, headers (lower-case names), body, and every Set-Cookie."""

    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    def json(self) -> object:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def is_problem(self) -> bool:
        return self.content_type.startswith(PROBLEM)

    @property
    def problem_type(self) -> str:
        """The problem's ``type`` without its base URL (``idempotency-key-reused``)."""
        body = self.json()
        kind = body.get("type", "") if isinstance(body, dict) else ""
        return kind.rsplit("/", 1)[-1]

    def brief(self) -> str:
        """``422 idempotency-key-reused`` or ``200``: the status and, for a problem, its type."""
        return f"{self.status} {self.problem_type}" if self.is_problem else str(self.status)


def http_call(port: int, method: str, path: str, *, json_body: object = None,
              form: dict[str, str] | None = None, data: bytes | None = None,
              headers: dict[str, str] | None = None,
              timeout: float = REQUEST_TIMEOUT) -> Reply:
    """One request on a new connection (thread-safe; loopback connections are cheap)."""
    sent = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body, ensure_ascii=False).encode()
        sent.setdefault("Content-Type", "application/json")
    elif form is not None:
        data = urlencode(form).encode()
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        body = response.read()
        pairs = response.getheaders()
    finally:
        connection.close()
    return Reply(response.status, {k.lower(): v for k, v in pairs}, body,
                 [v for k, v in pairs if k.lower() == "set-cookie"])


def raw_post(port: int, path: str, headers: dict[str, str], body: bytes, *,
             chunked: bool, slice_size: int = 64 * 1024) -> tuple[Reply | None, int]:
    """POST a large body the way a careful client does: stop sending as soon as the server
    answers (it may refuse after the headers), then read the answer.

    Returns the reply (None if the connection was reset before any answer) and the number of
    body bytes actually sent.
    """
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
             *(f"{k}: {v}" for k, v in headers.items()),
             "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(body)}"]
    sock = socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT)
    sent = 0
    try:
        with contextlib.suppress(OSError):  # the server may close as soon as it refuses
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            for start in range(0, len(body), slice_size):
                if select.select([sock], [], [], 0)[0]:
                    break  # the answer is there: a refusal before the whole body
                piece = body[start:start + slice_size]
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
                             if chunked else piece)
                sent += len(piece)
            else:
                if chunked:
                    sock.sendall(b"0\r\n\r\n")
        return _read_reply(sock), sent
    finally:
        sock.close()


def _read_reply(sock: socket.socket) -> Reply | None:
    """Read one HTTP/1.1 answer with a Content-Length (or up to the close) from ``sock``."""
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        while length and len(rest) < int(length.group(1)):
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    if not data.startswith(b"HTTP/"):
        return None
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Reply(int(status_line.split()[1]), headers, rest)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ----- the database under the servers ------------------------------------------------------

class Database:
    """A fresh database for the servers: a SQLite file, or a new PostgreSQL schema.

    PostgreSQL: the schema goes into the server's URL (``options=-csearch_path=<schema>``, as
    tests/conftest.py ``new_schema`` does) together with a unique ``application_name``, so the
    load check terminates the connections of this probe's servers only.
    """

    def __init__(self, given: str | None, folder: Path) -> None:
        self.admin_url = None
        self.schema = None
        self.application_name = f"motcua-probe-{secrets.token_hex(4)}"
        if not given:
            self.kind, self.url = "sqlite", f"sqlite:///{folder / 'motcua.db'}"
            self.label = "SQLite (a fresh file in a temporary folder)"
        elif given.startswith("sqlite"):
            path = Path(given.split(":///", 1)[-1])
            if path.exists():
                usage_error(f"{path} exists; give a new SQLite file (the demo users get "
                            "the probe's password only on a fresh database)")
            self.kind, self.url, self.label = "sqlite", given, f"SQLite ({path})"
        elif given.startswith("postgres"):
            self.kind = "postgresql"
            self.admin_url = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql://", given)
            self.schema = f"probe_{secrets.token_hex(5)}"
            try:
                self._admin("CREATE SCHEMA " + self.schema)
            except Exception as exc:  # unreachable, wrong credentials, no such database
                usage_error(f"cannot create a schema in {given}: {exc}")
            parts = urlsplit(given)
            query = dict(parse_qsl(parts.query))
            query.update({"options": f"-csearch_path={self.schema}",
                          "application_name": self.application_name})
            self.url = urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))
            self.label = f"PostgreSQL (schema {self.schema} in {parts.path.lstrip('/')})"
        else:
            usage_error(f"unsupported database URL {given!r}")

    def _admin(self, sql: str, *params: object) -> list[tuple]:
        """Run one statement on an autocommit connection of our own (psycopg: a dependency
        of the project already, imported only for PostgreSQL)."""
        import psycopg

        admin_url = self.admin_url.split("?", 1)[0]
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5,
                             application_name="motcua-probe-admin") as connection:
            cursor = connection.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def terminate_backends(self) -> int:
        """Kill every connection of this probe's servers; the number killed."""
        rows = self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name = %s", self.application_name)
        return sum(1 for (killed,) in rows if killed)

    def drop(self) -> None:
        if self.schema:
            self._admin("SET lock_timeout = '10s'")
            self._admin(f"DROP SCHEMA {self.schema} CASCADE")


# ----- the servers -----------------------------------------------------------------------

class Server:
    """One ``motcua serve`` process on a free loopback port."""

    def __init__(self, name: str, env: dict[str, str], folder: Path) -> None:
        self.name, self.port = name, free_port()
        self.log_path = folder / f"server-{name}.log"
        motcua = Path(sys.executable).parent / "motcua"
        if not motcua.exists():
            motcua = ROOT / ".venv" / "bin" / "motcua"
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(motcua), "serve", "--port", str(self.port)],
                env={**env, "MOTCUA_PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}"},
                stdout=log, stderr=subprocess.STDOUT, cwd=folder)

    def wait_ready(self) -> None:
        """Poll /healthz until it answers 200; a server that exits or hangs is an error."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            with contextlib.suppress(*NETWORK_ERRORS):
                if self.call("GET", "/healthz", timeout=2).status == 200:
                    return
            time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"server {self.name} did not start on port {self.port}:\n{tail}")

    def call(self, method: str, path: str, **options) -> Reply:
        return http_call(self.port, method, path, **options)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class Probe:
    """What the checks share: the servers, the demo password, cached bearer tokens."""

    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.folder = database, folder
        self.password = secrets.token_urlsafe(18)
        self.metrics_token = secrets.token_urlsafe(24)
        # The defaults are what is probed: no MOTCUA_* setting of the caller leaks in.
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
        self.env.update({
            "MOTCUA_DATABASE_URL": database.url,
            "MOTCUA_DEMO_PASSWORD": self.password,
            "MOTCUA_ARGON2_PROFILE": "test",
            "MOTCUA_DB_WAIT_SECONDS": "10",
            # Check 12: the probe's address (127.0.0.1) is NOT allowed; only the token opens.
            "MOTCUA_METRICS_ALLOW": "192.0.2.1",
            "MOTCUA_METRICS_TOKEN": self.metrics_token,
        })
        self.servers: list[Server] = []
        self._tokens: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def start(self) -> Server:
        server = Server(chr(ord("A") + len(self.servers)), self.env, self.folder)
        self.servers.append(server)
        server.wait_ready()
        return server

    @property
    def main(self) -> Server:
        return self.servers[0]

    def second(self) -> Server:
        """A second server process on the same database (started on first use)."""
        return self.servers[1] if len(self.servers) > 1 else self.start()

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def login(self, username: str, password: str | None = None) -> dict[str, str]:
        """A new bearer token (a new API session) for ``username``."""
        reply = self.main.call("POST", "/api/v1/auth/token", form={
            "username": username, "password": password or self.password})
        if reply.status != 200:
            raise RuntimeError(f"login {username}: {reply.status} {reply.body[:200]!r}")
        return {"Authorization": f"Bearer {reply.json()['access_token']}"}

    def auth(self, username: str) -> dict[str, str]:
        """A cached token for a demo user (the login throttle check locks users out later)."""
        with self._lock:
            if username not in self._tokens:
                self._tokens[username] = self.login(username)
            return self._tokens[username]

    def receive(self, headers: dict[str, str], body: dict, key: str | None = None) -> Reply:
        extra = {"Idempotency-Key": key} if key else {}
        return self.main.call("POST", "/api/v1/dossiers", json_body=body,
                              headers={**headers, **extra})

    def new_dossier(self, name: str = "Nguyễn Thị Mai") -> str:
        reply = self.receive(self.auth("clerk"), applicant(name))
        if reply.status != 201:
            raise RuntimeError(f"receiving a dossier: {reply.status} {reply.body[:300]!r}")
        return reply.json()["code"]

    def visible_count(self, headers: dict[str, str]) -> int:
        reply = self.main.call("GET", "/api/v1/dossiers?include_closed=true&limit=200",
                               headers=headers)
        return len(reply.json()["items"])


def applicant(name: str, **fields: str) -> dict:
    """examples/receive.json with another applicant (a valid CCCD unless overridden)."""
    body = copy.deepcopy(EXAMPLE)
    body["applicant"] = {"name": name, "id_number": "031095001234", "phone": "0987654321",
                         **fields}
    return body


# ----- the checks ------------------------------------------------------------------------

@dataclass
class Outcome:
    closed: bool | None  # None: not applicable here (skipped)
    figure: str
    details: dict = field(default_factory=dict)


Check = Callable[[Probe], Outcome]
CHECKS: dict[int, tuple[str, Check]] = {}


def check(number: int, title: str) -> Callable[[Check], Check]:
    def register(function: Check) -> Check:
        CHECKS[number] = (title, function)
        return function
    return register


@check(1, "idempotency keys across users")
def idempotency_across_users(p: Probe) -> Outcome:
    """Before the fix a second clerk reusing the README's key got the first clerk's dossier
    (name, CCCD, secret) and the new applicant was never received."""
    password = secrets.token_urlsafe(12)
    made = p.main.call("POST", "/api/v1/admin/users", headers=p.auth("admin"), json_body={
        "username": "clerk2", "full_name": "Hoàng Thị Thu", "role": "clerk",
        "agency": "000.01.32.H26", "password": password})
    if made.status != 201:
        return Outcome(False, f"could not create the second clerk: {made.brief()}")
    first = p.receive(p.auth("clerk"), EXAMPLE, key="quay-1-0001")
    second = p.receive(p.login("clerk2", password), applicant("Trần Văn Khách"),
                       key="quay-1-0001")
    one, two = first.json() or {}, second.json() or {}
    own = (second.status == 201 and two.get("code") != one.get("code")
           and two.get("dossier", {}).get("applicant", {}).get("name") == "Trần Văn Khách")
    what = ("its own dossier" if own else
            "the FIRST clerk's dossier" if two.get("code") == one.get("code") else "no dossier")
    return Outcome(first.status == 201 and own,
                   f'two clerks, key "quay-1-0001", other applicant: first {first.status}, '
                   f"second {second.status} with {what}",
                   {"first": first.status, "second": second.status})


@check(2, "same key, other body")
def key_reused(p: Probe) -> Outcome:
    clerk, key = p.auth("clerk"), f"probe-{uuid.uuid4()}"
    first = p.receive(clerk, EXAMPLE, key=key)
    repeat = p.receive(clerk, EXAMPLE, key=key)
    before = p.visible_count(clerk)
    other = p.receive(clerk, applicant("Trần Văn Hai"), key=key)
    received = p.visible_count(clerk) - before
    replayed = repeat.status == 200 and (repeat.json() or {}).get("replayed") is True
    closed = (first.status == 201 and replayed and other.status == 422 and other.is_problem
              and other.problem_type == "idempotency-key-reused" and received == 0)
    return Outcome(closed, f"exact repeat {repeat.status}{' replayed' if replayed else ''}; "
                           f"same key + other body {other.brief()}"
                           f"{' (problem+json)' if other.is_problem else ''}, "
                           f"{received} dossier(s) received for it",
                   {"repeat": repeat.status, "other": other.status, "received": received})


@check(3, "one key sent 12 times at once")
def concurrent_repeats(p: Probe) -> Outcome:
    clerk, key, body = p.auth("clerk"), f"probe-{uuid.uuid4()}", applicant("Lê Thị Ba")
    barrier = threading.Barrier(12)

    def send(_: int) -> Reply | None:
        barrier.wait(30)
        try:
            return p.receive(clerk, body, key=key)
        except NETWORK_ERRORS:
            return None

    with ThreadPoolExecutor(12) as pool:
        replies = list(pool.map(send, range(12)))
    statuses = Counter(r.status if r else "reset" for r in replies)
    codes = {(r.json() or {}).get("code") for r in replies if r and r.status in (200, 201)}
    errors = sum(n for s, n in statuses.items() if s == "reset" or s >= 500)
    closed = set(statuses) <= {200, 201} and statuses[201] == 1 and len(codes) == 1
    others = {s: n for s, n in statuses.items() if s not in (200, 201, 409)}
    return Outcome(closed, f"12 concurrent repeats of one key: {statuses[201]} × 201, "
                           f"{statuses[200]} replays, {statuses[409]} × 409, {errors} × 5xx/reset"
                           f", {len(codes)} dossier code(s)"
                           + (f", other: {dict(others)}" if others else ""),
                   {"statuses": {str(s): n for s, n in statuses.items()}, "codes": len(codes)})


@check(4, "client-chosen action instant")
def client_instant(p: Probe) -> Outcome:
    """Before: ``{"at": "2039-12-30T08:00+07:00"}`` was accepted and jammed the dossier."""
    clerk, code = p.auth("clerk"), p.new_dossier()
    url = f"/api/v1/dossiers/{code}/actions/transfer"
    future = p.main.call("POST", url, json_body={"at": "2039-12-30T08:00+07:00"}, headers=clerk)
    sent_at = datetime.now().astimezone()
    plain = p.main.call("POST", url, json_body={}, headers=clerk)
    events = [e for e in (plain.json() or {}).get("events", []) if e["action"] == "transfer"]
    drift = (abs((datetime.fromisoformat(events[-1]["at"]) - sent_at).total_seconds())
             if plain.status == 200 and events else None)
    closed = future.status in (403, 422) and plain.status == 200 and drift is not None \
        and drift < 120
    recorded = f", recorded {drift:.0f} s from the probe's clock" if drift is not None else ""
    return Outcome(closed, f'transfer with "at" 2039-12-30: {future.brief()}; '
                           f"plain transfer: {plain.brief()}{recorded}",
                   {"future": future.status, "plain": plain.status})


@check(5, "dates out of range")
def out_of_range(p: Probe) -> Outcome:
    """The leader (the one role allowed to record an earlier instant by default) reaches the
    range check itself; the report periods once reached the calendar's edge and answered 500."""
    code = p.new_dossier()
    action = p.main.call("POST", f"/api/v1/dossiers/{code}/actions/transfer",
                         headers=p.auth("leader"),
                         json_body={"at": "1900-01-01T08:00:00+07:00",
                                    "backdate_reason": "Hồ sơ giấy cũ"})
    auditor = p.auth("auditor")
    reports = [p.main.call("GET", path, headers=auditor) for path in (
        "/api/v1/reports?from=0001-01-01&to=2026-01-31",
        "/api/v1/reports/anomalies?from=2026-01-01&to=9999-12-31")]
    replies = [action, *reports]
    closed = all(r.status == 422 and r.is_problem for r in replies)
    return Outcome(closed, f"action at 1900-01-01 {action.status}; /reports from 0001-01-01 "
                           f"{reports[0].status}; /reports/anomalies to 9999-12-31 "
                           f"{reports[1].status}",
                   {"statuses": [r.status for r in replies]})


@check(6, "agency a clerk may name")
def agency_choice(p: Probe) -> Outcome:
    clerk = p.auth("clerk")
    before = p.visible_count(clerk)
    competent = p.receive(clerk, {**EXAMPLE, "competent_agency": "000.00.12.H26"})
    returning = p.receive(clerk, {**EXAMPLE, "returning_agency": "000.00.12.H26"})
    received = p.visible_count(clerk) - before
    closed = competent.status == 422 and returning.status == 422 and received == 0
    return Outcome(closed, f"department 000.00.12.H26 as competent agency {competent.status}, "
                           f"as returning agency {returning.status}; {received} received",
                   {"competent": competent.status, "returning": returning.status})


def _attempts(calls: Iterable[Callable[[], Reply]]) -> tuple[list[int], int | None, int]:
    """Statuses of login attempts, the 1-based index of the first 429, and how many attempts
    after it were not refused."""
    statuses = [call().status for call in calls]
    first = next((i + 1 for i, s in enumerate(statuses) if s == 429), None)
    leaks = sum(1 for s in statuses[first or len(statuses):] if s != 429)
    return statuses, first, leaks


def _runs(statuses: list[int]) -> str:
    """``5×401 5×429``: a series of statuses, compressed."""
    out: list[list[int]] = []
    for status in statuses:
        if out and out[-1][0] == status:
            out[-1][1] += 1
        else:
            out.append([status, 1])
    return " ".join(f"{n}×{s}" for s, n in out)


@check(7, "login throttle")
def login_throttle(p: Probe) -> Outcome:
    """Ten wrong passwords per series: the username padded with ever more spaces (once one
    bucket per spelling, all authenticating as "auditor"), rotating X-Forwarded-For (once a
    new address each), and attempts alternating between two server processes on one database
    (once two in-memory counters). The 429 must come by the 6th attempt and stay."""
    for username in DEMO_USERS:  # later checks still need tokens once these are throttled
        p.auth(username)
    second = p.second()

    def attempt(server: Server, username: str, headers: dict[str, str] | None = None):
        return lambda: server.call("POST", "/api/v1/auth/token", headers=headers,
                                   form={"username": username, "password": "sai-mat-khau"})

    series = {
        '"auditor" + 1…10 trailing spaces': _attempts(
            attempt(p.main, "auditor" + " " * (i + 1)) for i in range(10)),
        "rotating X-Forwarded-For": _attempts(
            attempt(p.main, "officer", {"X-Forwarded-For": f"198.51.100.{i + 1}",
                                        "X-Real-IP": f"198.51.100.{i + 1}"})
            for i in range(10)),
        "split over 2 servers": _attempts(attempt((p.main, second)[i % 2], "leader")
                                          for i in range(10)),
    }
    closed = all(first is not None and first <= 6 and leaks == 0
                 for _, first, leaks in series.values())
    figure = "; ".join(f"{name}: first 429 at attempt {first or 'never'}/10 ({_runs(statuses)})"
                       for name, (statuses, first, _) in series.items())
    return Outcome(closed, figure, {name: {"statuses": s, "first_429": f}
                                    for name, (s, f, _) in series.items()})


def _cookie(reply: Reply, current: str) -> str:
    for header in reply.cookies:
        if header.startswith("motcua_session="):
            return header.split(";", 1)[0]
    return current


def _csrf(reply: Reply) -> str:
    found = re.search(rb'name="csrf(?:-token)?" (?:value|content)="([^"]+)"', reply.body)
    return found.group(1).decode() if found else ""


@check(8, "sessions end at logout")
def sessions(p: Probe) -> Outcome:
    page = p.main.call("GET", "/dang-nhap")
    cookie = _cookie(page, "")
    signed_in = p.main.call("POST", "/dang-nhap", headers={"Cookie": cookie}, form={
        "username": "clerk", "password": p.password, "csrf": _csrf(page), "next": ""})
    cookie = _cookie(signed_in, cookie)
    inbox = p.main.call("GET", "/hop-thu", headers={"Cookie": cookie})
    captured = cookie = _cookie(inbox, cookie)
    before = p.main.call("GET", "/api/v1/auth/me", headers={"Cookie": captured})
    logout = p.main.call("POST", "/dang-xuat", headers={"Cookie": cookie},
                         form={"csrf": _csrf(inbox)})
    page_after = p.main.call("GET", "/hop-thu", headers={"Cookie": captured})
    api_after = p.main.call("GET", "/api/v1/auth/me", headers={"Cookie": captured})
    to_login = page_after.status == 401 or (
        page_after.status in (302, 303, 307) and
        page_after.headers.get("location", "").startswith("/dang-nhap"))
    web_ok = (signed_in.status == 303 and before.status == 200 and logout.status == 303
              and to_login and api_after.status == 401)

    token = p.login("clerk")
    token_before = p.main.call("GET", "/api/v1/auth/me", headers=token)
    token_logout = p.main.call("POST", "/api/v1/auth/logout", headers=token)
    token_after = p.main.call("GET", "/api/v1/auth/me", headers=token)
    api_ok = token_before.status == 200 and token_logout.status == 204 \
        and token_after.status == 401
    where = page_after.headers.get("location", "").split("?")[0]
    return Outcome(web_ok and api_ok,
                   f"cookie copied before logout, used after: /hop-thu {page_after.status}"
                   f"{' → ' + where if where else ''}, /api/v1/auth/me {api_after.status} "
                   f"(before logout {before.status}); token after /auth/logout "
                   f"{token_after.status} (before {token_before.status})",
                   {"page_after": page_after.status, "api_after": api_after.status,
                    "token_after": token_after.status})


@check(9, "body limit and unknown fields")
def body_limit(p: Probe) -> Outcome:
    size = 10 * 1024 * 1024
    prefix = b'{"procedure": "1.004873", "applicant": {"name": "'
    suffix = b'"}}'
    body = prefix + b"a" * (size - len(prefix) - len(suffix)) + suffix
    headers = {"Content-Type": "application/json", **p.auth("clerk")}
    results = {}
    for label, chunked in (("declared", False), ("chunked", True)):
        reply, sent = raw_post(p.main.port, "/api/v1/dossiers", headers, body, chunked=chunked)
        results[label] = (reply, sent)
    unknown = p.receive(p.auth("clerk"), {**EXAMPLE, "is_admin": True})
    closed = all(r is not None and r.status == 413 and r.is_problem
                 for r, _ in results.values()) and unknown.status == 422

    def said(reply: Reply | None, sent: int) -> str:
        answer = "connection reset" if reply is None else (
            f"{reply.status}{' problem+json' if reply.is_problem else ''}")
        return f"{answer} (the client had pushed {sent / 1024 / 1024:.1f} of 10 MB by then)"

    return Outcome(closed, f"10 MB JSON with Content-Length: {said(*results['declared'])}; "
                           f"chunked: {said(*results['chunked'])}; unknown field "
                           f"{unknown.brief()}",
                   {label: (r.status if r else None) for label, (r, _) in results.items()}
                   | {"unknown_field": unknown.status})


@check(10, "implausible applicant data")
def implausible(p: Probe) -> Outcome:
    clerk = p.auth("clerk")
    cases = {
        "birth 9999-12-31": applicant("Nguyễn Văn Sinh", birth_date="9999-12-31"),
        "CCCD 999999999999": applicant("Nguyễn Văn Số", id_number="999999999999"),
        "ESC in name": applicant("Nguyễn Văn \x1b[31mA"),
        "U+202E in name": applicant("Nguyễn Văn \u202eA"),
    }
    statuses = {label: p.receive(clerk, body).status for label, body in cases.items()}
    return Outcome(all(s == 422 for s in statuses.values()),
                   "; ".join(f"{label} {status}" for label, status in statuses.items()),
                   statuses)


@check(11, "errors are problem+json")
def problem_json(p: Probe) -> Outcome:
    malformed = p.main.call("POST", "/api/v1/dossiers", data=b'{"procedure": "1.004873",',
                            headers={"Content-Type": "application/json", **p.auth("clerk")})
    unknown = p.main.call("GET", "/api/v1/khong-co")
    replies = {"malformed JSON": malformed, "/api/v1/khong-co": unknown}
    closed = all(r.is_problem and b"Traceback" not in r.body for r in replies.values()) \
        and malformed.status in (400, 422) and unknown.status == 404
    return Outcome(closed, "; ".join(f"{label} {r.status} {r.content_type or 'no type'}"
                                     for label, r in replies.items()),
                   {label: [r.status, r.content_type] for label, r in replies.items()})


@check(12, "/metrics exposure")
def metrics(p: Probe) -> Outcome:
    """The server runs with MOTCUA_METRICS_ALLOW=192.0.2.1: the probe's 127.0.0.1 is a
    stranger, which must get in only with MOTCUA_METRICS_TOKEN."""
    anonymous = p.main.call("GET", "/metrics")
    wrong = p.main.call("GET", "/metrics", headers={"Authorization": "Bearer sai"})
    right = p.main.call("GET", "/metrics",
                        headers={"Authorization": f"Bearer {p.metrics_token}"})
    closed = anonymous.status in (401, 403, 404) and wrong.status in (401, 403, 404) \
        and right.status == 200 and b"# TYPE" in right.body
    return Outcome(closed, f"from a non-allowed address: no token {anonymous.status}, wrong "
                           f"token {wrong.status}, MOTCUA_METRICS_TOKEN {right.status}",
                   {"anonymous": anonymous.status, "wrong": wrong.status,
                    "token": right.status})


@check(13, "read journal")
def read_journal(p: Probe) -> Outcome:
    clerk, code = p.auth("clerk"), p.new_dossier("Phạm Văn Đọc")
    detail = p.main.call("GET", f"/api/v1/dossiers/{code}", headers=clerk)
    pdf = p.main.call("GET", f"/api/v1/dossiers/{code}/documents/receipt.pdf", headers=clerk)
    journal = p.main.call("GET", f"/api/v1/read-journal?dossier={code}",
                          headers=p.auth("auditor"))
    items = (journal.json() or {}).get("items", []) if journal.status == 200 else []
    by_clerk = [e for e in items if e.get("username") == "clerk"]
    saw_detail = any(e.get("what") == "detail" for e in by_clerk)
    saw_pdf = any(e.get("what") == "document" and e.get("document") == "receipt"
                  for e in by_clerk)
    closed = detail.status == 200 and pdf.status == 200 and pdf.body.startswith(b"%PDF") \
        and saw_detail and saw_pdf
    return Outcome(closed, f"clerk read detail {detail.status} and receipt.pdf {pdf.status}; "
                           f"auditor's journal {journal.status}: {len(items)} read(s), detail "
                           f"{'listed' if saw_detail else 'MISSING'}, receipt "
                           f"{'listed' if saw_pdf else 'MISSING'}",
                   {"journal": journal.status, "reads": len(items)})


@check(14, "health and readiness")
def health(p: Probe) -> Outcome:
    ready = p.main.call("GET", "/readyz")
    alive = p.main.call("GET", "/healthz")
    status = (ready.json() or {}).get("status") if ready.status in (200, 503) else None
    closed = ready.status == 200 and status == "ready" and alive.status == 200
    return Outcome(closed, f"/readyz {ready.status} {status or ready.content_type}; "
                           f"/healthz {alive.status}",
                   {"readyz": ready.status, "healthz": alive.status})


@check(15, "database connections dropped under load")
def connection_drop(p: Probe) -> Outcome:
    """8 threads send 240 mixed requests while PostgreSQL terminates the servers' backends
    twice; a client may see 503 with Retry-After, never a 500 or a reset connection."""
    if p.database.kind != "postgresql":
        return Outcome(None, "skipped on SQLite (no server connections to drop); run with "
                             "--database-url postgresql://…")
    clerk, code = p.auth("clerk"), p.new_dossier("Đỗ Văn Tải")
    requests = [
        lambda i: p.receive(clerk, applicant("Đỗ Văn Tải"), key=f"probe-drop-{i}"),
        lambda i: p.main.call("GET", "/api/v1/dossiers?limit=20", headers=clerk),
        lambda i: p.main.call("GET", f"/api/v1/dossiers/{code}", headers=clerk),
        lambda i: p.main.call("GET", "/api/v1/procedures?q=ket%20hon", headers=clerk),
    ]
    total, done, lock = 240, [0], threading.Lock()

    def send(i: int) -> tuple[int | str, bool]:
        try:
            reply = requests[i % len(requests)](i)
            outcome = (reply.status, "retry-after" in reply.headers)
        except NETWORK_ERRORS:
            outcome = ("reset", False)
        with lock:
            done[0] += 1
        return outcome

    killed: list[int] = []

    def killer() -> None:
        for mark in (total // 3, 2 * total // 3):
            while done[0] < mark:
                time.sleep(0.005)
            killed.append(p.database.terminate_backends())

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(send, range(total)))
    thread.join(30)
    statuses = Counter(s for s, _ in results)
    unavailable_without_retry = sum(1 for s, retry in results if s == 503 and not retry)
    errors = sum(n for s, n in statuses.items() if s != "reset" and s >= 500 and s != 503)
    after = p.main.call("GET", "/api/v1/dossiers?limit=1", headers=clerk)  # recovered?
    closed = (errors == 0 and statuses["reset"] == 0 and unavailable_without_retry == 0
              and sum(killed) > 0 and after.status == 200)
    others = {str(s): n for s, n in statuses.items()
              if s == "reset" or not (200 <= s < 300 or s == 503 or s >= 500)}
    ok = sum(n for s, n in statuses.items() if s != "reset" and 200 <= s < 300)
    return Outcome(closed, f"{total} requests on 8 threads, backends terminated twice "
                           f"({'+'.join(map(str, killed)) or 'none'} killed): "
                           f"{errors} × 5xx (not 503), "
                           f"{statuses['reset']} resets, {statuses[503]} × 503 "
                           f"({unavailable_without_retry} without Retry-After), {ok} × 2xx"
                           + (f", other: {others}" if others else "")
                           + f"; a request after: {after.status}",
                   {"statuses": {str(s): n for s, n in statuses.items()}, "killed": killed})


# ----- running ---------------------------------------------------------------------------

def usage_error(message: str) -> NoReturn:
    """A wrong option or database URL: exit 2, distinct from 1 (a hole is OPEN)."""
    print(f"probe: {message}", file=sys.stderr)
    sys.exit(2)


def parse_only(raw: str | None) -> list[int]:
    if not raw:
        return sorted(CHECKS)
    try:
        numbers = sorted({int(part) for part in raw.split(",") if part.strip()})
    except ValueError:
        usage_error(f"--only takes check numbers, e.g. 1,2,5 (got {raw!r})")
    unknown = [n for n in numbers if n not in CHECKS]
    if unknown:
        usage_error(f"no check {unknown}; checks are 1–{max(CHECKS)}")
    return numbers


def run_checks(probe: Probe, numbers: list[int], say: Callable[[str], None]) -> list[dict]:
    results = []
    for number in numbers:
        title, function = CHECKS[number]
        started = time.monotonic()
        try:
            outcome = function(probe)
        except Exception as exc:  # a check that cannot finish proves nothing closed
            outcome = Outcome(False, f"probe error: {type(exc).__name__}: {exc}"[:500])
        label = {True: "CLOSED", False: "OPEN", None: "SKIP"}[outcome.closed]
        seconds = time.monotonic() - started
        say(f"{number:>2} {label:<6} {title}: {outcome.figure}")
        results.append({"check": number, "title": title, "status": label,
                        "figure": outcome.figure, "seconds": round(seconds, 2),
                        "details": outcome.details})
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL database to create a fresh schema "
                        "in, or a new SQLite file (default: a fresh SQLite file in a "
                        "temporary folder)")
    parser.add_argument("--json", action="store_true",
                        help="print the results as one JSON document on stdout")
    parser.add_argument("--only", help="comma-separated check numbers, e.g. 1,2,5,6,11")
    args = parser.parse_args(argv)
    numbers = parse_only(args.only)
    say = (lambda line: print(line, file=sys.stderr, flush=True)) if args.json else (
        lambda line: print(line, flush=True))

    with tempfile.TemporaryDirectory(prefix="motcua-probe-") as folder:
        database = Database(args.database_url, Path(folder))
        probe = Probe(database, Path(folder))
        try:
            try:
                probe.start()
            except RuntimeError as exc:
                print(f"probe: {exc}", file=sys.stderr)
                return 2
            say(f"MotCua probe on {database.label}; server {probe.main.name} at "
                f"http://127.0.0.1:{probe.main.port}/")
            results = run_checks(probe, numbers, say)
        finally:
            probe.stop()
            database.drop()

    counts = Counter(r["status"] for r in results)
    say(f"{counts['CLOSED']} closed, {counts['OPEN']} open, {counts['SKIP']} skipped")
    if args.json:
        print(json.dumps({"database": database.kind, "checks": results,
                          "open": [r["check"] for r in results if r["status"] == "OPEN"]},
                         ensure_ascii=False, indent=2))
    return 1 if counts["OPEN"] else 0


if __name__ == "__main__":
    sys.exit(main())
