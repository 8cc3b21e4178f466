"""The load harness's database: N dossiers on the demo agencies and catalogue, with their
events (a real hash chain) and hand-off steps, generated once and kept.

The clock of each dossier — receipt day, supplements, pauses, apologies, its end and its
report columns — comes from ``bench/reports.py``'s generator (:func:`reports.generate`, given
a :class:`reports.World` of the demo catalogue, July 2025 to today and a backlog of open
dossiers); this module dresses each row as the service would have left it: the procedure
version in force that day, the receiving one-stop centre, an applicant, the current step and
assignee, every event of the path with its actor and steps, and the control sheet's rows.
Written with COPY on PostgreSQL (``executemany`` on SQLite, for small test databases) and
marked with the number of dossiers and the seed, so that a second run with the same figures
reuses it (``ensure_database``).

Lookup secrets are a function of the code (:func:`lookup_secret`): the harness can look up
any generated dossier without reading the database.
"""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import inspect, make_url, text
from sqlalchemy.engine import Engine

from bench import reports
from engine.db import make_engine, session_scope
from engine.lifecycle.audit import GENESIS, event_digest
from engine.migrate import upgrade
from engine.procedures import ProcedureSpec, ProcedureVersionRow, get_version
from engine.text import fold
from engine.timezone import VN_TZ

FIRST_DAY = date(2025, 7, 1)  # the demo catalogue's first versions (two-tier government)
OPEN_SHARE = 0.06  # forced open; with the results not yet collected, ~9 % not terminal
SEED = 7
MARKER = "bench_load_marker"
SECRET_SALT = "motcua-load"
STATUS = {**reports.STATUS, "received": 2}  # engine.lifecycle.states' status codes

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô",
            "Dương", "Lý")
MIDDLE = ("Văn", "Thị", "Đức", "Minh", "Thu", "Ngọc", "Quang", "Thanh", "Hữu", "Hồng")
GIVEN = ("An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hùng", "Lan", "Linh", "Mai",
         "Nam", "Phúc", "Quân", "Sơn", "Thảo", "Trang", "Tuấn", "Vy", "Yến")
PLACES = ("Vĩnh Bảo", "Hồng Bàng", "Lê Chân", "Ngô Quyền", "Kiến An")

#: Who takes each action of a generated path (the demo users, ``service.auth.DEMO_USERS``):
#: the counter's actions by the clerk at the receiving unit, the rest at the competent agency.
ACTOR = {"receive": "clerk", "transfer": "clerk", "receive_supplement": "clerk",
         "return_result": "clerk", "withdraw": "clerk", "request_supplement": "officer",
         "pause": "officer", "resume": "officer", "forward": "officer", "refuse": "officer",
         "stop": "officer", "apologise": "leader", "finish": "leader"}

EVENT_COLUMNS = ("id", "dossier_id", "seq", "action", "at", "recorded_at", "actor_id",
                 "actor_role", "actor_agency", "state_before", "state_after", "step_before",
                 "step_after", "reason", "payload", "imported", "prev_hash", "hash")
STEP_COLUMNS = ("dossier_id", "seq", "step_id", "step_name", "unit", "role", "handed_by",
                "assignee", "started_at", "due_at", "finished_at", "finished_by", "outcome")
EXTRA_COLUMNS = ("current_step", "applicant_id_number", "applicant_address", "applicant_phone",
                 "transferred_at", "due_at", "collected_by", "chain_head")
DOSSIER_COLUMNS = ("id", *reports.COLUMNS, *EXTRA_COLUMNS)


def lookup_secret(code: str) -> str:
    """The citizen's lookup secret of a generated dossier (16 characters, like the service's
    ``secrets.token_urlsafe(12)``), derived from its code so the harness needs no database."""
    return hashlib.sha256(f"{SECRET_SALT}:{code}".encode()).hexdigest()[:16]


# ----- the demo world -------------------------------------------------------------------------

@dataclass(frozen=True)
class Demo:
    """The demo catalogue as the generator needs it: per procedure code the versions in
    force by day, who decides it and which one-stop units receive it."""

    specs: dict[tuple[str, date], ProcedureSpec]  # (code, day) → version in force
    competent: dict[str, list[str]]
    receivers: dict[str, list[str]]
    days: list[date]

    def world(self, today: date) -> reports.World:
        procs = []
        for code in sorted(self.competent):
            spec = self.specs[(code, self.days[-1])]
            unit = spec.limit.unit.value if hasattr(spec.limit.unit, "value") else spec.limit.unit
            procs.append({"code": code, "name": spec.name, "level": str(spec.level),
                          "competent": self.competent[code],
                          "time_limit": {"amount": int(spec.limit.amount or 0), "unit": unit}})
        levels = sorted({(a, p["level"]) for p in procs for a in p["competent"]})
        return reports.World(procs, levels, first_day=FIRST_DAY, last_day=today, now=today,
                             open_share=OPEN_SHARE, every_event=True)


def demo(engine: Engine, today: date) -> Demo:
    """Read the loaded catalogue and agencies (``motcua serve`` loads them; so does
    :func:`ensure_database`)."""
    from sqlmodel import Session, select

    from engine.agencies import Agency
    from workflows.agencies import load_agencies

    tree = load_agencies()
    competent: dict[str, list[str]] = {}
    receivers: dict[str, list[str]] = {}
    for agency in tree.values():
        for code in agency.competent_for:
            competent.setdefault(code, []).append(agency.code)
        for code in agency.receives:
            receivers.setdefault(code, []).append(agency.code)
    days = [FIRST_DAY + timedelta(n) for n in range((today - FIRST_DAY).days + 1)]
    specs: dict[tuple[str, date], ProcedureSpec] = {}
    with Session(engine) as session:
        known = {a.code for a in session.exec(select(Agency)).all()}
        for code in competent:
            starts = sorted(set(session.exec(select(ProcedureVersionRow.effective_from)
                                             .where(ProcedureVersionRow.code == code))))
            versions = [get_version(session, code=code, effective_from=s) for s in starts]
            for day in days:
                specs[(code, day)] = next(v for v in reversed(versions)
                                          if v.effective_from <= day)
    missing = {a for codes in competent.values() for a in codes} - known
    if missing:
        raise RuntimeError(f"agencies not loaded: {sorted(missing)}")
    return Demo(specs, competent, receivers, days)


# ----- dressing a generated row -----------------------------------------------------------------

@cache
def _folded(name: str) -> str:
    """The name as the search column keeps it (a few thousand names: folded once each)."""
    return fold(name)


_COMPONENTS: dict[tuple[str, date], str] = {}


def _components(spec: ProcedureSpec) -> str:
    """Every component handed in, as the receipt records them (one JSON text per version)."""
    key = (spec.code, spec.effective_from)
    if key not in _COMPONENTS:
        _COMPONENTS[key] = json.dumps([{"name": c.name, "originals": 1, "copies": 0}
                                       for c in spec.components], ensure_ascii=False)
    return _COMPONENTS[key]


def _local(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=VN_TZ).astimezone(UTC)


class Dresser:
    """Turns ``reports.generate`` rows into the rows of the four tables (dossier, events,
    steps, and the day's code counters), numbering ids itself for COPY."""

    def __init__(self, world: Demo, today: date, seed: int = SEED) -> None:
        self.demo, self.today = world, today
        self.now = datetime.now(UTC)
        self.rng = random.Random(seed + 1)
        self.event_id = 0
        self.counters: dict[str, int] = {}

    def receiving(self, procedure: str, competent: str) -> str:
        """The commune's own centre for its dossiers (nine in ten), else the city centre when
        it receives the procedure; the province's procedures at the city centre."""
        units = self.demo.receivers.get(procedure, [])
        own = [u for u in units if u.split(".")[2] == competent.split(".")[2]]
        if own and (self.rng.random() < 0.9 or len(units) == 1):
            return own[0]
        others = [u for u in units if u not in own]
        return self.rng.choice(others or units or [competent])

    def code(self, agency: str, day: date) -> str:
        scope = f"code:2018:{agency}:{day:%y%m%d}"
        seq = self.counters[scope] = self.counters.get(scope, 0) + 1
        return f"{agency}-{day:%y%m%d}-{seq:04d}"

    def dress(self, dossier_id: int, row: tuple, clock_events: list[tuple]
              ) -> tuple[tuple, list[tuple], list[tuple]]:
        rng = self.rng
        d = dict(zip(reports.COLUMNS, row, strict=True))
        received_at: datetime = d["received_at"]
        day = received_at.astimezone(VN_TZ).date()
        spec = self.demo.specs[(d["procedure_code"], day)]
        competent = d["competent_agency"]
        receiving = self.receiving(d["procedure_code"], competent)
        code = self.code(receiving, day)
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        id_number = f"031{rng.randrange(10**9):09d}"
        phone = f"09{rng.randrange(10**8):08d}"
        steps = [s for s in spec.steps]
        first, last = steps[0].id, steps[-1].id
        middle = [s.id for s in steps[1:-1]] or [first]
        d.update(code=code, secret=lookup_secret(code), procedure_version=spec.effective_from,
                 procedure_name=spec.name, receiving_agency=receiving,
                 returning_agency=receiving, applicant_name=name,
                 search_text=f"{code.lower()} {_folded(name)} {id_number} {phone}"[:700],
                 components=_components(spec),
                 return_method="counter", assignee=None)
        extra = {"applicant_id_number": id_number, "applicant_phone": phone,
                 "applicant_address": f"Số {rng.randint(1, 200)}, {rng.choice(PLACES)}, "
                                      "thành phố Hải Phòng",
                 "due_at": _local(d["due_date"], 17) if d["due_date"] else None,
                 "transferred_at": None, "collected_by": None, "current_step": None}
        events = list(clock_events)
        state = d["state"]
        if state == "result_ready" and d["ended_at"] and \
                d["ended_at"].date() < self.today - timedelta(days=20) and rng.random() < 0.9:
            # Most results are collected within days; the reports generator leaves a fifth
            # uncollected forever, which would make old dossiers the inbox's bulk.
            state, d["returned_at"] = "returned", d["ended_at"] + timedelta(days=1)
        if state == "returned":
            events.append(("return_result", d["returned_at"], "result_ready", "returned",
                           {"kind": "returned", "at": d["returned_at"].isoformat()}))
            extra["collected_by"] = name
        at_step = middle[0]
        if state == "in_processing":
            if day >= self.today - timedelta(days=2) and not d["supplement_count"] \
                    and rng.random() < 0.4:
                state, events, at_step = "received", events[:1], first
            elif len(middle) > 1 and rng.random() < 0.3:
                at_step = middle[-1]
        d["state"], d["status_code"] = state, STATUS[state]
        events = self._with_forwards(events, middle, at_step, state)
        d["due_at"] = extra["due_at"]  # the return step's due instant (not a report column)
        event_rows, step_rows, head = self._journal(dossier_id, code, d, events, spec,
                                                    first, last, competent, receiving)
        if state == "in_processing":
            extra["current_step"] = at_step
            d["assignee"] = "leader" if at_step != middle[0] else (
                "officer" if rng.random() < 0.5 else None)
        elif state == "received":
            extra["current_step"] = first
        elif state == "result_ready":
            extra["current_step"] = last
        if state != "received":
            extra["transferred_at"] = received_at + timedelta(hours=1)
        extra["chain_head"] = head
        d["version"] = len(event_rows)
        out = (dossier_id, *(d[c] for c in reports.COLUMNS), *(extra[c] for c in EXTRA_COLUMNS))
        return out, event_rows, step_rows

    @staticmethod
    def _with_forwards(events: list[tuple], middle: list[str], at_step: str,
                       state: str) -> list[tuple]:
        """Insert the hand-offs between the competent agency's steps: before the end for a
        finished dossier, after the transfer for an open one already past the first step."""
        hops = len(middle) - 1 if state in ("result_ready", "returned") else \
            middle.index(at_step) if state == "in_processing" else 0
        if hops <= 0:
            return events
        ends = [n for n, e in enumerate(events) if e[0] in ("finish", "refuse", "stop",
                                                           "withdraw")]
        where = ends[0] if ends and state != "in_processing" else len(events)
        before = events[where - 1][1]
        after = events[where][1] if where < len(events) else before + timedelta(hours=2 * hops)
        gap = (after - before) / (hops + 1)
        forwards = [("forward", before + gap * (n + 1), "in_processing", "in_processing", None)
                    for n in range(hops)]
        return events[:where] + forwards + events[where:]

    def _journal(self, dossier_id: int, code: str, d: dict, events: list[tuple],
                 spec: ProcedureSpec, first: str, last: str, competent: str, receiving: str):
        """Event rows with the service's hash chain, and the control sheet's step rows."""
        steps = {s.id: s for s in spec.steps}
        order = [s.id for s in spec.steps]
        event_rows: list[tuple] = []
        step_rows: list[list] = []
        prev, step = GENESIS, None
        for seq, (action, at, before, after, clock) in enumerate(events, start=1):
            actor = ACTOR.get(action, "officer")
            agency = receiving if actor == "clerk" else competent
            step_after = step
            if action == "receive":
                step_after = first
            elif action == "transfer":
                step_after = order[1] if len(order) > 2 else first
            elif action == "forward":
                step_after = order[min(order.index(step) + 1, len(order) - 2)]
            elif action == "finish":
                step_after = last
            elif action in ("return_result", "refuse", "stop", "withdraw"):
                step_after = None
            payload = {"clock": clock} if clock else {}
            reason = clock.get("reason") if clock else None
            self.event_id += 1
            event = SimpleNamespace(seq=seq, action=action, at=at, actor_id=actor,
                                    actor_role=actor, actor_agency=agency, state_before=before,
                                    state_after=after, step_before=step, step_after=step_after,
                                    reason=reason, payload=payload, request_id=None,
                                    idempotency_key=None, imported=False)
            digest = event_digest(event, code, prev)
            event_rows.append((self.event_id, dossier_id, seq, action, at, self.now, actor, actor,
                               agency, before, after, step, step_after, reason,
                               json.dumps(payload) if payload else "{}", False, prev, digest))
            prev = digest
            if step_after != step:
                if step_rows:
                    step_rows[-1][10:13] = [at, actor, action]
                if step_after is not None:
                    spec_step = steps[step_after]
                    unit = receiving if spec_step.unit == "one_stop" else competent
                    due = d["due_at"] if step_after == last and d.get("due_at") else \
                        at + timedelta(days=1)
                    step_rows.append([dossier_id, len(step_rows) + 1, step_after, spec_step.name,
                                      unit, spec_step.role, actor, None, at, due, None, None,
                                      None])
            step = step_after
        return event_rows, [tuple(r) for r in step_rows], prev


# ----- writers ----------------------------------------------------------------------------------

class Sink:
    """Bulk rows into tables: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, url: str, say: Callable[[str], None] = print) -> None:
        self.url, self.say = url, say
        self.sqlite = url.startswith("sqlite")

    def __enter__(self) -> Sink:
        if self.sqlite:
            self.con: Any = sqlite3.connect(make_url(self.url).database)
            self.con.execute("PRAGMA synchronous=OFF")
        else:
            import psycopg

            raw = make_url(self.url).set(drivername="postgresql").render_as_string(
                hide_password=False)
            self.con = psycopg.connect(raw)
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.con.commit()
        self.con.close()

    def write(self, table: str, columns: tuple[str, ...], rows: Iterable[tuple]) -> int:
        n = 0
        if self.sqlite:
            sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
                   f"VALUES ({', '.join('?' * len(columns))})")
            batch: list[tuple] = []
            for row in rows:
                batch.append(tuple(_sqlite_value(v) for v in row))
                if len(batch) >= 20000:
                    self.con.executemany(sql, batch)
                    n += len(batch)
                    batch = []
            self.con.executemany(sql, batch)
            return n + len(batch)
        rebuild = self._drop_indexes(table)
        with self.con.cursor() as cur, \
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        t0 = time.perf_counter()
        self.con.execute("SET maintenance_work_mem = '256MB'")
        for definition in rebuild:
            self.con.execute(definition)
        if rebuild:
            self.say(f"  {table}: {len(rebuild)} indexes rebuilt in "
                     f"{time.perf_counter() - t0:.0f} s")
        return n

    def _drop_indexes(self, table: str) -> list[str]:
        """Drop ``table``'s indexes that back no constraint and return their definitions:
        building an index once after COPY is several times faster than keeping it up to date
        row by row (whatever indexes the migrations of the day define: read from the catalog).
        All in the load's transaction, so an interrupted load leaves them as they were."""
        found = self.con.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = %s AND NOT EXISTS ("
            " SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            " (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            (table,)).fetchall()
        for name, _ in found:
            self.con.execute(f'DROP INDEX "{name}"')
        return [definition for _, definition in found]

    def execute(self, sql: str, params: tuple = ()) -> None:
        self.con.execute(sql.replace("%s", "?") if self.sqlite else sql, params)


def _sqlite_value(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    return v


def write(url: str, engine: Engine, n: int, today: date, seed: int = SEED,
          say: Callable[[str], None] = print) -> dict[str, int]:
    """Generate and write ``n`` dossiers; the counts written per table."""
    t0 = time.perf_counter()
    world = demo(engine, today)
    say(f"  the demo catalogue's versions by day read in {time.perf_counter() - t0:.0f} s")
    dresser = Dresser(world, today, seed)
    events: list[tuple] = []
    steps: list[tuple] = []

    def dossiers() -> Iterator[tuple]:
        for dossier_id, (row, clock) in enumerate(
                reports.generate(n, seed, world.world(today)), start=1):
            out, evs, sts = dresser.dress(dossier_id, row, clock)
            events.extend(evs)
            steps.extend(sts)
            if dossier_id % 100_000 == 0:
                say(f"  {dossier_id:,} dossiers…")
            yield out

    counts = {}
    with Sink(url, say) as sink:
        for table, columns, rows in (("dossier", DOSSIER_COLUMNS, dossiers()),
                                     ("dossier_event", EVENT_COLUMNS, events),
                                     ("dossier_step", STEP_COLUMNS, steps)):
            t0 = time.perf_counter()
            counts[table] = sink.write(table, columns, rows)
            say(f"  {table}: {counts[table]:,} rows in {time.perf_counter() - t0:.0f} s")
        events.clear()
        steps.clear()
        # The service continues each agency-day's numbering after the generated codes.
        counts["counter"] = sink.write("counter", ("scope", "value"),
                                       dresser.counters.items())
        if not sink.sqlite:
            for table in ("dossier", "dossier_event", "dossier_step"):
                sink.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                             f"(SELECT max(id) FROM {table}))")
    return counts


# ----- the database -----------------------------------------------------------------------------

def create_if_missing(url: str) -> None:
    """CREATE DATABASE for a PostgreSQL URL whose database does not exist yet."""
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            exists = c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": target.database}).first()
            if not exists:
                c.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def marker(engine: Engine) -> dict | None:
    """What was generated here (dossiers, seed, seconds), or None."""
    if not inspect(engine).has_table(MARKER):
        return None
    with engine.connect() as c:
        found = c.execute(text(f"SELECT dossiers, seed, seconds, generated_at FROM {MARKER}"))
        row = found.mappings().first()
    return dict(row) if row else None


def ensure_database(url: str, n: int, *, seed: int = SEED, password: str,
                    regenerate: bool = False, say: Callable[[str], None] = print) -> dict:
    """Migrate ``url`` to head (always: other work adds migrations), and generate ``n``
    dossiers unless the marker says they are there. A database holding other dossiers and no
    marker is refused rather than emptied."""
    create_if_missing(url)
    upgrade(url)
    engine = make_engine(url)
    try:
        found = marker(engine)
        if found and found["dossiers"] == n and found["seed"] == seed and not regenerate:
            say(f"database reused: {n:,} dossiers generated in {found['seconds']:.0f} s "
                f"on {found['generated_at']}")
            return {**found, "reused": True}
        with engine.connect() as c:
            present = c.execute(text("SELECT count(*) FROM dossier")).scalar_one()
        if present and not found:
            raise SystemExit(f"{_redact(url)} holds {present:,} dossiers not generated by "
                             "bench/load.py: choose another database")
        t0 = time.perf_counter()
        if present:
            say(f"emptying the {found['dossiers']:,} generated dossiers…")
            _empty(engine)
        _seed(engine, password)
        today = datetime.now(VN_TZ).date()
        say(f"generating {n:,} dossiers (01/07/2025 – {today:%d/%m/%Y})…")
        counts = write(url, engine, n, today, seed, say)
        t1 = time.perf_counter()
        _analyze(engine, url)
        say(f"  VACUUM ANALYZE in {time.perf_counter() - t1:.0f} s")
        seconds = time.perf_counter() - t0
        with engine.begin() as c:
            c.execute(text(f"DROP TABLE IF EXISTS {MARKER}"))
            c.execute(text(f"CREATE TABLE {MARKER} (dossiers integer, seed integer, "
                           "seconds float, generated_at varchar(40))"))
            c.execute(text(f"INSERT INTO {MARKER} VALUES (:n, :s, :t, :g)"),
                      {"n": n, "s": seed, "t": seconds,
                       "g": datetime.now(UTC).isoformat(timespec="seconds")})
        say(f"generated in {seconds:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in
                                                        counts.items()))
        return {"dossiers": n, "seed": seed, "seconds": seconds, "reused": False, **counts}
    finally:
        engine.dispose()


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _seed(engine: Engine, password: str) -> None:
    """The demo catalogue, agencies and users, as ``motcua serve`` loads them (the users with
    the harness's password)."""
    from service import auth
    from workflows.agencies import DEFAULT_AGENCIES_PATH
    from workflows.loader import DEFAULT_CATALOGUE_DIR
    from workflows.sync import load_into

    with session_scope(engine) as session:
        load_into(session, catalogue_dir=DEFAULT_CATALOGUE_DIR,
                  agencies_path=DEFAULT_AGENCIES_PATH)
    with session_scope(engine) as session:
        auth.ensure_demo_users(session, password=password)


def _empty(engine: Engine) -> None:
    """Everything the generator and an earlier harness run wrote: the dossiers and what hangs
    off them (CASCADE on PostgreSQL)."""
    with engine.begin() as c:
        if engine.dialect.name == "postgresql":
            c.execute(text("TRUNCATE dossier, counter RESTART IDENTITY CASCADE"))
        else:
            for table in ("issued_document", "dossier_step", "dossier_event", "dossier",
                          "counter"):
                c.execute(text(f"DELETE FROM {table}"))


def _analyze(engine: Engine, url: str) -> None:
    """What autovacuum does soon after a bulk load (statistics, the visibility map)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for table in ("dossier", "dossier_event", "dossier_step", "counter"):
                c.execute(text(f"VACUUM ANALYZE {table}"))
    else:
        with engine.begin() as c:
            c.execute(text("ANALYZE"))
