"""Benchmark: dossiers through a full lifecycle, the engine vs a floor of plain Core writes.

Each dossier goes receive → transfer → forward (appraise → approve) → finish → return_result:
five actions, one transaction each, as the service runs them (the dossiers and the world they
live in come from ``engine/samples.py``, the factory the tests use too). The FLOOR writes the
same rows (the dossier insert and its updates, events, hand-off steps, the receipt, the
counters) with plain SQLAlchemy Core in the same five transactions per dossier — the cost of
the storage alone, with none of the engine's reads, checks, clock replay or hashing.

    .venv/bin/python bench/lifecycle.py [--dossiers 10000] [--db sqlite|postgresql|both]
                                        [--pg-url postgresql://postgres@127.0.0.1:5432/test]

SQLite runs on a temporary file (WAL, synchronous=NORMAL: ``engine.db.make_engine``);
PostgreSQL in a fresh schema of ``--pg-url`` (default ``MOTCUA_TEST_DATABASE_URL``), dropped at
the end. Goals: engine ≥ 0.5 × the floor's actions per second; one transition fired through
the shared machine ≤ 20 µs.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and bench/calendar.py would shadow the
# standard library's calendar module.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import (  # noqa: E402
    Engine,
    create_engine,
    func,
    insert,
    make_url,
    select,
    text,
    update,
)
from sqlalchemy import event as sa_event  # noqa: E402
from sqlmodel import Session  # noqa: E402

from engine.calendar import national_calendar  # noqa: E402
from engine.db import make_engine, session_scope  # noqa: E402
from engine.lifecycle import Actor  # noqa: E402
from engine.lifecycle.consistency import inconsistent_dossiers  # noqa: E402
from engine.lifecycle.machine import machine_for  # noqa: E402
from engine.lifecycle.models import (  # noqa: E402
    Counter,
    Dossier,
    DossierEvent,
    DossierStep,
    IssuedDocument,
)
from engine.migrate import upgrade  # noqa: E402
from engine.procedures import ProcedureSpec  # noqa: E402
from engine.samples import (  # noqa: E402
    APPLICANT,
    CENTRE,
    CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE,
    PROCEDURE_CODE,
    STANDARD_PATH,
    advance,
    received,
    seed_world,
)
from engine.settings import normalize_database_url  # noqa: E402
from engine.timezone import VN_TZ  # noqa: E402

# ----- the seeded world: engine/samples.py, shared with the tests ------------------------------

ACTIONS_PER_DOSSIER = 1 + len(STANDARD_PATH)  # the receipt, then the standard path
PER_DAY = 1000  # dossiers received per local day (the 2018 code format allows 9 999)


def seed(engine: Engine) -> None:
    with session_scope(engine) as session:
        seed_world(session)


# ----- the plan: when each dossier's actions happen -----------------------------------------

@dataclass(frozen=True, slots=True)
class Times:
    received: datetime
    transferred: datetime
    forwarded: datetime
    finished: datetime
    returned: datetime

    @property
    def after_receipt(self) -> tuple[datetime, ...]:
        """The instants of :data:`STANDARD_PATH`'s moves, in order."""
        return self.transferred, self.forwarded, self.finished, self.returned


def plan(dossiers: int) -> list[Times]:
    """``PER_DAY`` dossiers per working day from the first one after the server's today, each
    through its lifecycle over the next working days, a few seconds apart so events stay in
    order. Never in the past: an action stamped before today is a back-dated entry, which
    also bumps the reports' data version (``engine.data_version``: one more UPDATE and a row
    lock per commit) — a rare path, not the counter's usual action measured here."""
    calendar = national_calendar()
    day, days = datetime.now(VN_TZ).date(), []
    while len(days) < dossiers // PER_DAY + 1:
        day = calendar.next_working_day(day)
        days.append(day)

    def at(d: date, hour: int, i: int) -> datetime:
        return datetime(d.year, d.month, d.day, hour, tzinfo=VN_TZ) + timedelta(seconds=2 * i)

    times = []
    for n in range(dossiers):
        d, i = days[n // PER_DAY], n % PER_DAY
        times.append(Times(at(d, 8, i), at(d, 9, i), at(calendar.next_working_day(d), 10, i),
                           at(calendar.add_working_days(d, 2), 10, i),
                           at(calendar.add_working_days(d, 3), 9, i)))
    return times


# ----- the engine ---------------------------------------------------------------------------

def run_engine(engine: Engine, times: list[Times]) -> None:
    """Each dossier made by the sample factory, one transaction per action as the service
    runs them: the receipt, then the moves of the standard path."""
    for t in times:
        with session_scope(engine) as session:
            code = received(session, at=t.received).code
        for move, when in zip(STANDARD_PATH, t.after_receipt, strict=True):
            with session_scope(engine) as session:
                advance(session, code, move, at=when)


# ----- the floor ----------------------------------------------------------------------------

UPSERT = text("INSERT INTO counter (scope, value) VALUES (:scope, 1) "
              "ON CONFLICT (scope) DO UPDATE SET value = counter.value + 1 RETURNING value")


def _template(model: Any, **values: Any) -> dict[str, Any]:
    """All column values of one row of ``model`` (defaults included), built once; not the
    columns the database generates (``dossier.report_code``), which no INSERT may name."""
    row = model(**values).model_dump()
    row.pop("id", None)
    for column in model.__table__.columns:
        if column.computed is not None:
            row.pop(column.key, None)
    return row


def floor_runner() -> Callable[[Engine, list[Times]], None]:
    """:func:`run_engine`'s rows in the same transactions, written with Core (templates of
    every row are built once, outside the timed part)."""
    dossier_t, event_t = Dossier.__table__, DossierEvent.__table__
    step_t, document_t = DossierStep.__table__, IssuedDocument.__table__
    now = datetime.now(UTC)
    dossier_row = _template(
        Dossier, code="", secret="", procedure_code=PROCEDURE_CODE,
        procedure_version=date(2019, 1, 1), procedure_name=PROCEDURE["name"], channel="counter",
        state="received", status_code=2, receiving_agency=CENTRE, competent_agency=DEPT,
        returning_agency=CENTRE, current_step="receive", applicant_name=APPLICANT.name,
        applicant_id_number=APPLICANT.id_number, applicant_address=APPLICANT.address,
        applicant_phone=APPLICANT.phone, components=COMPONENTS, limit_amount=5.0,
        limit_unit="working_days", supplement_effect="restart", register_year=2025,
        created_at=now, updated_at=now)
    event_row = _template(
        DossierEvent, dossier_id=0, seq=1, action="receive", at=now, recorded_at=now,
        actor_id=CLERK.id, actor_role=CLERK.role, actor_agency=CLERK.agency,
        state_before="new", state_after="received", payload={}, prev_hash="0" * 64,
        hash="f" * 64)
    step_row = _template(DossierStep, dossier_id=0, seq=1, step_id="receive",
                         step_name="Tiếp nhận", unit=CENTRE, role="clerk", started_at=now)
    document_row = _template(IssuedDocument, form="receipt", form_set="2018", issued_at=now,
                             issued_by=CLERK.id,
                             payload={"copies": ["Lưu", "Giao khách hàng"]})

    def event(conn, dossier_id: int, seq: int, action: str, actor: Actor, at: datetime,
              before: str, after: str) -> int:
        return conn.execute(insert(event_t).returning(event_t.c.id), [dict(
            event_row, dossier_id=dossier_id, seq=seq, action=action, at=at, recorded_at=at,
            actor_id=actor.id, actor_role=actor.role, actor_agency=actor.agency,
            state_before=before, state_after=after, hash=secrets.token_hex(32))]).scalar_one()

    def step(conn, dossier_id: int, seq: int, step_id: str, role: str, at: datetime) -> int:
        return conn.execute(insert(step_t).returning(step_t.c.id), [dict(
            step_row, dossier_id=dossier_id, seq=seq, step_id=step_id, role=role,
            started_at=at, due_at=at)]).scalar_one()

    def close(conn, step_id: int, actor: Actor, at: datetime, outcome: str) -> None:
        conn.execute(update(step_t).where(step_t.c.id == step_id).values(
            finished_at=at, finished_by=actor.id, outcome=outcome, classification="on_time"))

    def move(conn, dossier_id: int, version: int, **values: Any) -> None:
        conn.execute(update(dossier_t).where(dossier_t.c.id == dossier_id,
                                             dossier_t.c.version == version - 1)
                     .values(version=version, **values))

    def run_floor(engine: Engine, times: list[Times]) -> None:
        for t in times:
            day = t.received.astimezone(VN_TZ)
            with engine.begin() as conn:
                number = conn.execute(UPSERT, {"scope": f"code:2018:{CENTRE}:{day:%y%m%d}"}
                                      ).scalar()
                register = conn.execute(UPSERT, {"scope": f"register:{CENTRE}:{day.year}"}
                                        ).scalar()
                receipt = conn.execute(UPSERT, {"scope": f"doc:receipt:{CENTRE}:{day.year}"}
                                       ).scalar()
                code = f"{CENTRE}-{day:%y%m%d}-{number:04d}"
                dossier_id = conn.execute(insert(dossier_t).returning(dossier_t.c.id), [dict(
                    dossier_row, code=code, secret=secrets.token_urlsafe(12),
                    **({"search_text": code} if "search_text" in dossier_row else {}),
                    received_at=t.received, clock_started_at=t.received,
                    transfer_due_at=t.transferred, register_number=register,
                    register_year=day.year,
                    due_date=t.returned.date(), due_at=t.returned,
                    appointment_date=t.returned.date(), original_due_date=t.returned.date())]
                                         ).scalar_one()
                open_step = step(conn, dossier_id, 1, "receive", "clerk", t.received)
                event_id = event(conn, dossier_id, 1, "receive", CLERK, t.received, "new",
                                 "received")
                conn.execute(insert(document_t), [dict(
                    document_row, dossier_id=dossier_id, number=f"{receipt:02d}/TNHS",
                    issued_at=t.received, event_id=event_id)])
            with engine.begin() as conn:
                move(conn, dossier_id, 2, state="in_processing", status_code=4,
                     current_step="appraise", transferred_at=t.transferred)
                close(conn, open_step, CLERK, t.transferred, "transfer")
                open_step = step(conn, dossier_id, 2, "appraise", "officer", t.transferred)
                event(conn, dossier_id, 2, "transfer", CLERK, t.transferred, "received",
                      "in_processing")
            with engine.begin() as conn:
                move(conn, dossier_id, 3, current_step="approve", assignee=LEADER.id)
                close(conn, open_step, OFFICER, t.forwarded, "forward")
                open_step = step(conn, dossier_id, 3, "approve", "leader", t.forwarded)
                event(conn, dossier_id, 3, "forward", OFFICER, t.forwarded, "in_processing",
                      "in_processing")
            with engine.begin() as conn:
                move(conn, dossier_id, 4, state="result_ready", status_code=9,
                     current_step="return", ended_at=t.finished, end_kind="result_ready")
                close(conn, open_step, LEADER, t.finished, "finish")
                open_step = step(conn, dossier_id, 4, "return", "clerk", t.finished)
                event(conn, dossier_id, 4, "finish", LEADER, t.finished, "in_processing",
                      "result_ready")
            with engine.begin() as conn:
                move(conn, dossier_id, 5, state="returned", status_code=10, current_step=None,
                     returned_at=t.returned, collected_by=APPLICANT.name)
                close(conn, open_step, CLERK, t.returned, "return_result")
                event(conn, dossier_id, 5, "return_result", CLERK, t.returned, "result_ready",
                      "returned")

    return run_floor


# ----- databases ----------------------------------------------------------------------------

@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
        yield f"sqlite:///{Path(folder) / 'bench.db'}"


def postgres_database(admin_url: str) -> Callable[[], Any]:
    @contextmanager
    def database() -> Iterator[str]:
        admin = create_engine(normalize_database_url(admin_url), isolation_level="AUTOCOMMIT")
        schema = f"bench_{secrets.token_hex(5)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            yield make_url(admin.url).update_query_dict(
                {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return database


@dataclass
class Run:
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time (time.process_time) over the same parts
    rows: dict[str, int] | None = None
    check_seconds: float = 0.0
    anomalies: int = 0
    statements: float = 0.0  # per action, counted on a few more dossiers after the timing


def count_statements(engine: Engine, runner: Callable[[Engine, list[Times]], None],
                     times: list[Times]) -> float:
    """Statements per action over ``times`` (untimed: a listener on every statement)."""
    seen = [0]

    def count(*_args: Any) -> None:
        seen[0] += 1

    sa_event.listen(engine, "before_cursor_execute", count)
    try:
        runner(engine, times)
    finally:
        sa_event.remove(engine, "before_cursor_execute", count)
    return seen[0] / (len(times) * ACTIONS_PER_DOSSIER)


def count_rows(engine: Engine) -> dict[str, int]:
    with Session(engine) as session:
        return {t.__tablename__: session.execute(select(func.count()).select_from(t))
                .scalar_one() for t in (Dossier, DossierEvent, DossierStep, IssuedDocument,
                                        Counter)}


def compare(database: Callable[[], Any], times: list[Times], *, chunk: int,
            check: bool) -> tuple[Run, Run]:
    """Time the engine and the floor on two fresh databases of the same kind, alternating
    chunks of ``chunk`` dossiers so that a busy machine slows both alike (short chunks: a
    load that comes and goes over seconds must fall on both, see docs/scaling.md)."""
    engine_run, floor_run = Run(), Run()
    with database() as engine_url, database() as floor_url:
        engines = []
        try:
            for url in (engine_url, floor_url):
                upgrade(url)
                engines.append(make_engine(url))
                seed(engines[-1])
            run_floor = floor_runner()
            for start in range(0, len(times), chunk):
                part = times[start:start + chunk]
                for run, runner, engine in ((engine_run, run_engine, engines[0]),
                                            (floor_run, run_floor, engines[1])):
                    started, cpu = time.perf_counter(), time.process_time()
                    runner(engine, part)
                    run.seconds += time.perf_counter() - started
                    run.cpu_seconds += time.process_time() - cpu
            engine_run.rows, floor_run.rows = count_rows(engines[0]), count_rows(engines[1])
            extra = plan(len(times) + 20)[-20:]
            engine_run.statements = count_statements(engines[0], run_engine, extra)
            floor_run.statements = count_statements(engines[1], run_floor, extra)
            if check:
                with Session(engines[0]) as session:
                    started = time.perf_counter()
                    engine_run.anomalies = len(inconsistent_dossiers(session))
                    engine_run.check_seconds = time.perf_counter() - started
        finally:
            for engine in engines:
                engine.dispose()
    return engine_run, floor_run


# ----- the machine alone --------------------------------------------------------------------

def machine_cost(fires: int) -> tuple[float, float]:
    """µs per transition: through ``DossierMachine.fire`` and a bare ``Event.trigger``."""
    spec = ProcedureSpec.from_dict(PROCEDURE)
    machine = machine_for(spec.key)

    class Row:
        __slots__ = ("received_at", "state")

        def __init__(self) -> None:
            self.state, self.received_at = "in_processing", None

    row = Row()
    for _ in range(1000):  # warm up
        machine.fire("pause", row)
        machine.fire("resume", row)
    started = time.perf_counter()
    for _ in range(fires // 2):
        machine.fire("pause", row)
        machine.fire("resume", row)
    fire = (time.perf_counter() - started) / (fires // 2 * 2) * 1e6
    pause, resume = machine._machine.events["pause"], machine._machine.events["resume"]
    started = time.perf_counter()
    for _ in range(fires // 2):
        pause.trigger(row)
        resume.trigger(row)
    trigger = (time.perf_counter() - started) / (fires // 2 * 2) * 1e6
    return fire, trigger


def json_figures(results: list[tuple[str, Run, Run]], actions: int, fire: float,
                 trigger: float) -> dict[str, Any]:
    """The printed table as one object, with each goal met or not (``--json``, for
    ``bench/all.py``)."""
    out: dict[str, Any] = {"actions": actions, "fire_us": fire, "trigger_us": trigger,
                           "ratios": {}, "goals": {}}
    for name, engine_run, floor_run in results:
        ratio = floor_run.seconds / engine_run.seconds  # = engine rate / floor rate
        out[name] = {"engine_actions_per_s": actions / engine_run.seconds,
                     "floor_actions_per_s": actions / floor_run.seconds,
                     "engine_s": engine_run.seconds, "floor_s": floor_run.seconds,
                     "anomalies": engine_run.anomalies, "rows": engine_run.rows,
                     "floor_rows": floor_run.rows,
                     "statements_per_action": engine_run.statements,
                     "cpu_ratio": floor_run.cpu_seconds / engine_run.cpu_seconds,
                     "floor_statements_per_action": floor_run.statements}
        out["ratios"][name] = ratio
        out["goals"][f"{name}_of_floor"] = {"value": ratio, "goal": 0.5, "op": ">=",
                                            "met": ratio >= 0.5}
        out["goals"][f"{name}_anomalies"] = {"value": engine_run.anomalies, "goal": 0,
                                             "op": "<=", "met": engine_run.anomalies == 0}
    out["goals"]["fire_us"] = {"value": fire, "goal": 20, "op": "<=", "met": fire <= 20}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get(
        "MOTCUA_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--fires", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=20,
                        help="dossiers per alternation between the engine and the floor")
    parser.add_argument("--no-check", action="store_true",
                        help="skip the consistency check of the engine's database")
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()

    times = plan(args.dossiers)
    actions = args.dossiers * ACTIONS_PER_DOSSIER
    databases = {"sqlite": sqlite_database, "postgresql": postgres_database(args.pg_url)}
    chosen = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    print(f"{args.dossiers} dossiers × {ACTIONS_PER_DOSSIER} actions = {actions} transactions "
          f"per run; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
          flush=True)
    results = []
    for name in chosen:
        started = time.perf_counter()
        engine_run, floor_run = compare(databases[name], times, chunk=args.chunk,
                                        check=not args.no_check)
        print(f"  {name}: engine {engine_run.seconds:.1f} s, floor {floor_run.seconds:.1f} s "
              f"({time.perf_counter() - started:.0f} s with set-up and checks)", flush=True)
        if engine_run.rows != floor_run.rows:
            print(f"  !! row counts differ: engine {engine_run.rows}, floor {floor_run.rows}")
        results.append((name, engine_run, floor_run))

    fire, trigger = machine_cost(args.fires)
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print(f"{'database':<11}{'engine act/s':>13}{'floor act/s':>13}{'ratio':>7}"
          f"{'engine s':>10}{'floor s':>9}  goal ratio ≥ 0.5")
    for name, engine_run, floor_run in results:
        engine_rate, floor_rate = actions / engine_run.seconds, actions / floor_run.seconds
        ratio = engine_rate / floor_rate
        print(f"{name:<11}{engine_rate:>13,.0f}{floor_rate:>13,.0f}{ratio:>7.2f}"
              f"{engine_run.seconds:>10.1f}{floor_run.seconds:>9.1f}  "
              f"{'ok' if ratio >= 0.5 else 'BELOW GOAL'}")
    for name, engine_run, _ in results:
        if not args.no_check:
            print(f"{name}: consistency check of {engine_run.rows['dossier']} dossiers "
                  f"{engine_run.check_seconds:.1f} s, {engine_run.anomalies} anomalies")
    print(f"rows per run: {results[0][1].rows if results else '-'}")
    for name, engine_run, floor_run in results:
        print(f"{name}: statements per action: engine {engine_run.statements:.1f}, "
              f"floor {floor_run.statements:.1f}; CPU per action: engine "
              f"{engine_run.cpu_seconds / actions * 1e6:.0f} µs, floor "
              f"{floor_run.cpu_seconds / actions * 1e6:.0f} µs (ratio "
              f"{floor_run.cpu_seconds / engine_run.cpu_seconds:.2f})")
    print(f"machine: {fire:.1f} µs per fire (DossierMachine.fire), {trigger:.1f} µs per bare "
          f"Event.trigger; goal ≤ 20 µs: {'ok' if fire <= 20 else 'ABOVE GOAL'}")
    if args.json:
        print(json.dumps(json_figures(results, actions, fire, trigger)))


if __name__ == "__main__":
    main()
