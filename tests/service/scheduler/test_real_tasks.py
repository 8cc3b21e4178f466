"""The scheduler wired to the real work — the sweep, the delivery, the nightly snapshot — at
instants of a fake clock, on both databases: what each job leaves in the database."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from engine.db import session_scope
from engine.outbox import Channel, DeliveryState, OutboxMessage
from engine.samples import CLERK, LEADER, OFFICER, local, received, seed_world
from engine.users import User
from service.scheduler.runner import Scheduler
from service.scheduler.settings import SchedulerSettings
from service.scheduler.tasks import REAL

from .conftest import Clock

runs = pytest.importorskip("engine.timed.runs")
pytest.importorskip("engine.timed.sweep")
pytest.importorskip("service.delivery.worker")
snapshots = pytest.importorskip("engine.reports.snapshots")


@pytest.fixture
def world(db_engine):
    """Three dossiers received Monday 03/03/2025 (5 working days: due Monday 10/03) and the
    staff who are told about them."""
    with session_scope(db_engine) as session:
        seed_world(session)
        for actor in (CLERK, OFFICER, LEADER):
            session.add(User(username=actor.id, full_name=actor.name, role=actor.role,
                             agency_code=actor.agency, password_hash="-"))
    with session_scope(db_engine) as session:
        for _ in range(3):
            received(session)


def test_the_real_jobs_sweep_deliver_and_snapshot(db_engine, world, monkeypatch):
    for name in ("MOTCUA_SMTP_HOST", "MOTCUA_WEBHOOK_URL", "MOTCUA_WEBHOOK_TARGETS"):
        monkeypatch.delenv(name, raising=False)
    clock = Clock(local("2025-03-12T00:10"))  # Wednesday: two days overdue
    scheduler = Scheduler(db_engine, settings=SchedulerSettings(), tasks=REAL, clock=clock,
                          holder="host:1:ab")
    assert scheduler.heartbeat()

    assert scheduler.sweep()
    with Session(db_engine) as session:
        [run] = session.exec(select(runs.SweepRun)).scalars().all()
        assert run.ok and run.holder == "host:1:ab" and run.findings["overdue"] >= 3
        in_app = session.execute(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.channel == Channel.IN_APP.value)).scalar_one()
    assert in_app > 0
    assert scheduler.status()["last_sweep"] is not None

    assert scheduler.deliver()
    with Session(db_engine) as session:
        states = dict(session.execute(select(OutboxMessage.state, func.count())
                                      .group_by(OutboxMessage.state)).all())
    assert states == {DeliveryState.DELIVERED.value: in_app}  # the bell needs no server

    assert scheduler.snapshot()
    with Session(db_engine) as session:
        days = set(session.execute(select(snapshots.IndicatorSnapshot.day)).scalars())
    assert days == {date(2025, 3, 11)}  # yesterday, the day that is over

    clock.advance(60)
    assert scheduler.heartbeat() and scheduler.sweep()  # a second sweep writes nothing new
    with Session(db_engine) as session:
        total = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        last = runs.last_successful(session)
    assert total == in_app and last.new_messages == 0
