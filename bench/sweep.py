"""Benchmark: one sweep over N open dossiers against one indexed count of the same due rows.

Generates N open dossiers over 50 agencies (bộ / tỉnh / xã), each with an open hand-off row —
due dates spread from two weeks overdue to eight weeks ahead, some awaiting a supplement (with
the request's event), some received and not yet sent on, some boundary-free and not yet
accepted, some paused, some with their result ready, some apologised — plus three staff per
agency, written straight into the tables (SQLite: executemany of preformatted rows; PostgreSQL:
COPY). Then, per database, at a Wednesday 10:00:

- FLOOR: ``engine.timed.candidates.due_rows_count`` — one statement counting, from the sweep's
  partial indexes, the open dossiers within the horizon, those waiting, and the open hand-off
  rows within the step horizon: the rows a sweep must look at;
- FIRST: the first sweep (``engine.timed.sweep.run_sweep``), which judges all of them and
  writes every warning due (timed once; its cost is per message);
- STEADY: a sweep a few minutes later, the common case (nothing new): best of 5 rounds
  interleaved with the floor — **the ratio (goal ≤ 2×)**;
- NEXT DAY: the first sweep after midnight, when a day's worth of warnings comes due
  (timed once, against the floor at that instant);

and the peak Python memory (tracemalloc) of a steady sweep and of the following day's sweep,
at a small size and the full size (goal: flat). After the first sweep the tables are vacuumed
and analysed, as autovacuum does after a bulk change (PostgreSQL).

    .venv/bin/python bench/sweep.py [--dossiers 1000000] [--small 100000]
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
from datetime import UTC, date, datetime, timedelta  # noqa: E402

from sqlalchemy import create_engine, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from engine.agencies import Agency  # noqa: E402
from engine.calendar import national_calendar  # noqa: E402
from engine.db import make_engine, session_scope  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import normalize_database_url  # noqa: E402
from engine.timed.candidates import due_rows_count  # noqa: E402
from engine.timed.sweep import judges, run_sweep  # noqa: E402
from engine.timezone import VN_TZ  # noqa: E402
from engine.users import User  # noqa: E402

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=VN_TZ)  # a Wednesday, no holiday near
LEVELS = {"bo": 2, "tinh": 12, "xa": 36}
LIMITS = [1, 2, 3, 5, 7, 10, 15, 20]
COLUMNS = ("code", "secret", "procedure_code", "procedure_version", "procedure_name", "channel",
           "state", "status_code", "receiving_agency", "competent_agency", "returning_agency",
           "boundary_free", "assignee", "applicant_name", "search_text", "components",
           "sets_count", "return_method", "received_at", "clock_started_at", "transfer_due_at",
           "transferred_at", "limit_amount", "limit_unit", "supplement_effect",
           "original_due_date", "due_date", "due_at", "appointment_date", "ended_at", "end_kind",
           "supplement_count", "apology_count", "flags", "imported", "version", "chain_head",
           "created_at", "updated_at", "ended_on", "was_paused", "apology_late",
           "ended_awaiting_supplement", "current_step")
STEP_COLUMNS = ("dossier_id", "seq", "step_id", "step_name", "unit", "role", "assignee",
                "started_at", "due_at")
EVENT_COLUMNS = ("dossier_id", "seq", "action", "at", "recorded_at", "actor_id", "actor_role",
                 "actor_agency", "state_before", "state_after", "payload", "imported",
                 "prev_hash", "hash")
STATUS = {"in_processing": 4, "awaiting_supplement": 5, "paused": 4, "received": 2,
          "result_ready": 9}


def agencies() -> list[tuple[str, str]]:
    return [(f"{level[0].upper()}{i:02d}.00.00.H31", level)
            for level, n in LEVELS.items() for i in range(n)]


def seed(engine) -> None:
    with session_scope(engine) as session:
        for code, level in agencies():
            session.add(Agency(code=code, name=f"Cơ quan {code}", short_name=code, level=level,
                               place_name="Hải Phòng", is_one_stop=True))
            for role in ("officer", "leader", "clerk"):
                session.add(User(username=f"{role}.{code}", full_name=f"{role} {code}",
                                 role=role, agency_code=code, password_hash="x"))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN_TZ).astimezone(UTC)


def generate(n: int, seed_value: int = 11):
    """Yield (dossier row, step row without dossier_id, event rows without dossier_id)."""
    rng = random.Random(seed_value)
    cal = national_calendar()
    today = NOW.date()
    codes = [code for code, _ in agencies()]
    created = datetime.now(UTC)

    def shift(day: date, n: int) -> date:
        for _ in range(-n):
            day = cal.previous_working_day(day)
        return cal.add_working_days(day, n) if n > 0 else day

    for i in range(n):
        competent = codes[rng.randrange(len(codes))]
        receiving = competent
        r = rng.random()
        offset = (rng.randint(-10, -1) if r < 0.05 else rng.randint(0, 2) if r < 0.10
                  else rng.randint(3, 40))
        due = shift(today, offset)
        limit = rng.choice(LIMITS)
        start = min(shift(due, -limit), today)
        received = _at(start, 8 + rng.randrange(8), rng.randrange(60))
        transfer_due = _at(start, 17) if received.astimezone(VN_TZ).hour < 15 else _at(
            cal.next_working_day(start), 11, 30)
        state, transferred, clock = "in_processing", received + timedelta(minutes=20), received
        boundary_free, ended_at, events = False, None, []
        s = rng.random()
        if s < 0.03:
            state = "awaiting_supplement"
            asked = _at(min(cal.add_working_days(start, 1), today), 10)
            events.append(("request_supplement", asked, "in_processing", "awaiting_supplement"))
        elif s < 0.05:
            state = "paused"
        elif s < 0.06:
            state, transferred = "received", None
            start = rng.choice([today, cal.previous_working_day(today)])
            received = _at(start, 9 + rng.randrange(8))
            transfer_due = _at(start, 17) if received.astimezone(VN_TZ).hour < 15 else _at(
                cal.next_working_day(start), 11, 30)
        elif s < 0.065:
            boundary_free, clock = True, None
            receiving = codes[(codes.index(competent) + 1) % len(codes)]
        elif s < 0.085:
            state, ended_at = "result_ready", _at(min(due, today), 15)
        apology = 1 if offset < 0 and rng.random() < 0.4 and state == "in_processing" else 0
        appointment = cal.add_working_days(due, 5) if apology else due
        step_due = _at(shift(today, rng.randint(-2, 20)), 17)
        code = f"{receiving}-{start:%y%m%d}-{i:07d}"
        row = (code, "s", "1.000001", date(2019, 1, 1), "Thủ tục thử nghiệm", "counter", state,
               STATUS[state], receiving, competent, receiving, boundary_free,
               f"officer.{competent}" if rng.random() < 0.7 else None, "Nguyễn Văn A", code,
               "[]", 1, "counter", received, clock, transfer_due, transferred, float(limit),
               "working_days", "restart", due, due, _at(due, 17), appointment, ended_at,
               "result_ready" if ended_at else None, 1 if events else 0, apology, "[]", False,
               1, "", created, created, ended_at.astimezone(VN_TZ).date() if ended_at else None,
               state == "paused", False, False, "appraise")
        step = (1, "appraise", "Thẩm định", competent, "officer", None,
                received + timedelta(minutes=30), step_due)
        yield row, step, events


# ----- writers ------------------------------------------------------------------------------

def _sqlite_value(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def _event(dossier_id: int, row: tuple, seq: int, event: tuple, now: datetime) -> tuple:
    action, at, before, after = event
    return (dossier_id, seq, action, at, now, "bench", "officer", row[9], before, after,
            json.dumps({"clock": {"kind": "supplement_requested", "at": at.isoformat()}}),
            False, "0", "0")


def write_sqlite(path: str, n: int) -> float:
    t0 = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    inserts = {table: (f"INSERT INTO {table} ({', '.join(cols)}) "
                       f"VALUES ({', '.join('?' * len(cols))})")
               for table, cols in (("dossier", COLUMNS), ("dossier_step", STEP_COLUMNS),
                                   ("dossier_event", EVENT_COLUMNS))}
    batches: dict[str, list] = {"dossier": [], "dossier_step": [], "dossier_event": []}
    now = datetime.now(UTC)

    def flush() -> None:
        for table, rows in batches.items():
            con.executemany(inserts[table], rows)
            rows.clear()

    for dossier_id, (row, step, events) in enumerate(generate(n), start=1):
        batches["dossier"].append(tuple(_sqlite_value(v) for v in row))
        batches["dossier_step"].append(tuple(_sqlite_value(v) for v in (dossier_id, *step)))
        batches["dossier_event"] += [tuple(_sqlite_value(v) for v in _event(
            dossier_id, row, seq, e, now)) for seq, e in enumerate(events, start=1)]
        if len(batches["dossier"]) >= 20000:
            flush()
    flush()
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
            steps, events, now, dossier_id = [], [], datetime.now(UTC), 0
            with cur.copy(f"COPY dossier (id, {', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row, step, evs in generate(n):
                    dossier_id += 1
                    copy.write_row((dossier_id, *row))
                    steps.append((dossier_id, *step))
                    events += [_event(dossier_id, row, seq, e, now)
                               for seq, e in enumerate(evs, start=1)]
            for table, cols, rows in (("dossier_step", STEP_COLUMNS, steps),
                                      ("dossier_event", EVENT_COLUMNS, events)):
                with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                    for r in rows:
                        copy.write_row(r)
            cur.execute("SELECT setval(pg_get_serial_sequence('dossier', 'id'), %s)",
                        (dossier_id,))
        con.commit()
    vacuum(url, schema)
    return time.perf_counter() - t0


def vacuum(url: str, schema: str | None) -> None:
    """What autovacuum does soon after a bulk change: statistics, and the visibility map that
    lets a scan read an index without visiting the rows (PostgreSQL); ANALYZE on SQLite."""
    if schema is None:
        con = sqlite3.connect(url)
        con.execute("ANALYZE")
        con.close()
        return
    import psycopg

    raw = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(raw, options=f"-csearch_path={schema}", autocommit=True) as con:
        for table in ("dossier", "dossier_step", "dossier_event", "outbox_message"):
            con.execute(f"VACUUM ANALYZE {table}")


# ----- measuring ----------------------------------------------------------------------------

ROUNDS = 5


def timed(fn) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def peak_kib(fn) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024


def measure(engine, cleanup) -> dict:
    """``cleanup()`` vacuums and analyses (after the first sweep)."""
    out: dict = {}
    with Session(engine) as session:
        def floor_at(now: datetime) -> float:
            bounds = judges(session).bounds(now)
            out.setdefault("due_rows", {})[now] = due_rows_count(session, bounds)
            session.rollback()
            return min(timed(lambda: due_rows_count(session, bounds)) for _ in range(3))

        def sweep(now: datetime):
            return run_sweep(session, now=now, holder="bench")

        out["floor_s"] = floor_at(NOW)
        first = {}
        out["first_s"] = timed(lambda: first.setdefault("r", sweep(NOW)))
        out["first"] = first["r"]
        cleanup()
        times: dict[str, list[float]] = {"floor": [], "steady": []}
        bounds = judges(session).bounds(NOW)
        session.rollback()
        for k in range(ROUNDS):
            times["floor"].append(timed(lambda: due_rows_count(session, bounds)))
            session.rollback()
            at = NOW + timedelta(minutes=5 * (k + 1))
            times["steady"].append(timed(lambda at=at: out.setdefault("steady", sweep(at))))
        out["floor_s"] = min(times["floor"])
        out["steady_s"] = min(times["steady"])
        out["steady_peak_kib"] = peak_kib(lambda: sweep(NOW + timedelta(minutes=40)))
        cal = national_calendar()
        day = cal.next_working_day(NOW.date())
        next_day = datetime(day.year, day.month, day.day, 0, 5, tzinfo=VN_TZ)
        out["next_floor_s"] = floor_at(next_day)
        nd = {}
        out["next_s"] = timed(lambda: nd.setdefault("r", sweep(next_day)))
        out["next"] = nd["r"]
        day = cal.next_working_day(day)
        after = datetime(day.year, day.month, day.day, 0, 5, tzinfo=VN_TZ)
        out["next_peak_kib"] = peak_kib(lambda: out.setdefault("after", sweep(after)))
        out["due_rows_now"] = out["due_rows"][NOW]
        out["due_rows_next"] = out["due_rows"][next_day]
    return out


def run(db: str, n: int, pg_url: str | None) -> dict:
    if db == "sqlite":
        folder = tempfile.mkdtemp(prefix="motcua-bench-")
        path = os.path.join(folder, "bench.db")
        url = f"sqlite:///{path}"
        upgrade(url)
        engine = make_engine(url)
        seed(engine)
        gen = write_sqlite(path, n)
        try:
            return {"db": db, "dossiers": n, "generate_s": gen,
                    **measure(engine, lambda: vacuum(path, None))}
        finally:
            engine.dispose()
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
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
            return {"db": db, "dossiers": n, "generate_s": gen,
                    **measure(engine, lambda: vacuum(pg_url, schema))}
        finally:
            engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def report(r: dict) -> str:
    first, steady, nxt = r["first"], r["steady"], r["next"]
    ms = 1000
    return (f"{r['db']:10} {r['dossiers']:>9,} dossiers: generate {r['generate_s']:6.1f} s | "
            f"due rows {r['due_rows_now']:,} | floor {r['floor_s'] * ms:7.1f} ms | "
            f"steady sweep {r['steady_s'] * ms:7.1f} ms, ratio {r['steady_s'] / r['floor_s']:.2f}x "
            f"({steady.dossiers + steady.steps} judged, {steady.new_messages} new) | "
            f"first sweep {r['first_s']:6.1f} s ({first.dossiers + first.steps:,} judged, "
            f"{first.new_messages:,} messages) | next day {r['next_s'] * ms:7.0f} ms "
            f"({nxt.dossiers + nxt.steps:,} judged, {nxt.new_messages:,} messages; floor "
            f"{r['next_floor_s'] * ms:.1f} ms, ratio {r['next_s'] / r['next_floor_s']:.1f}x) | "
            f"peak steady {r['steady_peak_kib']:6.0f} KiB, next day {r['next_peak_kib']:6.0f} KiB")


def figures(r: dict) -> dict:
    """:func:`report`'s numbers, for ``--json``."""
    first, steady, nxt = r["first"], r["steady"], r["next"]
    return {"dossiers": r["dossiers"], "generate_s": r["generate_s"],
            "due_rows": r["due_rows_now"], "floor_s": r["floor_s"], "steady_s": r["steady_s"],
            "ratio": r["steady_s"] / r["floor_s"],
            "steady_judged": steady.dossiers + steady.steps,
            "steady_new_messages": steady.new_messages, "first_s": r["first_s"],
            "first_judged": first.dossiers + first.steps,
            "first_messages": first.new_messages, "next_day_s": r["next_s"],
            "next_day_messages": nxt.new_messages, "next_floor_s": r["next_floor_s"],
            "next_day_ratio": r["next_s"] / r["next_floor_s"],
            "steady_peak_kib": r["steady_peak_kib"], "next_peak_kib": r["next_peak_kib"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=20_000)
    parser.add_argument("--small", type=int, default=0,
                        help="a smaller size for the memory comparison (0: skip)")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    sizes = [s for s in (args.small, args.dossiers) if s]
    results = {}
    for db in dbs:
        if db == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / MOTCUA_TEST_DATABASE_URL)")
            continue
        for n in sizes:
            r = run(db, n, args.pg_url)
            print(report(r), flush=True)
            results[f"{db}_{n}"] = figures(r)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"process max RSS {rss:.0f} MiB (includes generation)")
    if args.json:
        print(json.dumps({**results, "max_rss_mib": rss,
                          "ratios": {k: r["ratio"] for k, r in results.items()},
                          "goals": {f"{k}_steady": {"value": r["ratio"], "goal": 2, "op": "<=",
                                                    "met": r["ratio"] <= 2}
                                    for k, r in results.items()}}))


if __name__ == "__main__":
    main()
