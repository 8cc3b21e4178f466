"""The outbox's rules on both databases: written once, claimed by one worker, retried with
backoff, dead after the last attempt, and given back to the administrators' retry.

Time is passed in (``now``): a test moves the clock forward instead of waiting for a backoff.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlmodel import Session, select

from engine import outbox
from engine.outbox import CLAIM_SECONDS, MAX_ATTEMPTS, Channel, DeliveryState, Draft, OutboxMessage

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)  # 08:00 in Hà Nội


def draft(n: int = 1, *, channel: Channel = Channel.IN_APP, recipient: str = "canbo1",
          rung: str = "") -> Draft:
    return Draft(kind="due_soon", channel=channel, recipient=recipient, rung=rung,
                 subject=f"Hồ sơ H{n} sắp đến hạn", body="Còn 1 ngày làm việc.",
                 dossier_code=f"H{n}", payload={"n": n})


def write(db_engine, *drafts: Draft, at: datetime = T0) -> None:
    with Session(db_engine) as s:
        outbox.enqueue(s, drafts, at=at)
        s.commit()


def rows(db_engine) -> list[OutboxMessage]:
    with Session(db_engine) as s:
        return list(s.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all())


def claim(db_engine, worker: str, *, now: datetime = T0, **options) -> list[OutboxMessage]:
    with Session(db_engine, expire_on_commit=False) as s:
        taken = outbox.claim(s, worker=worker, now=now, **options)
        s.commit()
        return taken


def record(db_engine, fn, *args, **options):
    with Session(db_engine) as s:
        result = fn(s, *args, **options)
        s.commit()
        return result


def aware(instant: datetime) -> datetime:
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


def test_backoff_doubles_from_half_a_minute_and_stops_at_half_an_hour():
    waits = [outbox.backoff(n).total_seconds() for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits == [30, 60, 120, 240, 480, 960, 1800, 1800]


def test_the_key_tells_apart_recipient_channel_and_rung_but_nothing_else():
    base = draft()
    assert base.key == draft().key
    assert len({base.key, draft(recipient="canbo2").key, draft(channel=Channel.EMAIL).key,
                draft(rung="2026-12-08").key, draft(2).key}) == 5


def test_a_message_enqueued_twice_is_one_row(db_engine):
    with Session(db_engine) as s:
        assert outbox.enqueue(s, [draft(), draft()], at=T0) == 1
        assert outbox.enqueue(s, [draft(), draft(2)], at=T0) == 1
        assert outbox.enqueue(s, [], at=T0) == 0
        s.commit()
    stored = rows(db_engine)
    assert [r.dossier_code for r in stored] == ["H1", "H2"]
    assert stored[0].state == DeliveryState.PENDING and stored[0].attempts == 0
    assert stored[0].payload == {"n": 1} and stored[0].key == draft().key


def test_a_rolled_back_cause_leaves_no_message(db_engine):
    with Session(db_engine) as s:
        outbox.enqueue(s, [draft()], at=T0)
        s.rollback()
    assert rows(db_engine) == []


def test_claim_leases_the_oldest_due_rows_to_one_worker(db_engine):
    write(db_engine, draft(1), at=T0)
    write(db_engine, draft(2), at=T0 - timedelta(minutes=5))
    write(db_engine, draft(3), at=T0 + timedelta(minutes=1))  # not due yet
    taken = claim(db_engine, "w1", limit=5)
    assert [m.dossier_code for m in taken] == ["H2", "H1"]
    assert all(m.state == DeliveryState.SENDING and m.claimed_by == "w1" and m.attempts == 1
               and aware(m.claimed_until) == T0 + timedelta(seconds=CLAIM_SECONDS)
               for m in taken)
    assert claim(db_engine, "w2", limit=5) == []  # leased: a second worker skips them
    later = claim(db_engine, "w2", now=T0 + timedelta(minutes=1))
    assert [m.dossier_code for m in later] == ["H3"]


def test_claim_takes_no_more_than_the_limit_and_only_the_channels_asked(db_engine):
    write(db_engine, *(draft(n) for n in range(5)), draft(9, channel=Channel.EMAIL,
                                                           recipient="a@b.vn"))
    assert [m.channel for m in claim(db_engine, "w1", channels=[Channel.EMAIL])] == ["email"]
    assert len(claim(db_engine, "w1", limit=3)) == 3
    assert len(claim(db_engine, "w2", limit=3)) == 2


def test_an_uncommitted_claim_is_never_claimed_twice(database_url, db_engine):
    """PostgreSQL: a second connection skips the rows the first has locked (SKIP LOCKED) and
    does not wait. SQLite: the claim is one statement, so the second waits for the first's
    write lock and then sees its rows leased (a SELECT-then-UPDATE would lease them twice)."""
    write(db_engine, *(draft(n) for n in range(6)))
    with Session(db_engine, expire_on_commit=False) as first:
        mine = {m.id for m in outbox.claim(first, worker="w1", limit=4, now=T0)}  # uncommitted
        if database_url.startswith("postgresql"):
            with Session(db_engine, expire_on_commit=False) as second:
                second.exec(text("SET LOCAL lock_timeout = '3s'"))  # a wait fails, not hangs
                theirs = outbox.claim(second, worker="w2", limit=4, now=T0)
                second.commit()
            first.rollback()  # w1 died before committing: its rows are free again
            assert len(claim(db_engine, "w3", limit=10)) == 4
        else:
            with ThreadPoolExecutor(1) as pool:
                waiting = pool.submit(claim, db_engine, "w2", limit=4)
                first.commit()
                theirs = waiting.result(timeout=30)
    assert mine.isdisjoint({m.id for m in theirs})
    assert (len(mine), len(theirs)) == (4, 2)


def test_an_expired_claim_is_taken_over_and_the_first_worker_can_no_longer_record(db_engine):
    write(db_engine, draft())
    (message,) = claim(db_engine, "w1")
    assert claim(db_engine, "w2", now=T0 + timedelta(seconds=CLAIM_SECONDS - 1)) == []
    later = T0 + timedelta(seconds=CLAIM_SECONDS + 1)
    (again,) = claim(db_engine, "w2", now=later)
    assert again.id == message.id and again.attempts == 2 and again.claimed_by == "w2"
    assert record(db_engine, outbox.delivered, message.id, worker="w1", now=later) is False
    assert record(db_engine, outbox.failed, message.id, worker="w1", error="x",
                  now=later) is None
    assert record(db_engine, outbox.delivered, message.id, worker="w2", now=later) is True
    (stored,) = rows(db_engine)
    assert stored.state == DeliveryState.DELIVERED and aware(stored.delivered_at) == later
    assert stored.claimed_until is None


def test_a_failure_waits_for_the_backoff_then_dies_after_the_last_attempt(db_engine):
    write(db_engine, draft())
    now = T0
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (message,) = claim(db_engine, "w1", now=now)
        assert message.attempts == attempt
        state = record(db_engine, outbox.failed, message.id, worker="w1",
                       error=f"HTTP 500 lần {attempt}", now=now)
        if attempt < MAX_ATTEMPTS:
            assert state == DeliveryState.PENDING
            wait = outbox.backoff(attempt)
            assert claim(db_engine, "w1", now=now + wait - timedelta(seconds=1)) == []
            now += wait
    assert state == DeliveryState.DEAD
    (stored,) = rows(db_engine)
    assert stored.state == DeliveryState.DEAD and stored.last_error == "HTTP 500 lần 8"
    assert claim(db_engine, "w1", now=now + timedelta(days=1)) == []


def test_a_permanent_failure_is_dead_at_once(db_engine):
    write(db_engine, draft(channel=Channel.EMAIL, recipient="không-phải-địa-chỉ"))
    (message,) = claim(db_engine, "w1")
    assert record(db_engine, outbox.failed, message.id, worker="w1", error="địa chỉ sai",
                  now=T0, permanent=True) == DeliveryState.DEAD


def test_an_administrator_retries_a_dead_message_from_scratch(db_engine):
    write(db_engine, draft(), draft(2))
    first, second = claim(db_engine, "w1")
    record(db_engine, outbox.failed, first.id, worker="w1", error="x", now=T0, permanent=True)
    record(db_engine, outbox.delivered, second.id, worker="w1", now=T0)
    later = T0 + timedelta(hours=3)
    assert record(db_engine, outbox.retry_dead, second.id, now=later) is False  # not dead
    assert record(db_engine, outbox.retry_dead, first.id, now=later) is True
    (again,) = claim(db_engine, "w2", now=later)
    assert again.id == first.id and again.attempts == 1


def test_a_released_message_is_due_again_at_once_with_its_attempt_not_counted(db_engine):
    write(db_engine, draft())
    (message,) = claim(db_engine, "w1")
    assert record(db_engine, outbox.release, message.id, worker="w2") is False  # not w2's
    assert record(db_engine, outbox.release, message.id, worker="w1") is True
    (again,) = claim(db_engine, "w2")
    assert again.attempts == 1


def test_waiting_messages_carry_the_reason_once_and_only_on_their_channel(db_engine):
    write(db_engine, draft(channel=Channel.EMAIL, recipient="a@b.vn"), draft(2))
    reason = "chưa cấu hình SMTP (MOTCUA_SMTP_HOST)"
    assert record(db_engine, outbox.note_waiting, Channel.EMAIL, reason) == 1
    assert record(db_engine, outbox.note_waiting, Channel.EMAIL, reason) == 0
    mail, bell = rows(db_engine)
    assert (mail.last_error, mail.state, bell.last_error) == (reason, "pending", None)


def test_depth_counts_messages_per_state(db_engine):
    write(db_engine, *(draft(n) for n in range(4)))
    a, b, _c = claim(db_engine, "w1", limit=3)
    record(db_engine, outbox.delivered, a.id, worker="w1", now=T0)
    record(db_engine, outbox.failed, b.id, worker="w1", error="x", now=T0, permanent=True)
    with Session(db_engine) as s:
        assert outbox.depth(s) == {"pending": 1, "sending": 1, "delivered": 1, "dead": 1}
