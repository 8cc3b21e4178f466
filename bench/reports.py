"""Benchmark: the full year's report against one bare grouped scan of the dossier table.

Generates a realistic year (2025) of dossiers over 3 levels of agencies (bộ / tỉnh / xã) and
50 procedures, with supplements (restart), pauses, apologies, refusals, withdrawals, late and
still-pending cases, written straight into ``dossier`` (SQLite: executemany of preformatted
rows; PostgreSQL: COPY), plus minimal clock events for the dossiers whose verdict may need them
(supplements, pauses, apologies). Then, per database:

- FLOOR: ``SELECT competent_agency, count(*), count(ended_at), max(due_date) FROM dossier
  GROUP BY competent_agency`` (one grouped scan reading the row data), and the same scan
  over the columns the report reads (``ended_on``: the *columns floor*);
- REPORT: ``engine.reports.figures`` for 01/01–31/12/2025 grouped by agency (every figure,
  including the replayed dossiers);

best of 5 interleaved rounds each, the ratio (goal ≤ 2×), and the report's peak Python memory
(tracemalloc) at a small and at the full size (goal: flat).

    .venv/bin/python bench/reports.py [--dossiers 1000000] [--small 100000]
                                      [--db sqlite|postgresql|both] [--pg-url URL]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import secrets  # noqa: E402
import sqlite3  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from engine.agencies import Agency  # noqa: E402
from engine.calendar import national_calendar  # noqa: E402
from engine.db import make_engine, session_scope  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.procedures import ProcedureSpec, save_version  # noqa: E402
from engine.reports import By, Period, figures  # noqa: E402
from engine.settings import normalize_database_url  # noqa: E402
from engine.timezone import VN_TZ  # noqa: E402

YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
NOW = date(2026, 1, 20)  # "today" of the generated data: later ends are still pending
LEVELS = {"bo": 2, "tinh": 12, "xa": 36}
LIMITS = [(1, "working_days"), (2, "working_days"), (3, "working_days"), (5, "working_days"),
          (7, "working_days"), (10, "working_days"), (15, "working_days"),
          (20, "working_days"), (30, "calendar_days"), (4, "working_hours")]
COLUMNS = ("code", "secret", "procedure_code", "procedure_version", "procedure_name", "channel",
           "state", "status_code", "receiving_agency", "competent_agency", "returning_agency",
           "boundary_free", "assignee", "applicant_name", "search_text", "components",
           "sets_count", "return_method", "received_at", "clock_started_at", "limit_amount",
           "limit_unit", "supplement_effect", "original_due_date", "due_date",
           "appointment_date", "ended_at", "end_kind", "returned_at", "supplement_count",
           "apology_count", "flags", "imported", "version", "created_at", "updated_at",
           "ended_on", "was_paused", "apology_on", "apology_late", "ended_awaiting_supplement",
           "clock_settled_on", "first_wait_on")
EVENT_COLUMNS = ("dossier_id", "seq", "action", "at", "recorded_at", "actor_id", "actor_role",
                 "actor_agency", "state_before", "state_after", "payload", "imported",
                 "prev_hash", "hash")
STATUS = {"result_ready": 9, "returned": 10, "stopped": 8, "withdrawn": 7,
          "in_processing": 4, "awaiting_supplement": 5, "paused": 4}


def agencies() -> list[tuple[str, str]]:
    out = []
    for level, n in LEVELS.items():
        for i in range(n):
            out.append((f"{level[0].upper()}{i:02d}.00.00.H31", level))
    return out


def procedures() -> list[dict]:
    out = []
    levels = list(LEVELS)
    for i in range(50):
        amount, unit = LIMITS[i % len(LIMITS)]
        out.append({"code": f"1.{i:06d}", "name": f"Thủ tục thử nghiệm số {i}",
                    "field": f"Lĩnh vực {i % 8}", "level": levels[i % 3],
                    "effective_from": "2019-01-01",
                    "time_limit": {"amount": amount, "unit": unit},
                    "supplement_effect": "restart", "pause_reasons": ["Xác minh thực địa"],
                    "components": [], "steps": [], "result": {"type": "x"}})
    return out


def seed(engine) -> None:
    with session_scope(engine) as session:
        for code, level in agencies():
            session.add(Agency(code=code, name=f"Cơ quan {code}", short_name=code, level=level,
                               place_name="Hải Phòng", is_one_stop=True))
        for raw in procedures():
            save_version(session, spec=ProcedureSpec.from_dict(raw))


def _utc(day: date, minutes: int) -> datetime:
    return (datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
            + timedelta(minutes=minutes)).astimezone(UTC)


@dataclass(frozen=True)
class World:
    """What :func:`generate` draws from. The default is this benchmark's own (2025, its 50
    procedures over 3 levels, every dossier ended by ``NOW`` unless its end is later);
    ``bench/load.py`` passes the demo catalogue and agencies, its own dates, a share of
    dossiers still open (a backlog, mostly recent: what an inbox lists) and asks for every
    event (its dossier pages show them), reusing the clock logic here."""

    procedures: list[dict]  # as procedures(); an optional "competent" list of agency codes
    agencies: list[tuple[str, str]]  # (code, level): competent agencies by level
    first_day: date = date(2025, 1, 1)
    last_day: date = date(2025, 12, 31)
    now: date = NOW
    open_share: float = 0.0  # forced open, weighted towards recent receipts
    every_event: bool = False  # else only the clock events of the dossiers a report replays


def generate(n: int, seed_value: int = 7, world: World | None = None):
    """Yield (dossier row, [event rows without dossier_id]) for ``n`` dossiers of 2025 (or of
    ``world``'s days)."""
    world = world or World(procedures(), agencies())
    rng = random.Random(seed_value)
    cal = national_calendar()
    days = [d for d in (world.first_day + timedelta(i)
                        for i in range((world.last_day - world.first_day).days + 1))
            if cal.is_working_day(d)]
    by_level: dict[str, list[str]] = {}
    for code, level in world.agencies:
        by_level.setdefault(level, []).append(code)
    procs = world.procedures
    now = datetime.now(UTC)

    def iso(v: datetime) -> str:
        return v.isoformat()

    for i in range(n):
        p = procs[i % len(procs) if rng.random() < 0.5 else rng.randrange(len(procs))]
        amount, unit = p["time_limit"]["amount"], p["time_limit"]["unit"]
        competent = rng.choice(p.get("competent") or by_level[p["level"]])
        day = days[i * len(days) // n]
        received = _utc(day, 450 + rng.randrange(540))
        limit_days = amount if unit == "working_days" else 1 if unit == "working_hours" else 0

        def due_from(start: date, unit=unit, amount=amount, limit_days=limit_days) -> date:
            if unit == "calendar_days":
                return cal.add_calendar_days(start, amount)
            return cal.add_working_days(start, max(limit_days, 1))

        original_due = due = due_from(day)
        events: list[tuple] = [("receive", received, "new", "received",
                                {"kind": "received", "at": iso(received)})]
        events.append(("transfer", received, "received", "in_processing", None))
        r = rng.random()
        supplements = 2 if r < 0.01 else 1 if r < 0.09 else 0
        cursor = day
        first_wait: date | None = None
        flags: list[str] = []
        for _ in range(supplements):
            req = cal.add_working_days(cursor, rng.randint(1, 4))
            first_wait = first_wait or req
            if req > cal.add_working_days(cursor, 3):
                flags.append("supplement_request_late")
            back = cal.add_working_days(req, rng.randint(1, 6))
            t_req, t_back = _utc(req, 600), _utc(back, 540)
            events.append(("request_supplement", t_req, "in_processing", "awaiting_supplement",
                           {"kind": "supplement_requested", "at": iso(t_req)}))
            events.append(("receive_supplement", t_back, "awaiting_supplement", "in_processing",
                           {"kind": "supplement_received", "at": iso(t_back)}))
            cursor = back
            due = due_from(back)
        if supplements == 2:
            flags.append("supplement_repeated")
        paused = rng.random() < 0.03
        if paused:
            start = cal.add_working_days(cursor, 1)
            length = rng.randint(1, 5)
            stop = cal.add_working_days(start, length)
            first_wait = first_wait or start
            t_p, t_r = _utc(start, 600), _utc(stop, 540)
            events.append(("pause", t_p, "in_processing", "paused",
                           {"kind": "paused", "at": iso(t_p), "reason": "Xác minh thực địa"}))
            events.append(("resume", t_r, "paused", "in_processing",
                           {"kind": "resumed", "at": iso(t_r)}))
            due = cal.add_working_days(due, length)
            cursor = stop
        r = rng.random()
        if r < 0.55:
            end = cal.add_working_days(cursor, max(0, rng.randint(0, max(limit_days - 1, 0))))
            end = min(end, due)
        elif r < 0.80:
            end = due
        else:
            end = cal.add_working_days(due, rng.randint(1, 10))
        apology, apology_on, late_apology = 0, None, False
        if end > due and rng.random() < 0.4:
            apology = 1
            late_apology = rng.random() < 0.2
            when = due if late_apology else cal.previous_working_day(due)
            if when < day:
                when = day
            if late_apology:
                flags.append("apology_late")
            t_a, apology_on = _utc(when, 610), when
            new_due = cal.add_working_days(end, 1)
            events.append(("apologise", t_a, "in_processing", "in_processing",
                           {"kind": "apology", "at": iso(t_a), "reason": "Cần xác minh",
                            "new_due": new_due.isoformat()}))
        if world.open_share and rng.random() < world.open_share * 3 * (i / n) ** 2:
            end = world.now + timedelta(days=1)  # the backlog: not ended by "today"
        k = rng.random()
        kind = ("withdrawn" if k < 0.02 else "refused" if k < 0.04 else "stopped" if k < 0.05
                else "result_ready")
        ended = _utc(end, 900)
        if end > world.now:
            state, ended_at, end_kind, returned = "in_processing", None, None, None
        else:
            ended_at, end_kind = ended, kind
            state = {"refused": "stopped"}.get(kind, kind)
            returned = None
            if kind == "result_ready" and rng.random() < 0.8:
                state, returned = "returned", ended + timedelta(days=1)
            action = {"withdrawn": "withdraw", "refused": "refuse", "stopped": "stop",
                      "result_ready": "finish"}[kind]
            events.append((action, ended, "in_processing",
                           "stopped" if kind == "refused" else kind,
                           {"kind": kind, "at": iso(ended)}))
        channel = "online" if rng.random() < 0.35 else "postal" if rng.random() < 0.08 \
            else "counter"
        code = f"{competent}-{day:%y%m%d}-{i:07d}"
        row = (code, "s", p["code"], date(2019, 1, 1), p["name"], channel, state,
               STATUS[state], competent, competent, competent, False,
               f"officer{i % 400}", "Nguyễn Văn A", code, "[]", 1, "counter", received,
               received, float(amount), unit, "restart", original_due, due,
               due if not apology else cal.add_working_days(end, 1), ended_at, end_kind,
               returned, supplements, apology, json.dumps(sorted(set(flags))), False, 1, now,
               now,
               # the report columns the lifecycle keeps (migrations 0005, 0006): the due date
               # last moved on the last supplement receipt or resume (before the end)
               end if ended_at else None, paused, apology_on, late_apology, False,
               cursor if supplements or paused else None, first_wait)
        keep = supplements or paused or apology or world.every_event
        yield row, (events if keep else [])


# ----- writers ------------------------------------------------------------------------------

def _sqlite_value(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def write_sqlite(path: str, n: int) -> float:
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    dq = (f"INSERT INTO dossier ({', '.join(COLUMNS)}) "
          f"VALUES ({', '.join('?' * len(COLUMNS))})")
    eq = (f"INSERT INTO dossier_event ({', '.join(EVENT_COLUMNS)}) "
          f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")
    rows, events = [], []
    now = _sqlite_value(datetime.now(UTC))
    for dossier_id, (row, evs) in enumerate(generate(n), start=1):
        rows.append(tuple(_sqlite_value(v) for v in row))
        for seq, (action, at, before, after, clock) in enumerate(evs, start=1):
            events.append((dossier_id, seq, action, _sqlite_value(at), now, "bench", "bench",
                           row[9], before, after, json.dumps({"clock": clock} if clock else {}),
                           False, "0", "0"))
        if len(rows) >= 20000:
            con.executemany(dq, rows)
            con.executemany(eq, events)
            rows, events = [], []
    con.executemany(dq, rows)
    con.executemany(eq, events)
    con.commit()
    con.execute("ANALYZE")
    con.close()
    return time.perf_counter() - t0


def write_postgres(url: str, schema: str, n: int) -> float:
    import psycopg

    t0 = time.perf_counter()
    raw = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw, options=f"-csearch_path={schema}") as con:
        with con.cursor() as cur:
            dossier_id = 0
            events: list[tuple] = []
            now = datetime.now(UTC)
            with cur.copy(f"COPY dossier (id, {', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row, evs in generate(n):
                    dossier_id += 1
                    copy.write_row((dossier_id, *row))
                    for seq, (action, at, before, after, clock) in enumerate(evs, start=1):
                        events.append((dossier_id, seq, action, at, now, "bench", "bench",
                                       row[9], before, after,
                                       json.dumps({"clock": clock} if clock else {}), False,
                                       "0", "0"))
            with cur.copy(f"COPY dossier_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for e in events:
                    copy.write_row(e)
            cur.execute("SELECT setval(pg_get_serial_sequence('dossier', 'id'), %s)",
                        (dossier_id,))
        con.commit()
        # What autovacuum does soon after a bulk load: statistics, and the visibility map
        # that lets the report read its covering index without visiting the rows.
        con.autocommit = True
        con.execute("VACUUM ANALYZE dossier")
        con.execute("VACUUM ANALYZE dossier_event")
    return time.perf_counter() - t0


# ----- measuring ----------------------------------------------------------------------------

FLOOR_SQL = ("SELECT competent_agency, count(*), count(ended_at), max(due_date) "
             "FROM dossier GROUP BY competent_agency")
#: The same bare grouped scan over columns the report itself reads (``ended_on`` instead of
#: ``ended_at``): what the floor costs when it, too, reads only where the report reads — on
#: SQLite the covering index ``ix_dossier_report``, on PostgreSQL the front of the row
#: (migration 0007 puts the report's columns first; ``ended_at`` stays behind the wide ones).
#: Printed beside the issue's floor so that the layout's share of the speed-up is visible.
COLUMNS_FLOOR_SQL = ("SELECT competent_agency, count(*), count(ended_on), max(due_date) "
                   "FROM dossier GROUP BY competent_agency")


#: Rounds of (floor, columns floor, report), interleaved so that the machine's drift (large
#: on a shared 2-core machine: the floor alone moves by 20–30 % within minutes) hits all three
#: alike; the best time of each is kept.
ROUNDS = 5


def timed(fn) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def measure(engine) -> dict:
    with Session(engine) as session:
        result = {}

        def report():
            result["fig"] = figures(session, YEAR, By.AGENCY)

        times: dict[str, list[float]] = {"floor": [], "columns": [], "report": []}
        for _ in range(ROUNDS):
            times["floor"].append(timed(lambda: session.execute(text(FLOOR_SQL)).all()))
            times["columns"].append(timed(lambda: session.execute(text(COLUMNS_FLOOR_SQL)).all()))
            times["report"].append(timed(report))
        floor, columns_floor, full = (min(times[k]) for k in ("floor", "columns", "report"))
        tracemalloc.start()
        figures(session, YEAR, By.AGENCY)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        t = result["fig"].totals
    return {"floor_s": floor, "report_s": full, "ratio": full / floor if floor else None,
            "columns_floor_s": columns_floor, "columns_ratio": full / columns_floor,
            "peak_kib": peak / 1024, "replayed": t.replayed,
            "received": t.received, "ended": t.ended, "pending": t.pending,
            "on_time_rate_766": t.on_time_rate_766}


def run(db: str, n: int, pg_url: str | None, measure: Callable[[Any], dict] = measure) -> dict:
    """``measure(engine)`` on a fresh database of ``n`` generated dossiers (a temporary SQLite
    file or PostgreSQL schema, removed afterwards); ``bench/report_cache.py`` passes its own."""
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="motcua-bench-")
        path = os.path.join(folder, "bench.db")
        url = f"sqlite:///{path}"
        upgrade(url)
        engine = make_engine(url)
        seed(engine)
        gen = write_sqlite(path, n)
        try:
            return {"db": db, "dossiers": n, "generate_s": gen, **measure(engine)}
        finally:
            engine.dispose()
            os.remove(path)
    admin = create_engine(normalize_database_url(pg_url), isolation_level="AUTOCOMMIT")
    schema = f"bench_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalize_database_url(pg_url)).update_query_dict(
        {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        upgrade(url)
        engine = make_engine(url)
        seed(engine)
        gen = write_postgres(pg_url, schema, n)
        try:
            return {"db": db, "dossiers": n, "generate_s": gen, **measure(engine)}
        finally:
            engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000,
                        help="the smaller size for the memory comparison (0: skip)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    results: dict[str, dict] = {}  # for --json: "<db>_<dossiers>" → run()'s figures
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    sizes = [s for s in (args.small, args.dossiers) if s]
    for db in dbs:
        if db == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / MOTCUA_TEST_DATABASE_URL)")
            continue
        for n in sizes:
            r = results[f"{db}_{n}"] = run(db, n, args.pg_url)
            print(f"{db:10} {n:>9,} dossiers: generate {r['generate_s']:6.1f} s | floor "
                  f"{r['floor_s'] * 1000:8.1f} ms | report {r['report_s'] * 1000:8.1f} ms | "
                  f"ratio {r['ratio']:.2f}x | columns floor {r['columns_floor_s'] * 1000:7.1f} ms "
                  f"(ratio {r['columns_ratio']:.2f}x) | report peak {r['peak_kib']:8.0f} KiB | "
                  f"replayed {r['replayed']:,} | 766 rate {r['on_time_rate_766']:.3f}",
                  flush=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {rss:.0f} MiB (includes generation)")
    if args.json:
        goals = {f"{k}_ratio": {"value": r["ratio"], "goal": 2, "op": "<=",
                                "met": r["ratio"] is not None and r["ratio"] <= 2}
                 for k, r in results.items()}
        print(json.dumps({**results, "max_rss_mib": rss, "goals": goals,
                          "ratios": {k: r["ratio"] for k, r in results.items()}}, default=str))


if __name__ == "__main__":
    main()
