"""Concurrency: many writers on the same dossiers and on the same counters.

The service promises one all-or-nothing transaction per action, a row lock on PostgreSQL and a
compare-and-set on the version column on both databases, so a writer that loses a race gets
:class:`Conflict` — never a silent overwrite, a lost event or a reused number. These tests
hammer that promise and then check the result with independent oracles: the replay of every
dossier's events (``engine.lifecycle.consistency``), the hash chains (``audit.verify``), the
event counts against the successes the writers saw, and the counters.

PostgreSQL variants (ids ``[postgresql]``) need ``MOTCUA_TEST_DATABASE_URL`` and run in a
throwaway schema (``tests/conftest.py``); without it they are skipped, or fail when
``MOTCUA_REQUIRE_POSTGRES=1``. SQLite serialises writers; its variants check that losing
writers still surface as :class:`Conflict`, also when the wait for SQLite's write lock runs
out (``database is locked``).
"""

from __future__ import annotations

import itertools
import multiprocessing
import random
import threading
import time
import traceback
from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, make_url
from sqlmodel import Session, col, select

from engine.db import make_engine, session_scope
from engine.lifecycle import (
    Actor,
    act,
    audit,
    events_of,
    get_dossier,
    guide,
    idempotency,
    receive,
    spec_of,
)
from engine.lifecycle.consistency import (
    check_dossier,
    find_inconsistencies,
    inconsistent_dossiers,
    replayed_state,
)
from engine.lifecycle.errors import Conflict, Forbidden, IllegalAction, InvalidInput
from engine.lifecycle.machine import machine_for
from engine.lifecycle.models import Counter, Dossier, DossierEvent, DossierStep, IssuedDocument
from engine.lifecycle.states import Action, State
from engine.procedures import ProcedureSpec

from .concurrency_helpers import receive_batch_into
from .conftest import (
    APPLICANT,
    CENTRE,
    CLERK,
    COMMUNE,
    COMMUNE_CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE,
    at,
)

EXPECTED = (Conflict, IllegalAction, Forbidden, InvalidInput)
MACHINE = machine_for(ProcedureSpec.from_dict(PROCEDURE).key)
ROOT = Path(__file__).resolve().parents[3]

OUTSIDE_OFFICER = Actor("officer9", "officer", COMMUNE, "Officer of another agency")
AUDITOR = Actor("auditor1", "auditor", DEPT, "An auditor (may not act)")

#: action → (relative weight, the actors who may normally take it)
REQUESTS: dict[str, tuple[float, tuple[Actor, ...]]] = {
    "transfer": (4, (CLERK,)),
    "forward": (4, (OFFICER, LEADER)),
    "send_back": (2, (LEADER, OFFICER)),
    "finish": (3, (LEADER, OFFICER)),
    "return_result": (3, (CLERK,)),
    "correct_result": (1.5, (LEADER, OFFICER)),
    "request_supplement": (2, (OFFICER, LEADER)),
    "receive_supplement": (3, (CLERK,)),
    "request_payment": (2, (OFFICER, LEADER)),
    "confirm_payment": (3, (CLERK, OFFICER)),
    "pause": (2, (OFFICER, LEADER)),
    "resume": (3, (OFFICER, LEADER)),
    "consult": (1, (OFFICER, LEADER)),
    "assign": (1, (LEADER,)),
    "apologise": (1, (LEADER,)),
    "accept_transfer": (0.5, (OFFICER,)),
    "refuse": (0.15, (LEADER,)),
    "stop": (0.15, (CLERK,)),
    "withdraw": (0.15, (CLERK,)),
    "receive": (0.5, (CLERK,)),
    "submit": (0.2, (CLERK,)),
    "refuse_at_reception": (0.2, (CLERK,)),
    "teleport": (0.2, (CLERK,)),  # not an action at all: InvalidInput
}
WRONG_ACTORS = (COMMUNE_CLERK, OUTSIDE_OFFICER, AUDITOR, CLERK, OFFICER, LEADER)
REASONS = {"send_back": "Thiếu chữ ký", "request_supplement": "Thiếu giấy tờ",
           "pause": "Xác minh thực địa", "apologise": "Chậm do xác minh", "refuse": "Không đủ ĐK",
           "stop": "Công dân đề nghị", "withdraw": "Công dân rút", "correct_result": "Sai tên",
           "refuse_at_reception": "Sai thẩm quyền", "request_payment": "Lệ phí"}
PAYLOADS = {"forward": {"assignee": "leader1"}, "assign": {"assignee": "officer1"},
            "request_supplement": {"missing": ["Bản sao giấy tờ tùy thân"]},
            "request_payment": {"amount_vnd": 100000},
            "consult": {"agency": "Sở Xây dựng", "reply_by": "2027-01-15"},
            "apologise": {"new_due": "2027-01-15"}, "return_result": {"collected_by": "An"}}


@dataclass(frozen=True, slots=True)
class Request:
    code: str
    action: str
    actor: Actor
    reason: str | None
    payload: dict[str, Any]
    check_version: bool  # act with the version read in an earlier transaction (a stale page)


def random_request(rng: random.Random, codes: list[str], seen: dict[str, str]) -> Request:
    """A random request: mostly one the machine allows in the state this writer last saw (a
    stale screen, since others act too), mostly by a plausible actor, sometimes by a wrong
    role or agency, sometimes without the reason the action needs."""
    code = rng.choice(codes)
    names = list(REQUESTS)
    if code in seen and rng.random() < 0.75:
        names = [n for n in MACHINE.allowed_actions(seen[code]) if n in REQUESTS] or names
    action = rng.choices(names, weights=[REQUESTS[n][0] for n in names])[0]
    actors = REQUESTS[action][1]
    actor = rng.choice(actors) if rng.random() < 0.8 else rng.choice(WRONG_ACTORS)
    reason = REASONS.get(action) if rng.random() < 0.93 else None
    payload = dict(PAYLOADS.get(action, {}))
    return Request(code, action, actor, reason, payload, rng.random() < 0.2)


@dataclass
class WorkerLog:
    successes: list[tuple[str, int, str, str]]  # (code, event seq, action, state after)
    outcomes: Tally
    unexpected: list[str]


def storm_worker(engine: Engine, codes: list[str], seed: int, deadline: float,
                 max_actions: int, barrier: threading.Barrier, log: WorkerLog) -> None:
    rng = random.Random(seed)
    seen: dict[str, str] = {}  # the state this writer last saw of each dossier
    barrier.wait()
    for _ in range(max_actions):
        if time.monotonic() > deadline:
            break
        request = random_request(rng, codes, seen)
        try:
            expected_version = None
            if request.check_version:
                with session_scope(engine) as session:
                    expected_version = get_dossier(session, request.code).version
            with session_scope(engine) as session:
                result = act(session, code=request.code, action=request.action,
                             actor=request.actor, reason=request.reason,
                             payload=request.payload, expected_version=expected_version)
                done = (request.code, result.event.seq, request.action, result.dossier.state)
        except EXPECTED as exc:
            log.outcomes[type(exc).__name__] += 1
            if isinstance(exc, IllegalAction):
                seen[request.code] = exc.state
            continue
        except Exception:
            log.outcomes["unexpected"] += 1
            log.unexpected.append(f"{request}\n{traceback.format_exc()}")
            continue
        log.outcomes["ok"] += 1
        log.successes.append(done)
        seen[request.code] = done[3]


def backend(url: str) -> str:
    return make_url(url).get_backend_name()


#: backend → (threads, engines they share, dossiers, max actions per thread, seconds)
STORM = {"postgresql": (16, 4, 50, 400, 12.0), "sqlite": (4, 2, 50, 250, 8.0)}


def test_random_actions_from_many_threads_keep_dossiers_consistent(
        world, database_url):
    threads, engine_count, dossier_count, max_actions, seconds = STORM[backend(database_url)]
    engines = [make_engine(database_url) for _ in range(engine_count)]
    try:
        codes = []
        for _ in range(dossier_count):
            with session_scope(engines[0]) as session:
                codes.append(receive(session, actor=CLERK, procedure_code="1.000001",
                                     applicant=APPLICANT, components=COMPONENTS,
                                     competent_agency=DEPT).dossier.code)
        barrier = threading.Barrier(threads)
        deadline = time.monotonic() + seconds
        logs = [WorkerLog([], Tally(), []) for _ in range(threads)]
        workers = [threading.Thread(target=storm_worker, name=f"storm-{i}",
                                    args=(engines[i % engine_count], codes, 1000 + i, deadline,
                                          max_actions, barrier, logs[i]))
                   for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=seconds + 60)
        assert not any(w.is_alive() for w in workers), "a worker thread hung"
    finally:
        for engine in engines:
            engine.dispose()

    outcomes = sum((log.outcomes for log in logs), Tally())
    print(f"outcomes: {dict(outcomes)}")  # shown with -s or when the test fails
    unexpected = [u for log in logs for u in log.unexpected]
    assert not unexpected, f"{len(unexpected)} unexpected errors; first:\n{unexpected[0]}"
    successes = [s for log in logs for s in log.successes]
    assert outcomes["ok"] >= 100, outcomes  # the storm really moved the dossiers

    session: Session = world
    session.expire_all()
    successes_per_code = Tally(code for code, *_ in successes)
    states = Tally()
    for code in codes:
        dossier = get_dossier(session, code)
        events = events_of(session, dossier)
        states[dossier.state] += 1
        # no lost event: the receipt plus one event per action its writer saw committed
        assert len(events) == 1 + successes_per_code[code], code
        assert [e.seq for e in events] == list(range(1, len(events) + 1)), code
        assert dossier.version == len(events), code  # every action bumped the version once
        seen = {(seq, action, after) for c, seq, action, after in successes if c == code}
        stored = {(e.seq, e.action, e.state_after) for e in events[1:]}
        assert seen == stored, code
        assert replayed_state(spec_of(session, dossier), events) == dossier.state, code
        open_steps = session.exec(select(func.count()).select_from(DossierStep).where(
            DossierStep.dossier_id == dossier.id,
            col(DossierStep.finished_at).is_(None))).one()
        assert open_steps <= 1, code
    print(f"final states: {dict(states)}")
    assert len(states) >= 3, states  # the dossiers went different ways
    assert inconsistent_dossiers(session) == []
    assert audit.verify(session) == (dossier_count, [])
    all_codes = session.exec(select(Dossier.code)).all()
    assert len(all_codes) == len(set(all_codes)) == dossier_count
    per_day: dict[str, list[int]] = {}  # (the run may straddle local midnight)
    for stored_code in all_codes:
        day, number = stored_code.rsplit("-", 1)
        per_day.setdefault(day, []).append(int(number))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in per_day.values()), per_day


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_eight_processes_receiving_at_one_agency_on_one_day_get_gap_free_codes(
        world, database_url, monkeypatch):
    processes, per_process = 8, 250
    total = processes * per_process
    when = at("2025-03-05T09:30")
    # Spawned processes import the worker by module name: make the tests folder importable.
    monkeypatch.syspath_prepend(str(ROOT))
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(processes), context.Queue()
    workers = [context.Process(target=receive_batch_into, name=f"receiver-{i}",
                               args=(results, i, database_url, CLERK, APPLICANT, COMPONENTS,
                                     DEPT, when, per_process, barrier))
               for i in range(processes)]
    # Receipts at one agency serialise on its counter rows for most of their transaction, so
    # the processes finish together, after about 2,000 single receipts' time.
    deadline = time.monotonic() + 900
    try:
        for worker in workers:
            worker.start()
        outcomes = dict(results.get(timeout=max(1.0, deadline - time.monotonic()))
                        for _ in workers)
        for worker in workers:
            worker.join(timeout=30)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
    failed = {i: o for i, o in outcomes.items() if isinstance(o, str)}
    assert not failed, failed
    issued = [code for codes, _ in outcomes.values() for code in codes]
    print(f"receipts retried after a Conflict: {sum(r for _, r in outcomes.values())}")

    prefix = f"{CENTRE}-250305-"
    assert len(issued) == len(set(issued)) == total
    assert all(code.startswith(prefix) for code in issued)
    assert sorted(int(code.removeprefix(prefix)) for code in issued) == list(
        range(1, total + 1))
    session: Session = world
    session.expire_all()
    stored = session.exec(select(Dossier.code, Dossier.register_number)).all()
    assert sorted(code for code, _ in stored) == sorted(issued)
    assert sorted(number for _, number in stored) == list(range(1, total + 1))
    receipts = session.exec(select(IssuedDocument.number)
                            .where(IssuedDocument.form == "receipt")).all()
    assert sorted(int(n.split("/")[0]) for n in receipts) == list(range(1, total + 1))
    counters = dict(session.exec(select(Counter.scope, Counter.value)).all())
    assert counters[f"code:2018:{CENTRE}:250305"] == total
    assert session.exec(select(func.count()).select_from(DossierEvent)).one() == total
    assert inconsistent_dossiers(session) == []


def test_the_same_idempotency_key_from_many_threads_makes_one_dossier(
        world, database_url):
    """Retried requests racing each other: one wins and every other one waits for it and gets
    its result (``idempotency.retrying``, as the API does) — never a Conflict, never a second
    dossier, never a raw database error (the probe saw 11 of 12 threads get 409)."""
    threads = 8 if backend(database_url) == "postgresql" else 4
    engine = make_engine(database_url)
    barrier = threading.Barrier(threads)
    outcomes: list[Any] = [None] * threads

    def send(index: int, call) -> None:
        barrier.wait()
        try:
            with session_scope(engine) as session:
                result = idempotency.retrying(session, lambda: call(session))
                outcomes[index] = ("replayed" if result.replayed else "done",
                                   result.dossier.code, result.event.seq)
        except EXPECTED as exc:
            outcomes[index] = (type(exc).__name__,)
        except Exception:
            outcomes[index] = ("unexpected", traceback.format_exc())

    def run(call) -> list[Any]:
        workers = [threading.Thread(target=send, args=(i, call)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        return list(outcomes)

    try:
        received = run(lambda s: receive(
            s, actor=CLERK, procedure_code="1.000001", applicant=APPLICANT,
            components=COMPONENTS, competent_agency=DEPT, idempotency_key="receive-once"))
        assert not [o for o in received if o[0] == "unexpected"], received
        done = [o for o in received if o[0] == "done"]
        assert len(done) == 1, received
        code = done[0][1]
        assert all(o[0] in ("done", "replayed") for o in received), received
        assert all(o[1] == code for o in received if o[0] == "replayed"), received

        transferred = run(lambda s: act(s, code=code, action="transfer", actor=CLERK,
                                        idempotency_key="transfer-once"))
        assert not [o for o in transferred if o[0] == "unexpected"], transferred
        assert len([o for o in transferred if o[0] == "done"]) == 1, transferred
        assert all(o[0] in ("done", "replayed") for o in transferred), transferred
        assert all(o[1:] == (code, 2) for o in transferred if o[0] == "replayed"), transferred
    finally:
        engine.dispose()

    session: Session = world
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Dossier)).one() == 1
    assert [e.action for e in events_of(session, get_dossier(session, code))] == [
        "receive", "transfer"]
    assert session.exec(select(Counter.value).where(
        col(Counter.scope).startswith("code:"))).one() == 1  # the losers' numbers came back
    assert audit.verify(session) == (1, [])


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_writers_that_wait_too_long_for_the_lock_get_a_conflict(world, database_url):
    """SQLite has one write lock, taken at a transaction's first write and waited for at most
    ``busy_timeout``. Cut that to 20 ms and let writers collide: every loser must see Conflict
    (never a raw ``database is locked``), and the numbers of the losers come back."""
    engine = make_engine(database_url)
    event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA busy_timeout=20"))
    threads, deadline = 6, time.monotonic() + 4
    barrier = threading.Barrier(threads)
    logs = [WorkerLog([], Tally(), []) for _ in range(threads)]

    def write(log: WorkerLog) -> None:
        barrier.wait()
        for attempt in itertools.count():
            if time.monotonic() > deadline:
                break
            kind = "guide" if attempt % 3 == 2 else "receive"
            try:
                with session_scope(engine) as session:
                    if kind == "guide":
                        guide(session, actor=CLERK, procedure_code="1.000001",
                              applicant_name="Trần Thị Bình", reason="Thiếu giấy tờ",
                              missing=["Bản sao giấy tờ tùy thân"])
                        code = ""
                    else:
                        code = receive(session, actor=CLERK, procedure_code="1.000001",
                                       applicant=APPLICANT, components=COMPONENTS,
                                       competent_agency=DEPT).dossier.code
                if code:
                    with session_scope(engine) as session:
                        act(session, code=code, action="transfer", actor=CLERK)
            except Conflict:
                log.outcomes["Conflict"] += 1
                continue
            except Exception:
                log.unexpected.append(traceback.format_exc())
                continue
            log.outcomes[kind] += 1
            log.successes.append((code, 0, kind, ""))

    workers = [threading.Thread(target=write, args=(log,)) for log in logs]
    try:
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
    finally:
        engine.dispose()
    outcomes = sum((log.outcomes for log in logs), Tally())
    print(f"outcomes: {dict(outcomes)}")
    unexpected = [u for log in logs for u in log.unexpected]
    assert not unexpected, f"{len(unexpected)} unexpected errors; first:\n{unexpected[0]}"
    assert outcomes["Conflict"] > 0, outcomes  # the lock waits did run out
    assert outcomes["receive"] > 0 and outcomes["guide"] > 0, outcomes

    session: Session = world
    session.expire_all()
    stored = session.exec(select(Dossier.code)).all()
    per_day: dict[str, list[int]] = {}
    for code in stored:
        day, number = code.rsplit("-", 1)
        per_day.setdefault(day, []).append(int(number))
    assert all(sorted(n) == list(range(1, len(n) + 1)) for n in per_day.values()), per_day
    forms = Tally(session.exec(select(IssuedDocument.form)).all())
    assert forms["supplement_request"] == outcomes["guide"]
    numbers = sorted(int(n.split("/")[0]) for n in session.exec(
        select(IssuedDocument.number).where(IssuedDocument.form == "supplement_request")))
    assert numbers == list(range(1, len(numbers) + 1))
    assert inconsistent_dossiers(session) == []
    assert audit.verify(session) == (len(stored), [])


# ----- the replay oracle itself -------------------------------------------------------------

SPEC = ProcedureSpec.from_dict(PROCEDURE)


def events(*steps: tuple[str, str, str]) -> list[SimpleNamespace]:
    return [SimpleNamespace(seq=i, action=a, at=datetime(2025, 1, 2), state_before=b,
                            state_after=c) for i, (a, b, c) in enumerate(steps, 1)]


MAIN_PATH = events(("receive", "new", "received"), ("transfer", "received", "in_processing"),
                   ("forward", "in_processing", "in_processing"),
                   ("finish", "in_processing", "result_ready"),
                   ("return_result", "result_ready", "returned"))


def test_replayed_state_follows_the_machine():
    assert replayed_state(SPEC, MAIN_PATH) == State.RETURNED
    assert replayed_state(SPEC, list(reversed(MAIN_PATH))) == State.RETURNED  # by seq
    assert replayed_state(SPEC, []) == State.NEW
    online = events(("submit", "new", "submitted"),
                    ("request_supplement", "submitted", "awaiting_supplement"),
                    ("receive_supplement", "awaiting_supplement", "submitted"))
    assert replayed_state(SPEC, online) == State.SUBMITTED  # before receipt: back to submitted
    received = [*MAIN_PATH[:2],
                *events(("request_supplement", "in_processing", "awaiting_supplement"),
                        ("receive_supplement", "awaiting_supplement", "in_processing"))]
    for i, stored in enumerate(received, 1):
        stored.seq = i
    assert replayed_state(SPEC, received) == State.IN_PROCESSING
    with pytest.raises(IllegalAction):
        replayed_state(SPEC, events(("finish", "new", "result_ready")))


def test_check_dossier_names_what_does_not_add_up():
    assert check_dossier(SPEC, "returned", MAIN_PATH) is None
    assert "hồ sơ đang ở 'in_processing'" in check_dossier(SPEC, "in_processing", MAIN_PATH)
    gap = [MAIN_PATH[0], MAIN_PATH[2]]
    assert "#3 bắt đầu từ 'in_processing'" in check_dossier(SPEC, "in_processing", gap)
    lying = events(("receive", "new", "received"), ("finish", "received", "result_ready"))
    assert "không thể xảy ra" in check_dossier(SPEC, "result_ready", lying)
    wrong_dest = events(("receive", "new", "received"), ("transfer", "received", "paused"))
    assert "dẫn tới 'in_processing'" in check_dossier(SPEC, "paused", wrong_dest)


def test_inconsistent_dossiers_finds_a_state_changed_behind_the_engine(world, db_engine):
    codes = []
    for _ in range(3):
        with session_scope(db_engine) as session:
            codes.append(receive(session, actor=CLERK, procedure_code="1.000001",
                                 applicant=APPLICANT, components=COMPONENTS,
                                 competent_agency=DEPT, at=at("2025-03-05T09:30")).dossier.code)
    with session_scope(db_engine) as session:
        act(session, code=codes[1], action=Action.TRANSFER, actor=CLERK,
            at=at("2025-03-05T10:00"))
    with session_scope(db_engine) as session:
        assert inconsistent_dossiers(session) == []
        get_dossier(session, codes[2]).state = State.RESULT_READY.value  # written around it
    with session_scope(db_engine) as session:
        assert inconsistent_dossiers(session) == [codes[2]]
        found = find_inconsistencies(session, dossier_code=codes[2])
        assert [f.code for f in found] == [codes[2]]
        assert "hồ sơ đang ở 'result_ready'" in found[0].reason
        assert find_inconsistencies(session, dossier_code=codes[0]) == []
