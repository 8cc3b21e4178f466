"""Pushing the records to a local fake portal, on both databases: each state change arrives once
and in order per dossier, signed; a rejection is dead with the portal's reason (shown to
administrators) and holds back its dossier's later records; a timeout is retried with the
outbox's backoff; ``motcua sync status`` shows the backlog. Time is passed forward (``now``);
the only real waits are the client's short timeout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import Session, select
from typer.testing import CliRunner

from engine import outbox
from engine.outbox import MAX_ATTEMPTS, Channel, DeliveryState, OutboxMessage
from engine.samples import local, processed_to, seed_world
from engine.sync import outbound
from engine.sync.record import validate
from service.cli import app as cli
from service.delivery import Couriers, DeliverySettings, PortalSettings
from service.delivery.worker import deliver_due
from tests.service.sync.conftest import CLIENT_TIMEOUT, KEY_ID, REASON, SECRET

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def settings(portal) -> DeliverySettings:
    return DeliverySettings(portal=PortalSettings(url=portal.url, key_id=KEY_ID, secret=SECRET,
                                                  timeout=CLIENT_TIMEOUT))


def deliver(engine, config: DeliverySettings, *, now: datetime = NOW, rounds: int = 20):
    """Batches at ``now`` until one claims nothing (the scheduler's job does the same)."""
    couriers = Couriers(config)
    reports = []
    try:
        for _ in range(rounds):
            report = deliver_due(engine, worker="w1", now=now, couriers=couriers)
            reports.append(report)
            if not report.claimed:
                break
    finally:
        couriers.close()
    return reports


def rows(engine, code: str | None = None) -> list[OutboxMessage]:
    with Session(engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.channel == Channel.PORTAL.value)
        if code:
            query = query.where(OutboxMessage.dossier_code == code)
        return list(session.exec(query.order_by(OutboxMessage.id)).all())


@pytest.fixture
def world(db_engine):
    with Session(db_engine) as session:
        seed_world(session)
        session.commit()
    outbound.install(db_engine)
    yield db_engine
    outbound.uninstall(db_engine)


def dossiers(engine, count: int, state: str = "returned") -> list[str]:
    with Session(engine) as session:
        return [processed_to(session, state, at=local(f"2025-03-0{3 + i}T09:00")).code
                for i in range(count)]


def test_each_change_reaches_the_portal_once_in_order_and_signed(world, portal):
    codes = dossiers(world, 3)
    portal.script(codes[0], "500")  # the first record of one dossier fails once
    deliver(world, settings(portal))
    # dossier 0 is held at its first record (retry in 30 s); the others went through in order
    assert portal.order_of(codes[0]) == []
    assert portal.order_of(codes[1]) == portal.order_of(codes[2]) == [1, 2, 4, 5]
    deliver(world, settings(portal), now=NOW + timedelta(seconds=31))
    assert portal.order_of(codes[0]) == [1, 2, 4, 5]
    assert set(portal.seen.values()) == {1} and portal.bad == []
    assert {r.state for r in rows(world)} == {DeliveryState.DELIVERED.value}
    stored = {r.key: r.payload for r in rows(world)}
    for key, record in portal.accepted:  # the body is the record, as stored
        assert record == stored[key]
        validate(record)


def test_a_rejected_record_is_dead_with_the_portals_reason_and_holds_back_its_dossier(
        world, portal):
    first, other = dossiers(world, 2)
    portal.script(first, "reject")
    deliver(world, settings(portal))
    mine = rows(world, first)
    assert mine[0].state == DeliveryState.DEAD.value and mine[0].attempts == 1
    assert REASON in mine[0].last_error and "HTTP 422" in mine[0].last_error
    assert {r.state for r in mine[1:]} == {DeliveryState.PENDING.value}  # never sent ahead
    assert portal.requests[mine[1].key] == 0
    assert portal.order_of(other) == [1, 2, 4, 5]  # other dossiers are not held up

    # the administrator sends it again once the portal's catalogue is fixed: all in order
    with Session(world) as session:
        assert outbox.retry_dead(session, mine[0].id, now=NOW)
        session.commit()
    deliver(world, settings(portal), now=NOW + timedelta(minutes=1))
    assert portal.order_of(first) == [1, 2, 4, 5]


def test_a_timeout_is_retried_with_the_outboxs_backoff(world, portal):
    [code] = dossiers(world, 1, "received")
    portal.script(code, "timeout", "timeout")
    [report] = deliver(world, settings(portal), rounds=1)
    assert (report.claimed, report.retrying) == (1, 1)
    [row] = rows(world, code)
    assert row.state == DeliveryState.PENDING.value and "không trả lời" in row.last_error
    assert row.next_attempt_at.replace(tzinfo=UTC) == NOW + outbox.backoff(1)
    deliver(world, settings(portal), now=NOW + timedelta(seconds=29))
    assert portal.requests[row.key] == 1  # not due yet
    deliver(world, settings(portal), now=NOW + timedelta(seconds=30))
    deliver(world, settings(portal), now=NOW + timedelta(seconds=91))  # 30 s + 1 min later
    assert portal.order_of(code) == [1]
    assert rows(world, code)[0].state == DeliveryState.DELIVERED.value
    assert portal.requests[row.key] == 3


def test_a_portal_that_keeps_failing_leaves_the_record_dead_after_the_last_attempt(
        world, portal):
    [code] = dossiers(world, 1, "received")
    portal.script(code, *["500"] * MAX_ATTEMPTS)
    at = NOW
    for _ in range(MAX_ATTEMPTS):
        deliver(world, settings(portal), now=at, rounds=1)
        at += timedelta(hours=1)
    [row] = rows(world, code)
    assert (row.state, row.attempts) == (DeliveryState.DEAD.value, MAX_ATTEMPTS)
    assert "HTTP 500" in row.last_error


def test_records_wait_with_the_reason_while_the_secret_is_missing(world, portal):
    dossiers(world, 1, "received")
    [off] = deliver(world, DeliverySettings(), rounds=1)  # no URL: the sync is off
    assert off.claimed == 0 and "portal" not in off.waiting
    assert rows(world)[0].last_error is None
    [report] = deliver(world, DeliverySettings(portal=PortalSettings(url=portal.url)), rounds=1)
    assert report.claimed == 0 and "MOTCUA_PORTAL_SECRET" in report.waiting["portal"]
    [row] = rows(world)
    assert (row.state, row.attempts) == (DeliveryState.PENDING.value, 0)
    assert "MOTCUA_PORTAL_SECRET" in row.last_error
    assert portal.requests == {}


def test_sync_status_lists_pending_delivered_dead_and_lag(world, portal, database_url,
                                                          monkeypatch):
    first, _ = dossiers(world, 2)
    portal.script(first, "reject")
    deliver(world, settings(portal))
    with Session(world) as session:  # one more record of the rejected dossier is waiting
        session.execute(update(OutboxMessage).where(OutboxMessage.channel == "portal")
                        .values(created_at=datetime.now(UTC) - timedelta(hours=2)))
        session.commit()
    monkeypatch.setenv("MOTCUA_DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["sync", "status", "--json"])
    assert result.exit_code == 1, result.output  # a rejected record: exit 1
    status = json.loads(result.output)
    assert (status["pending"], status["delivered"], status["dead"], status["blocked"]) == (
        3, 4, 1, 3)
    assert 2 * 3600 <= status["lag_seconds"] < 3 * 3600
    text = CliRunner().invoke(cli, ["sync", "status"]).output
    assert "Chờ gửi: 3   Đã gửi: 4   Bị từ chối/thất bại: 1" in text
    assert "Độ trễ: 2 giờ" in text and "/quan-tri/thong-bao" in text
