"""Exactly one leader: the sweep and the snapshot run only in the process that holds the lease;
a second scheduler over the same database waits until the first stops or its lease expires;
delivery runs everywhere. Job bodies are called at instants of a fake clock (no threads)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlmodel import Session

from engine import leases
from engine.leases import holder_of
from service.scheduler import runner
from service.scheduler.settings import SchedulerSettings

HEARTBEAT, TTL = leases.HEARTBEAT, leases.TTL


def lease_holder(db_engine, clock) -> str | None:
    with Session(db_engine) as session:
        return holder_of(session, "scheduler", now=clock())


def test_a_scheduler_sweeps_only_while_it_holds_the_lease(make_scheduler, clock):
    a = make_scheduler("a")
    assert not a.sweep() and a.fake.sweeps == []  # no heartbeat yet: not the leader
    assert a.heartbeat()
    assert a.sweep()
    assert a.fake.sweeps == [(clock(), "a")]


def test_a_second_scheduler_does_not_sweep_while_the_first_leads(make_scheduler, clock,
                                                                 db_engine):
    a, b = make_scheduler("a"), make_scheduler("b")
    assert a.heartbeat()
    for _ in range(12):  # two minutes of heartbeats by both
        clock.advance(HEARTBEAT)
        assert a.heartbeat()
        assert not b.heartbeat()
        assert a.sweep() and not b.sweep()
        assert a.snapshot() and not b.snapshot()
    assert len(a.fake.sweeps) == 12 and b.fake.sweeps == []
    assert len(a.fake.snapshots) == 12 and b.fake.snapshots == []
    assert lease_holder(db_engine, clock) == "a"


def test_the_second_takes_over_after_the_first_stops_cleanly(make_scheduler, clock, db_engine):
    a, b = make_scheduler("a"), make_scheduler("b")
    assert a.heartbeat() and not b.heartbeat()
    a.stop()  # not started: stopping still gives the lease up
    assert lease_holder(db_engine, clock) is None
    assert not a.sweep()
    clock.advance(1)
    assert b.heartbeat()  # at its very next heartbeat, not after the expiry
    assert b.sweep() and b.fake.sweeps == [(clock(), "b")]


def test_when_the_leader_dies_the_second_takes_over_once_the_lease_expires(make_scheduler,
                                                                         clock, db_engine):
    a, b = make_scheduler("a"), make_scheduler("b")
    assert a.heartbeat()
    died = clock()  # "a" is killed: it never beats again
    waited = 0
    while not b.heartbeat():
        assert not b.sweep()
        clock.advance(HEARTBEAT)
        waited += HEARTBEAT
    assert TTL < waited <= TTL + HEARTBEAT <= 60  # "within a minute"
    assert b.sweep() and b.fake.sweeps == [(clock(), "b")]
    assert lease_holder(db_engine, clock) == "b"
    assert (clock() - died).total_seconds() == waited


def test_a_leader_that_stalled_past_its_expiry_does_not_sweep_again(make_scheduler, clock):
    a, b = make_scheduler("a"), make_scheduler("b")
    assert a.heartbeat()
    clock.advance(TTL - HEARTBEAT)  # a's own view of its lease ends a heartbeat early
    assert not a.sweep()
    clock.advance(HEARTBEAT + 1)
    assert b.heartbeat()
    assert not a.heartbeat()  # it wakes up: refused, and knows it
    assert not a.sweep() and b.sweep()


def test_a_leader_whose_heartbeats_fail_stops_leading_before_anyone_may_take_over(
        make_scheduler, clock, monkeypatch, caplog):
    a = make_scheduler("a")
    assert a.heartbeat()

    def unreachable(*_args, **_kwargs):
        raise ConnectionError("database away")

    monkeypatch.setattr(leases, "acquire", unreachable)
    clock.advance(HEARTBEAT)
    with caplog.at_level(logging.WARNING, "motcua.scheduler"):
        assert a.heartbeat()  # not renewed, but the lease it holds has not run out
    assert "không gia hạn được" in caplog.text
    assert a.sweep()
    clock.advance(TTL - 2 * HEARTBEAT)  # TTL - HEARTBEAT after the last renewal
    assert not a.heartbeat() and not a.sweep()


def test_delivery_runs_in_every_process_leader_or_not(make_scheduler, clock):
    a, b = make_scheduler("a"), make_scheduler("b")
    assert a.heartbeat() and not b.heartbeat()
    assert a.deliver() and b.deliver()
    assert a.fake.deliveries == [(clock(), "a")] and b.fake.deliveries == [(clock(), "b")]


def test_delivery_goes_on_while_batches_come_back_full(make_scheduler, clock):
    a = make_scheduler("a")
    a.fake.full = [True, True, False, True]
    assert a.deliver()
    assert len(a.fake.deliveries) == 3  # stopped at the first batch that was not full
    assert a.deliver()
    assert len(a.fake.deliveries) == 5


def test_delivery_stops_taking_batches_after_its_budget(make_scheduler, monkeypatch):
    a = make_scheduler("a")
    a.fake.full = [True] * 100
    monkeypatch.setattr(runner, "DELIVER_BUDGET", -1.0)  # already past it after one batch
    assert a.deliver()
    assert len(a.fake.deliveries) == 1


def test_the_snapshot_stores_yesterday_local_date(make_scheduler, clock):
    a = make_scheduler("a")
    clock.now = clock.now.replace(month=3, day=2, hour=17, minute=10)  # 00:10 on 03/03 in VN
    assert a.heartbeat() and a.snapshot()
    assert a.fake.snapshots == [(date(2026, 3, 2), clock())]
    clock.advance(3600 * 23)  # 23:10 the same local day: still yesterday = 02/03
    assert a.heartbeat() and a.snapshot()
    assert a.fake.snapshots[-1][0] == date(2026, 3, 2)


def test_a_failing_task_is_logged_and_the_scheduler_goes_on(make_scheduler, caplog):
    a = make_scheduler("a")
    a.fake.fail.add("sweep")
    assert a.heartbeat()
    with caplog.at_level(logging.ERROR, "motcua.scheduler"):
        assert not a.sweep()
    assert "công việc 'sweep' thất bại" in caplog.text and "sweep broke" in caplog.text
    a.fake.fail.clear()
    assert a.sweep()


def test_a_task_whose_module_is_missing_is_reported_once(make_scheduler, caplog):
    from service.scheduler.tasks import TaskMissing, Tasks

    a = make_scheduler("a")

    def missing(*_args):
        raise TaskMissing("engine.timed.sweep.run_sweep không có")

    a.tasks = Tasks(sweep=missing, deliver=a.fake.deliver, snapshot=a.fake.snapshot)
    assert a.heartbeat()
    with caplog.at_level(logging.WARNING, "motcua.scheduler"):
        assert not a.sweep() and not a.sweep()
    assert caplog.text.count("chưa chạy được") == 1


def test_an_observer_never_takes_the_lease_but_knows_who_leads(make_scheduler, clock):
    a = make_scheduler("a")
    watcher = make_scheduler("w", lead=False, deliver=False)
    assert not watcher.heartbeat()
    assert watcher.status()["leader"] is None
    assert a.heartbeat()
    watcher.heartbeat()
    assert watcher.status() == {"running": False, "mode": "observe", "leading": False,
                                "leader": "other_process", "last_sweep": None,
                                "checked_at": "2026-03-02T09:00:00+07:00"}
    assert [spec.id for spec in watcher.specs()] == ["status"]


def test_status_says_who_leads_without_naming_hosts(make_scheduler, clock):
    a, b = make_scheduler("host-a:1:x"), make_scheduler("host-b:2:y")
    a.heartbeat(), b.heartbeat()
    a.sweep()
    assert a.status()["leader"] == "this_process" and a.status()["leading"]
    assert b.status()["leader"] == "other_process" and not b.status()["leading"]
    assert a.status()["last_sweep"] == "2026-03-02T09:00:00+07:00"
    assert "host-" not in repr(a.status()) + repr(b.status())


# ----- the jobs and their triggers ---------------------------------------------------------

def test_the_jobs_have_explicit_ids_and_the_documented_rhythm(make_scheduler, clock):
    a = make_scheduler("a")
    rows = {row.id: row for row in a.jobs(clock())}
    assert list(rows) == ["lease", "sweep", "deliver", "snapshot"]
    assert rows["lease"].trigger == "interval[0:00:10]"
    assert rows["sweep"].trigger == "interval[0:05:00]"
    assert rows["deliver"].trigger == "interval[0:00:05]"
    assert rows["snapshot"].trigger == "cron[hour='0', minute='10']"
    assert rows["snapshot"].next_run.isoformat() == "2026-03-03T00:10:00+07:00"
    assert {r.who for r in rows.values()} == {"leader", "every process"}
    assert rows["sweep"].who == rows["snapshot"].who == "leader"


def test_the_rhythm_comes_from_the_environment(make_scheduler):
    settings = SchedulerSettings.from_env({"MOTCUA_SWEEP_MINUTES": "2",
                                           "MOTCUA_DELIVER_SECONDS": "1.5"})
    rows = {row.id: row for row in make_scheduler("a", settings=settings).jobs()}
    assert rows["sweep"].trigger == "interval[0:02:00]"
    assert rows["deliver"].trigger == "interval[0:00:01.500000]"


@pytest.mark.parametrize("env", [{"MOTCUA_SWEEP_MINUTES": "0"},
                                 {"MOTCUA_DELIVER_SECONDS": "vài giây"},
                                 {"MOTCUA_LEASE_HEARTBEAT_SECONDS": "nan"},
                                 {"MOTCUA_LEASE_TTL_SECONDS": "15"}])
def test_a_bad_setting_is_a_clear_error_naming_it(env):
    with pytest.raises(ValueError) as raised:
        SchedulerSettings.from_env(env)
    assert next(iter(env)) in str(raised.value)
    assert SchedulerSettings.from_env({"MOTCUA_SWEEP_MINUTES": " "}) == SchedulerSettings()
