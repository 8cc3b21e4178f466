"""Two real ``motcua scheduler`` processes on PostgreSQL over 1,000 due dossiers; the leader is
killed with SIGKILL in the middle of its sweep. The second takes over within a minute and
finishes the work: every expected message exists exactly once, and the webhook receiver got
each message id once (duplicates counted: 0).

What is delivered where: the sweep's findings go to staff in the bell (in-app rows); the
webhook carries the applicants' SMS for their receipts (written when the dossiers were
received, ``MOTCUA_NOTIFY_APPLICANT_SMS``). Both schedulers deliver them, and the leader is
killed while they do.

Delivery is at-least-once at its core: a process killed after a receiver answered 200 and
before it recorded the delivery sends that message again later (the ``Idempotency-Key`` is
what lets a receiver recognise it; docs/notifications.md). This test counts *every* second
receipt as a duplicate, so it makes sure the leader dies with no such answer unrecorded: for
the moment of the kill the receiver answers 503 without recording (a receiver briefly down),
the leader records those failures, and is killed. Everything else is left to the processes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text
from sqlmodel import Session

from engine.db import make_engine, session_scope
from engine.leases import holder_of
from engine.outbox import Channel, DeliveryState, OutboxMessage
from engine.samples import CLERK, LEADER, OFFICER, received, seed_world
from engine.users import User

EXE = shutil.which("motcua", path=str(Path(sys.executable).parent)) or "motcua"
DOSSIERS = int(os.environ.get("MOTCUA_KILL_TEST_DOSSIERS", "1000"))
SECRET = "bi-mat-webhook-thu-nghiem"
#: Seconds the receiver takes per request: slow enough that delivering the SMS overlaps the
#: sweep (and the kill), as with a real gateway.
RECEIVER_DELAY = 0.02

sweep_module = pytest.importorskip("engine.timed.sweep", reason="the sweep (helper S) is needed")
worker_module = pytest.importorskip("service.delivery.worker",
                                    reason="delivery (helper D) is needed")
events = pytest.importorskip("engine.timed.events", reason="lifecycle messages are needed")
recipients = pytest.importorskip("engine.timed.recipients")
webhook = pytest.importorskip("service.delivery.webhook")


# ----- the webhook receiver --------------------------------------------------------------------

class Sink(ThreadingHTTPServer):
    """Counts each ``Idempotency-Key`` it accepted (answered 2xx), checking the signature.
    ``frozen``: answer 503 and record nothing."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: Counter[str] = Counter()
        self.bad_signatures = 0
        self.refused = 0
        self.frozen = False
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/motcua"


class _Handler(BaseHTTPRequestHandler):
    server: Sink

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        sink = self.server
        if not sink.frozen:
            time.sleep(RECEIVER_DELAY)
        with sink.lock:
            if sink.frozen:  # at once: the leader records these failures and goes idle
                sink.refused += 1
                status = 503
            else:
                if not webhook.verify(SECRET, self.headers.get("X-MotCua-Timestamp", ""), body,
                                      self.headers.get("X-MotCua-Signature", "")):
                    sink.bad_signatures += 1
                sink.received[self.headers["Idempotency-Key"]] += 1
                status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def sink():
    server = Sink()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


# ----- the database ----------------------------------------------------------------------------

@pytest.fixture
def schema_url(postgres_admin):
    from engine.migrate import upgrade
    from tests.conftest import drop_schema, new_schema

    schema, url = new_schema(postgres_admin)
    upgrade(url)
    yield url
    drop_schema(postgres_admin, schema)


def make_due_dossiers(url: str, count: int) -> None:
    """The sample world with its three staff users, and ``count`` dossiers received on
    03/03/2025 (long overdue by now), through the real lifecycle; each receipt leaves an SMS
    for the applicant in the outbox (webhook channel)."""
    engine = make_engine(url)
    events.install(engine, channels=recipients.ApplicantChannels(email=False, sms=True))
    try:
        with session_scope(engine) as session:
            seed_world(session)
            for actor in (CLERK, OFFICER, LEADER):
                session.add(User(username=actor.id, full_name=actor.name, role=actor.role,
                                 agency_code=actor.agency, password_hash="-"))
        with Session(engine) as session:
            for i in range(count):
                received(session)
                if i % 100 == 99:
                    session.commit()
            session.commit()
    finally:
        events.uninstall(engine)
        engine.dispose()


class Database:
    """The test's own reads of the schema the processes work on."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def one(self, sql: str, **params) -> object:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar_one()

    def leader(self) -> str | None:
        with Session(self.engine) as session:
            return holder_of(session, "scheduler", now=datetime.now(UTC))

    def runs(self, pid: int, *, finished: bool | None = None, ok: bool | None = None) -> int:
        where = ["holder LIKE :holder"]
        if finished is not None:
            where.append("finished_at IS NOT NULL" if finished else
                         "finished_at IS NULL AND error IS NULL")
        if ok is not None:
            where.append("ok" if ok else "NOT ok")
        return self.one(f"SELECT count(*) FROM sweep_run WHERE {' AND '.join(where)}",
                        holder=f"%:{pid}:%")

    def hold_unjudged_dossiers(self) -> tuple[Connection, int]:
        """A transaction holding the row locks of every dossier no sweep has marked yet (rows
        another transaction holds are skipped), and how many it holds. The leader's next chunk
        then waits on them when it writes its marks, uncommitted, so the kill always finds the
        sweep cut in two. Without it the test raced the sweep: on a busy machine the leader
        finished its last chunk while the test waited for its deliveries, and the test failed
        ("the sweep had ended before the kill")."""
        connection = self.engine.connect()
        held = connection.execute(text(
            "SELECT id FROM dossier WHERE sweep_version IS NULL FOR UPDATE SKIP LOCKED")).all()
        return connection, len(held)

    def messages(self, channel: Channel, state: DeliveryState | None = None,
                 claimed_by_pid: int | None = None) -> int:
        sql = "SELECT count(*) FROM outbox_message WHERE channel = :channel"
        params: dict[str, object] = {"channel": channel.value}
        if state is not None:
            sql += " AND state = :state"
            params["state"] = state.value
        if claimed_by_pid is not None:
            sql += " AND claimed_by LIKE :worker"
            params["worker"] = f"%:{claimed_by_pid}:%"
        return self.one(sql, **params)


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               processes: tuple[subprocess.Popen, ...] = ()) -> object:
    """Poll ``condition`` (the processes are doing the work) until it holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for process in processes:
            if process.poll() is not None:
                raise AssertionError(f"process {process.pid} ended ({process.returncode}) "
                                     f"before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.05)


def start_scheduler(url: str, sink: Sink, log: Path) -> subprocess.Popen:
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_WEBHOOK_URL": sink.url,
           "MOTCUA_WEBHOOK_SECRET": SECRET, "MOTCUA_DB_WAIT_SECONDS": "10"}
    with log.open("w") as out:
        return subprocess.Popen([EXE, "scheduler"], env=env, stdout=out,
                                stderr=subprocess.STDOUT, cwd=log.parent)


# ----- the test --------------------------------------------------------------------------------

def test_leader_killed_mid_sweep_every_message_once_and_no_duplicate_delivery(
        schema_url, sink, tmp_path):
    timings: dict[str, float] = {}
    began = time.monotonic()
    make_due_dossiers(schema_url, DOSSIERS)
    timings["make dossiers"] = time.monotonic() - began
    db = Database(schema_url)
    sms = db.messages(Channel.WEBHOOK)
    assert sms == DOSSIERS  # one receipt SMS per dossier, not yet delivered

    one = start_scheduler(schema_url, sink, tmp_path / "one.log")
    two = start_scheduler(schema_url, sink, tmp_path / "two.log")
    logs = {one.pid: tmp_path / "one.log", two.pid: tmp_path / "two.log"}
    held: Connection | None = None
    try:
        # Both start together; whichever takes the lease first leads and sweeps at once.
        leader_pid = wait_until(lambda: next((p.pid for p in (one, two)
                                              if f":{p.pid}:" in (db.leader() or "")), None),
                                60, "a scheduler to lead", (one, two))
        first, second = (one, two) if leader_pid == one.pid else (two, one)

        # Mid-sweep: the leader's run has started, committed part of its work, not finished.
        wait_until(lambda: db.runs(first.pid, finished=False)
                   and db.messages(Channel.IN_APP) > 0, 120,
                   "the leader to be half-way through its sweep", (first, second))
        held, unjudged = db.hold_unjudged_dossiers()  # its next chunk waits on these
        assert unjudged > 0, "the sweep had judged every dossier before the test held the rest"
        with sink.lock:
            sink.frozen = True  # the receiver is briefly down: nothing answered 200 now ...
        wait_until(lambda: db.messages(Channel.WEBHOOK, DeliveryState.SENDING,
                                       claimed_by_pid=first.pid) == 0, 10,
                   "the leader to record its answered deliveries")
        written_before_kill = db.messages(Channel.IN_APP)
        delivered_before_kill = db.messages(Channel.WEBHOOK, DeliveryState.DELIVERED)
        os.kill(first.pid, signal.SIGKILL)  # ... and the leader dies, mid-sweep
        killed = time.monotonic()
        first.wait(timeout=10)
        held.rollback()  # the killed leader's chunk is rolled back; the second may sweep
        held.close()
        with sink.lock:
            sink.frozen = False
        assert db.runs(first.pid, finished=False) == 1, "the sweep had ended before the kill"
        assert db.runs(first.pid, ok=True) == 0

        wait_until(lambda: f":{second.pid}:" in (db.leader() or ""), 75,
                   "the second scheduler to take over", (second,))
        timings["takeover after the kill"] = time.monotonic() - killed
        assert timings["takeover after the kill"] <= 60
        wait_until(lambda: db.runs(second.pid, ok=True), 180,
                   "the new leader's sweep to succeed", (second,))
        timings["kill to a finished sweep"] = time.monotonic() - killed
        wait_until(lambda: db.messages(Channel.WEBHOOK, DeliveryState.DELIVERED) == sms, 300,
                   "every SMS to be delivered", (second,))
        timings["kill to every SMS delivered"] = time.monotonic() - killed

        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, logs[second.pid].read_text()
        assert db.leader() is None  # the clean stop gave the lease up
    finally:
        if held is not None:
            held.close()  # rolls back: the locks must not outlive the test (the schema goes)
        for process in (one, two):
            if process.poll() is None:
                process.kill()
                process.wait()

    # Every expected message exists exactly once. The dossiers are alike, so each must have
    # the same messages: a dossier missing one (a chunk lost in the kill) would differ.
    with Session(db.engine) as session:
        rows = session.exec(select(OutboxMessage.dossier_code, OutboxMessage.kind,
                                   OutboxMessage.rung, OutboxMessage.recipient)
                            .where(OutboxMessage.channel == Channel.IN_APP.value)).all()
        keys, distinct = session.exec(select(func.count(OutboxMessage.key),
                                             func.count(OutboxMessage.key.distinct()))).one()
    per_dossier: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for code, kind, rung, recipient in rows:
        per_dossier[code].append((kind, rung, recipient))
    shapes = Counter(tuple(sorted(found)) for found in per_dossier.values())
    assert len(per_dossier) == DOSSIERS
    assert len(shapes) == 1, f"dossiers differ in their messages: {shapes.most_common(3)}"
    [(shape, _)] = shapes.items()
    assert len(set(shape)) == len(shape)  # no (kind, rung, recipient) twice for a dossier
    assert {"overdue", "step_overdue"} <= {kind for kind, _, _ in shape}
    assert len(rows) == DOSSIERS * len(shape)
    assert keys == distinct
    assert 0 < written_before_kill < len(rows)  # the kill did cut the sweep in two ...
    assert 0 < delivered_before_kill < sms  # ... while the SMS were being delivered

    # A sweep now (marks or not) finds nothing more to write.
    with Session(db.engine) as session:
        again = sweep_module.run_sweep(session, now=datetime.now(UTC), holder="test")
    assert again.new_messages == 0

    # The receiver got each SMS once.
    with Session(db.engine) as session:
        sent = set(session.execute(select(OutboxMessage.key).where(
            OutboxMessage.channel == Channel.WEBHOOK.value)).scalars())
    duplicates = sum(count - 1 for count in sink.received.values())
    assert duplicates == 0, Counter(sink.received.values())
    assert set(sink.received) == sent and len(sent) == DOSSIERS
    assert sink.bad_signatures == 0
    db.engine.dispose()
    took = ", ".join(f"{k}: {v:.1f} s" for k, v in timings.items())
    print(f"\n{DOSSIERS} dossiers, {len(rows)} in-app messages ({len(shape)} each), "
          f"{written_before_kill} written before the kill, {sms} SMS ({delivered_before_kill} "
          f"delivered before the kill), 503 answers while frozen: {sink.refused}; {took}")

