"""The scheduler's lease (engine/leases.py) on SQLite and PostgreSQL: one holder at a time,
renewed by its holder, taken over only after it expired, given up at a clean shutdown; two
processes racing for it never both win."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from engine import leases
from engine.db import make_engine, session_scope
from engine.leases import HEARTBEAT, TTL, Lease, acquire, holder_of, release

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội; the instant is arbitrary


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def take(db_engine, holder: str, now: datetime, *, name: str = "scheduler",
         ttl: int = TTL) -> bool:
    with session_scope(db_engine) as session:
        return acquire(session, name, holder, now=now, ttl=ttl)


def who(db_engine, now: datetime, name: str = "scheduler") -> str | None:
    with Session(db_engine) as session:
        return holder_of(session, name, now=now)


def test_the_defaults_let_a_successor_take_over_within_a_minute():
    assert HEARTBEAT * 2 < TTL  # one missed heartbeat does not lose the lease
    assert TTL + HEARTBEAT <= 60  # a waiting process retries every heartbeat


def test_the_first_process_takes_the_lease_and_holds_it_until_it_expires(db_engine):
    assert who(db_engine, at(0)) is None
    assert take(db_engine, "a", at(0))
    assert who(db_engine, at(0)) == "a"
    assert who(db_engine, at(TTL)) == "a"
    assert who(db_engine, at(TTL + 1)) is None


def test_the_holder_renews_and_keeps_its_acquisition_instant(db_engine):
    assert take(db_engine, "a", at(0))
    assert take(db_engine, "a", at(HEARTBEAT))
    assert take(db_engine, "a", at(2 * HEARTBEAT))
    with Session(db_engine) as session:
        row = session.get(Lease, "scheduler")
    assert row.holder == "a"
    assert row.acquired_at == at(0)
    assert row.renewed_at == at(2 * HEARTBEAT)
    assert row.expires_at == at(2 * HEARTBEAT + TTL)
    assert who(db_engine, at(2 * HEARTBEAT + TTL)) == "a"  # renewing pushed the expiry on


def test_another_process_is_refused_while_the_lease_is_held(db_engine):
    assert take(db_engine, "a", at(0))
    for seconds in (0, 1, HEARTBEAT, TTL):
        assert not take(db_engine, "b", at(seconds))
    assert who(db_engine, at(TTL)) == "a"


def test_a_refusal_changes_nothing(db_engine):
    assert take(db_engine, "a", at(0))
    assert not take(db_engine, "b", at(5))
    with Session(db_engine) as session:
        row = session.get(Lease, "scheduler")
    assert (row.holder, row.renewed_at, row.expires_at) == ("a", at(0), at(TTL))


def test_after_expiry_another_process_takes_over_and_the_old_holder_is_refused(db_engine):
    assert take(db_engine, "a", at(0))
    assert take(db_engine, "b", at(TTL + 1))
    assert who(db_engine, at(TTL + 1)) == "b"
    assert not take(db_engine, "a", at(TTL + 2))  # the old holder woke up too late
    with Session(db_engine) as session:
        assert session.get(Lease, "scheduler").acquired_at == at(TTL + 1)


def test_release_lets_the_next_process_in_at_once(db_engine):
    assert take(db_engine, "a", at(0))
    with session_scope(db_engine) as session:
        release(session, "scheduler", "a")
    assert who(db_engine, at(1)) is None
    assert take(db_engine, "b", at(1))


def test_release_by_someone_else_does_nothing(db_engine):
    assert take(db_engine, "a", at(0))
    with session_scope(db_engine) as session:
        release(session, "scheduler", "b")
    assert who(db_engine, at(1)) == "a"


def test_a_lease_taken_in_a_rolled_back_transaction_was_never_taken(db_engine):
    with Session(db_engine) as session:
        assert acquire(session, "scheduler", "a", now=at(0))
        session.rollback()
    assert who(db_engine, at(0)) is None
    assert take(db_engine, "b", at(0))


def test_leases_of_different_names_are_independent(db_engine):
    assert take(db_engine, "a", at(0), name="scheduler")
    assert take(db_engine, "b", at(0), name="snapshot")
    assert (who(db_engine, at(0)), who(db_engine, at(0), "snapshot")) == ("a", "b")


def race(database_url: str, holders: list[str], now: datetime) -> dict[str, bool]:
    """Each holder in its own thread and engine (as separate processes would), released at the
    same instant by a barrier."""
    barrier = threading.Barrier(len(holders))
    results: dict[str, bool] = {}
    errors: list[BaseException] = []

    def contend(holder: str) -> None:
        engine = make_engine(database_url)
        try:
            with engine.connect():  # connect before the barrier: only the race is timed
                pass
            barrier.wait(timeout=30)
            results[holder] = take(engine, holder, now)
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=contend, args=(h,)) for h in holders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


@pytest.mark.parametrize("rounds", [5])
def test_racing_for_a_new_lease_exactly_one_wins(database_url, db_engine, rounds):
    for round_ in range(rounds):
        name_now = at(round_)
        with session_scope(db_engine) as session:  # a fresh row to race for each round
            session.exec(Lease.__table__.delete())
        results = race(database_url, ["a", "b", "c"], name_now)
        winners = [h for h, won in results.items() if won]
        assert len(winners) == 1, results
        assert who(db_engine, name_now) == winners[0]


def test_racing_for_an_expired_lease_exactly_one_wins(database_url, db_engine):
    assert take(db_engine, "dead", at(0))
    results = race(database_url, ["a", "b", "c"], at(TTL + 1))
    winners = [h for h, won in results.items() if won]
    assert len(winners) == 1, results
    assert who(db_engine, at(TTL + 1)) == winners[0]


def test_the_module_names_its_constants():
    assert (leases.HEARTBEAT, leases.TTL) == (10, 30)
