"""The portal's outbound records are written with the lifecycle actions that change a dossier's
state (and the apology), one per event, keyed ``portal:<code>:<seq>``, only on an engine where
the sync is on; the outbox claims them in order per dossier; ``sync_status`` counts the backlog.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from engine import outbox
from engine.lifecycle import act
from engine.lifecycle.models import Dossier, DossierEvent
from engine.outbox import Channel, DeliveryState, Draft, OutboxMessage
from engine.samples import CLERK, DEPT, LEADER, local, processed_to, received, seed_world
from engine.sync import outbound
from engine.sync.record import facts_of, national_record, record_key, validate

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def world(session) -> Iterator:
    seed_world(session)
    session.commit()
    engine = session.get_bind()
    outbound.install(engine)
    yield session
    outbound.uninstall(engine)


def portal_rows(session, code: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).where(OutboxMessage.channel == Channel.PORTAL.value)
    if code is not None:
        query = query.where(OutboxMessage.dossier_code == code)
    return list(session.exec(query.order_by(OutboxMessage.id)).all())


def events_of(session, dossier: Dossier) -> list[DossierEvent]:
    return list(session.exec(select(DossierEvent).where(DossierEvent.dossier_id == dossier.id)
                             .order_by(DossierEvent.seq)).all())


def test_every_state_change_writes_one_record_keyed_by_dossier_and_event(world):
    dossier = processed_to(world, "returned")
    rows = portal_rows(world, dossier.code)
    events = events_of(world, dossier)
    assert [e.action for e in events] == ["receive", "transfer", "forward", "finish",
                                          "return_result"]
    # the forward keeps the state (in processing): no record; every other event has one
    sent = [e for e in events if e.action != "forward"]
    assert [r.key for r in rows] == [record_key(dossier.code, e.seq) for e in sent]
    assert rows[0].key == f"portal:{dossier.code}:1"
    assert {(r.kind, r.recipient, r.state) for r in rows} == {("sync", "portal", "pending")}
    assert [r.rung for r in rows] == [f"event-{e.seq}" for e in sent]
    world.refresh(dossier)
    last = national_record(facts_of(dossier, sent[-1], actor_name=CLERK.name))
    assert rows[-1].payload == last  # the record as the record module builds it
    for row in rows:
        validate(row.payload)


def test_the_apology_is_sent_though_the_state_stays(world):
    dossier = processed_to(world, "in_processing")
    before = len(portal_rows(world, dossier.code))
    act(world, code=dossier.code, action="apologise", actor=LEADER, at=local("2025-03-05T10:00"),
        reason="Cần xác minh thêm", payload={"new_due": "2025-03-24"})
    world.commit()
    rows = portal_rows(world, dossier.code)
    assert len(rows) == before + 1
    assert rows[-1].subject.endswith("Xin lỗi và hẹn lại ngày trả")
    validate(rows[-1].payload)


def test_the_record_is_rolled_back_with_its_action(world):
    code = received(world).code
    assert len(portal_rows(world)) == 1  # written in the action's transaction ...
    world.rollback()
    assert portal_rows(world) == []  # ... and gone with it
    assert world.exec(select(Dossier).where(Dossier.code == code)).first() is None


def test_nothing_is_written_when_the_portal_is_not_configured(session):
    seed_world(session)
    session.commit()
    engine = session.get_bind()
    assert not outbound.install_from_env(engine, env={"MOTCUA_PORTAL_URL": "  "})
    assert not outbound.installed(engine)
    processed_to(session, "returned")
    assert portal_rows(session) == []
    assert outbound.install_from_env(engine, env={"MOTCUA_PORTAL_URL": "https://dvc.example"})
    try:
        received(session, at=local("2025-03-04T09:00"))
        session.commit()
        assert len(portal_rows(session)) == 1
    finally:
        outbound.uninstall(engine)


def test_which_events_are_sent():
    assert outbound.is_sent("transfer", "received", "in_processing")
    assert outbound.is_sent("pause", "in_processing", "paused")
    assert outbound.is_sent("apologise", "in_processing", "in_processing")
    assert not outbound.is_sent("assign", "in_processing", "in_processing")
    assert not outbound.is_sent("attach", "received", "received")


# ----- the order per dossier ------------------------------------------------------------------

def portal_draft(code: str, seq: int) -> Draft:
    return Draft(kind="sync", channel=Channel.PORTAL, recipient="portal", subject=f"{code} {seq}",
                 body="", dossier_code=code, rung=f"event-{seq}", payload={"seq": seq},
                 own_key=f"portal:{code}:{seq}")


def write(session, *drafts: Draft) -> None:
    outbox.enqueue(session, drafts, at=NOW)
    session.commit()


def claimed_keys(session, *, now: datetime = NOW, worker: str = "w1") -> list[str]:
    rows = outbox.claim(session, worker=worker, now=now)
    session.commit()
    return [r.key for r in rows]


def finish(session, key: str, *, worker: str = "w1", dead: bool = False) -> None:
    row = session.exec(select(OutboxMessage).where(OutboxMessage.key == key)).one()
    if dead:
        assert outbox.failed(session, row.id, worker=worker, error="từ chối", now=NOW,
                             permanent=True) is DeliveryState.DEAD
    else:
        assert outbox.delivered(session, row.id, worker=worker, now=NOW)
    session.commit()


def test_a_dossiers_records_are_claimed_one_at_a_time_in_order(session):
    write(session, *(portal_draft("A", n) for n in (1, 2, 3)),
          *(portal_draft("B", n) for n in (1, 2)),
          Draft(kind="due_soon", channel=Channel.IN_APP, recipient="canbo1", subject="s",
                body="b", dossier_code="A", rung="r"))
    first = claimed_keys(session)
    assert sorted(k for k in first if k.startswith("portal")) == ["portal:A:1", "portal:B:1"]
    assert len(first) == 3  # the in-app message of A is not held back by A's records
    # while A:1 is being sent, another worker takes nothing of A (nor of B)
    assert claimed_keys(session, worker="w2") == []
    finish(session, "portal:A:1")
    assert claimed_keys(session, worker="w2") == ["portal:A:2"]
    # a lease that expires hands the same record over again, never the next one
    later = NOW + timedelta(seconds=outbox.CLAIM_SECONDS + 1)
    assert {k for k in claimed_keys(session, now=later, worker="w3") if k.startswith("portal")
            } == {"portal:A:2", "portal:B:1"}


def test_a_dead_record_holds_back_the_later_ones_until_it_is_sent_again(session):
    write(session, *(portal_draft("A", n) for n in (1, 2)), portal_draft("B", 1))
    assert set(claimed_keys(session)) == {"portal:A:1", "portal:B:1"}
    finish(session, "portal:A:1", dead=True)
    finish(session, "portal:B:1")
    assert claimed_keys(session) == []  # A:2 waits behind the rejected A:1
    status = outbound.sync_status(session, now=NOW + timedelta(minutes=5))
    assert (status.pending, status.delivered, status.dead, status.blocked) == (1, 1, 1, 1)
    assert status.lag_seconds == 300
    dead = session.exec(select(OutboxMessage).where(OutboxMessage.key == "portal:A:1")).one()
    assert outbox.retry_dead(session, dead.id, now=NOW)
    session.commit()
    assert claimed_keys(session) == ["portal:A:1"]
    finish(session, "portal:A:1")
    assert claimed_keys(session) == ["portal:A:2"]


def test_sync_status_counts_per_competent_agency(world):
    processed_to(world, "returned")
    received(world, at=local("2025-03-04T09:00"))
    world.commit()
    keys = claimed_keys(world, now=NOW)
    for key in keys:
        finish(world, key)
    status = outbound.sync_status(world, now=NOW)
    assert (status.pending, status.delivered, status.dead, status.blocked) == (3, 2, 0, 0)
    assert [(a.agency, a.pending, a.delivered, a.dead) for a in status.agencies] == [
        (DEPT, 3, 2, 0)]
    assert status.oldest_pending_at is not None and status.lag_seconds > 0
    assert CLERK.agency != DEPT  # counted under the competent agency, not the counter
