"""Benchmark: outbox deliveries per second to a local webhook sink, against a bare loop of HTTP
posts of the same bodies to the same sink with the same HTTP client settings, in one process.

- FLOOR: ``client.post(url, content=body, headers=…)`` for N prebuilt message bodies, in a loop;
- OUTBOX: N webhook messages enqueued (not timed), then ``deliver_due`` in batches until none
  is left: claim, sign, post, record — what a delivery worker does.

``--rounds`` rounds, each the floor and the outbox back to back (which goes first
alternates). The ratio (goal ≥ 0.5×) is the median of the rounds' outbox rate / floor rate: on a
shared machine a burst of load slows both halves of a round, so the paired ratio is steadier
than either rate; the best rates of each and their ratio are printed too.
The sink counts the idempotency keys it accepted: duplicates must be 0.

    .venv/bin/python bench/outbox.py [--messages 1000] [--batch 50] [--rounds 7]
                                     [--db sqlite|postgresql|both] [--pg-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from engine import outbox  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.outbox import Channel, Draft  # noqa: E402
from engine.settings import normalize_database_url  # noqa: E402
from service.delivery import Couriers, DeliverySettings, WebhookSettings, deliver_due  # noqa: E402
from service.delivery.message import Outgoing  # noqa: E402
from service.delivery.webhook import body_of, headers_for, new_client  # noqa: E402

SECRET = "bench-secret"
SUBJECT = "Hồ sơ {code} sắp đến hạn trả kết quả"
BODY = ("Kính gửi đồng chí,\nhồ sơ {code} (Đăng ký khai sinh) còn 1 ngày làm việc đến hạn trả "
        "kết quả: 16:30 ngày 10/12/2026. Đề nghị hoàn thành bước thẩm định trước hạn.")


class Sink:
    """Answers 204 to every POST and counts the idempotency keys it accepted."""

    def __init__(self) -> None:
        self.accepted: Counter[str] = Counter()
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                key = self.headers.get("Idempotency-Key")
                if key:
                    with sink.lock:
                        sink.accepted[key] += 1
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/motcua"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def duplicates(self) -> int:
        return sum(n - 1 for n in self.accepted.values() if n > 1)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def drafts(n: int, round_no: int) -> list[Draft]:
    return [Draft(kind="due_soon", channel=Channel.WEBHOOK, recipient="portal",
                  subject=SUBJECT.format(code=f"R{round_no}-{i}"),
                  body=BODY.format(code=f"R{round_no}-{i}"), dossier_code=f"R{round_no}-{i}",
                  rung="2026-12-10", payload={"due": "2026-12-10", "agency": "X01"})
            for i in range(n)]


def floor_rate(sink: Sink, n: int, round_no: int, timeout: float) -> float:
    """Bare posts: the same bodies and headers, prebuilt, one after another."""
    at = datetime.now(UTC)
    requests = []
    for i, d in enumerate(drafts(n, round_no)):
        message = Outgoing(id=i, key=f"floor-{round_no}-{i}", kind=d.kind, rung=d.rung,
                           channel="webhook", recipient=d.recipient,
                           dossier_code=d.dossier_code, step_seq=None, subject=d.subject,
                           body=d.body, payload=dict(d.payload or {}), created_at=at,
                           attempt=1)
        body = body_of(message)
        requests.append((body, headers_for(message, body, SECRET)))
    client = new_client()
    try:
        client.post(sink.url, content=b"{}")  # connect outside the timing, as the worker's is
        start = time.perf_counter()
        for body, headers in requests:
            answer = client.post(sink.url, content=body, headers=headers, timeout=timeout)
            answer.raise_for_status()
        return n / (time.perf_counter() - start)
    finally:
        client.close()


def outbox_rate(engine, sink: Sink, n: int, round_no: int, batch: int,
                settings: DeliverySettings) -> float:
    with Session(engine) as session:
        outbox.enqueue(session, drafts(n, round_no))
        session.commit()
    couriers = Couriers(settings)
    try:
        couriers.client.post(sink.url, content=b"{}")  # connected, like a running worker
        delivered = 0
        start = time.perf_counter()
        while report := deliver_due(engine, worker="bench", limit=batch, settings=settings,
                                    couriers=couriers):
            if not report.claimed:
                break
            delivered += report.delivered
        elapsed = time.perf_counter() - start
    finally:
        couriers.close()
    if delivered != n:
        raise SystemExit(f"delivered {delivered} of {n}")
    return n / elapsed


@contextmanager
def database(db: str, pg_url: str | None) -> Iterator[str]:
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
            url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
            upgrade(url)
            yield url
        return
    admin = create_engine(normalize_database_url(pg_url), isolation_level="AUTOCOMMIT")
    schema = f"bench_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(normalize_database_url(pg_url)).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def run(db: str, args: argparse.Namespace) -> dict:
    sink = Sink()
    settings = DeliverySettings(webhook=WebhookSettings(url=sink.url, secret=SECRET, timeout=5))
    floors, rates = [], []
    try:
        with database(db, args.pg_url) as url:
            engine = make_engine(url)
            try:
                for round_no in range(args.rounds):  # which goes first alternates
                    if round_no % 2:
                        rates.append(outbox_rate(engine, sink, args.messages, round_no,
                                                 args.batch, settings))
                    floors.append(floor_rate(sink, args.messages, round_no, 5))
                    if not round_no % 2:
                        rates.append(outbox_rate(engine, sink, args.messages, round_no,
                                                 args.batch, settings))
            finally:
                engine.dispose()
    finally:
        sink.close()
    floor, ours = max(floors), max(rates)
    paired = sorted(r / f for r, f in zip(rates, floors, strict=True))
    print(f"{db}: {args.messages:,} messages, batch {args.batch}, {args.rounds} rounds | "
          f"best: bare posts {floor:,.0f}/s, outbox {ours:,.0f}/s ({ours / floor:.2f}x) | "
          f"ratio {statistics.median(paired):.2f}x (median of rounds "
          f"{', '.join(f'{x:.2f}' for x in paired)}; goal >= 0.5x) | "
          f"duplicates {sink.duplicates}", flush=True)
    return {"messages": args.messages, "floor_per_s": floor, "outbox_per_s": ours,
            "rounds": paired, "ratio": statistics.median(paired), "duplicates": sink.duplicates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    results = {}
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        if db == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / MOTCUA_TEST_DATABASE_URL)")
            continue
        results[db] = run(db, args)
    if args.json:
        goals = {}
        for db, r in results.items():
            goals[f"{db}_ratio"] = {"value": r["ratio"], "goal": 0.5, "op": ">=",
                                    "met": r["ratio"] >= 0.5}
            goals[f"{db}_duplicates"] = {"value": r["duplicates"], "goal": 0, "op": "<=",
                                         "met": r["duplicates"] == 0}
        print(json.dumps({**results, "ratios": {db: r["ratio"] for db, r in results.items()},
                          "goals": goals}))


if __name__ == "__main__":
    main()
