"""What people and monitoring see of the scheduler: ``/healthz`` (from the in-process
scheduler's memory, never the database) and ``/metrics`` (read from the database at each
scrape, so every web process reports the same figures whichever process did the work)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from engine import outbox
from engine.db import session_scope
from engine.leases import acquire
from engine.outbox import Channel, Draft
from engine.timed.runs import SweepRun
from service.app import create_app
from service.scheduler.runner import Scheduler
from service.scheduler.settings import SchedulerSettings

from .conftest import FakeTasks

NOW = datetime.now(UTC)


@pytest.fixture
def app(database_url):
    app = create_app(database_url, scheduler="off")
    yield app
    app.state.engine.dispose()


def scrape(app) -> dict[str, dict[tuple, float]]:
    """``/metrics`` as {name: {labels: value}} (from the local address, allowed by default)."""
    client = TestClient(app, client=("127.0.0.1", 50000))
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    found: dict[str, dict[tuple, float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


# ----- /healthz -------------------------------------------------------------------------------

def test_healthz_without_a_scheduler_is_unchanged(app):
    with TestClient(app) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


def test_healthz_reports_the_in_process_scheduler_leading(app, db_engine):
    fake = FakeTasks()
    app.state.scheduler = Scheduler(db_engine, settings=SchedulerSettings(), holder="web-1",
                                    tasks=fake.tasks())
    with TestClient(app) as client:
        assert fake.swept.wait(15)  # it led and swept at once
        app.state.scheduler.heartbeat()  # (the next heartbeat would also see it)
        body = client.get("/healthz").json()
    assert body["status"] == "ok"
    state = body["scheduler"]
    assert state["running"] and state["mode"] == "lead"
    assert state["leading"] and state["leader"] == "this_process"
    assert state["last_sweep"] is not None and state["last_sweep"].endswith("+07:00")
    assert app.state.scheduler.running is False  # stopped with the app


def test_healthz_of_an_observer_reports_the_other_leader_and_its_last_sweep(app, db_engine):
    finished = datetime(2026, 3, 2, 2, 0, 3, tzinfo=UTC)
    with session_scope(db_engine) as session:
        assert acquire(session, "scheduler", "scheduler-host:77:ab", now=datetime.now(UTC))
        session.add(SweepRun(holder="scheduler-host:77:ab", started_at=finished - timedelta(
            seconds=3), finished_at=finished, ok=True, findings={"overdue": 2}, seconds=3.0))
    app.state.scheduler = Scheduler(db_engine, settings=SchedulerSettings(), holder="web-2",
                                    lead=False, deliver=False, tasks=FakeTasks().tasks())
    with TestClient(app) as client:
        app.state.scheduler.heartbeat()
        body = client.get("/healthz").json()
    assert body["scheduler"] == {
        "running": True, "mode": "observe", "leading": False, "leader": "other_process",
        "last_sweep": "2026-03-02T09:00:03+07:00", "checked_at": body["scheduler"]["checked_at"]}
    assert "scheduler-host" not in str(body)  # /healthz is public: no host names


def test_healthz_with_a_scheduler_still_never_touches_the_request_database(app, db_engine):
    app.state.scheduler = Scheduler(db_engine, settings=SchedulerSettings(), holder="web-3",
                                    tasks=FakeTasks().tasks())
    statements: list[str] = []
    event.listen(app.state.engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    assert statements == []


@pytest.mark.parametrize(("mode", "lead", "deliver"), [("run", True, True),
                                                       ("observe", False, False)])
def test_create_app_builds_the_scheduler_serve_asks_for(database_url, mode, lead, deliver):
    app = create_app(database_url, scheduler=mode)
    try:
        assert (app.state.scheduler.lead, app.state.scheduler.delivers) == (lead, deliver)
        assert not app.state.scheduler.running  # started by the lifespan, not by building
    finally:
        app.state.scheduler.engine.dispose()
        app.state.engine.dispose()


def test_create_app_reads_the_mode_serve_sets(database_url, monkeypatch):
    monkeypatch.delenv("MOTCUA_SERVE_SCHEDULER", raising=False)
    assert create_app(database_url).state.scheduler is None
    monkeypatch.setenv("MOTCUA_SERVE_SCHEDULER", "observe")
    app = create_app(database_url)
    assert app.state.scheduler is not None and not app.state.scheduler.lead
    app.state.scheduler.engine.dispose()


# ----- /metrics -------------------------------------------------------------------------------

def test_metrics_read_the_timed_work_from_the_database(app, db_engine):
    with session_scope(db_engine) as session:
        drafts = [Draft(kind="overdue", channel=channel, recipient=who, subject="Quá hạn",
                        body="Hồ sơ đã quá hạn.", dossier_code=f"H{i}", rung="d0")
                  for i, (channel, who) in enumerate([(Channel.IN_APP, "canbo"),
                                                      (Channel.WEBHOOK, "sms:0912345678"),
                                                      (Channel.WEBHOOK, "sms:0987654321"),
                                                      (Channel.EMAIL, "a@example.vn")])]
        assert outbox.enqueue(session, drafts, at=NOW) == 4
    with session_scope(db_engine) as session:  # the two webhooks fail once, the e-mail is out
        for row in outbox.claim(session, worker="w", channels=[Channel.WEBHOOK,
                                                               Channel.EMAIL], now=NOW):
            if row.channel == Channel.WEBHOOK:
                outbox.failed(session, row.id, worker="w", error="HTTP 500", now=NOW)
            else:
                outbox.delivered(session, row.id, worker="w", now=NOW)
    with session_scope(db_engine) as session:  # both retried: one fails again, one is out
        first, _second = outbox.claim(session, worker="w", channels=[Channel.WEBHOOK],
                                      now=NOW + timedelta(minutes=5))
        outbox.failed(session, first.id, worker="w", error="timeout",
                      now=NOW + timedelta(minutes=5))
    with session_scope(db_engine) as session:  # a third attempt under way: not a failure yet
        [row] = outbox.claim(session, worker="w", channels=[Channel.WEBHOOK],
                             now=NOW + timedelta(minutes=6))  # after its backoff
        assert row.id == first.id and row.attempts == 3
        session.add(SweepRun(holder="h:1:a", started_at=NOW - timedelta(minutes=10),
                             finished_at=NOW - timedelta(minutes=10) + timedelta(seconds=2),
                             ok=True, findings={"due_soon": 1}, new_messages=1, seconds=2.0))
        session.add(SweepRun(holder="h:1:a", started_at=NOW, finished_at=NOW + timedelta(
            seconds=4.5), ok=True, findings={"overdue": 3, "apology_due": 1}, new_messages=4,
            seconds=4.5))
        session.add(SweepRun(holder="h:1:a", started_at=NOW, ok=False))  # killed mid-way
        session.add(SweepRun(holder="h:1:a", started_at=NOW, ok=False, error="boom"))
        assert acquire(session, "scheduler", "h:1:a", now=datetime.now(UTC))
    m = scrape(app)
    assert m["motcua_timed_metrics_up"][()] == 1
    assert m["motcua_outbox_messages"] == {
        (("state", "pending"),): 1, (("state", "sending"),): 2, (("state", "delivered"),): 1,
        (("state", "dead"),): 0}
    # first: 2 failed + 1 under way; second: 1 failed + 1 under way
    assert m["motcua_outbox_delivery_failures"] == {
        (("channel", "webhook"),): 3, (("channel", "email"),): 0,
        (("channel", "in_app"),): 0, (("channel", "portal"),): 0}
    assert m["motcua_sweep_last_duration_seconds"][()] == 4.5
    assert m["motcua_sweep_last_success_timestamp_seconds"][()] == pytest.approx(
        (NOW + timedelta(seconds=4.5)).timestamp())
    assert m["motcua_sweep_last_findings"] == {(("kind", "apology_due"),): 1,
                                               (("kind", "overdue"),): 3}
    assert m["motcua_sweep_last_new_messages"][()] == 4
    assert m["motcua_sweep_runs_total"] == {(("outcome", "ok"),): 2,
                                            (("outcome", "failed"),): 1,
                                            (("outcome", "unfinished"),): 1}
    assert m["motcua_scheduler_has_leader"][()] == 1
    assert m["motcua_scheduler_leader_info"] == {(("holder", "h:1:a"),): 1}


def test_metrics_before_any_sweep_or_message(app):
    m = scrape(app)
    assert m["motcua_timed_metrics_up"][()] == 1
    assert set(m["motcua_outbox_messages"].values()) == {0}
    assert m["motcua_scheduler_has_leader"][()] == 0
    assert "motcua_sweep_last_duration_seconds" not in m


def test_metrics_say_so_when_the_database_cannot_be_read(app, tmp_path):
    from service.resilience import readiness_engine

    app.state.readiness_engine = readiness_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    m = scrape(app)
    assert m["motcua_timed_metrics_up"][()] == 0
    assert "motcua_outbox_messages" not in m
