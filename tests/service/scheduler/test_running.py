"""The scheduler with its APScheduler threads: a new leader sweeps at once, every job is
``max_instances=1`` and ``coalesce``, a clean stop gives the lease up and a waiting scheduler
takes over at its next heartbeat. The waits below wait for a thread to act, with a timeout;
no test waits for time to pass (the heartbeat is shortened instead)."""

from __future__ import annotations

from sqlmodel import Session

from engine.leases import holder_of
from service.scheduler.settings import SchedulerSettings

QUICK = SchedulerSettings(heartbeat=0.2, ttl=1.0)


def lease_holder(db_engine, clock) -> str | None:
    with Session(db_engine) as session:
        return holder_of(session, "scheduler", now=clock())


def test_a_started_scheduler_leads_and_sweeps_at_once_not_after_the_interval(make_scheduler,
                                                                            clock, db_engine):
    a = make_scheduler("a")  # default rhythm: the first interval sweep would be in 5 minutes
    a.start()
    assert a.fake.swept.wait(15)
    assert a.fake.sweeps[0][1] == "a"
    assert lease_holder(db_engine, clock) == "a"
    a.stop()
    assert lease_holder(db_engine, clock) is None
    assert not a.running


def test_every_job_runs_one_at_a_time_and_coalesces_missed_runs(make_scheduler):
    a = make_scheduler("a")
    a.start()
    try:
        jobs = {job.id: job for job in a._aps.get_jobs()}
        assert set(jobs) == {"lease", "sweep", "deliver", "snapshot"}
        for job in jobs.values():
            assert job.max_instances == 1 and job.coalesce is True
            assert job.misfire_grace_time >= 1
        assert jobs["snapshot"].misfire_grace_time == 3600
        assert {row.id for row in a.jobs()} == set(jobs)  # listed from the running scheduler
    finally:
        a.stop()


def test_a_waiting_scheduler_takes_over_when_the_leader_stops(make_scheduler, clock,
                                                              db_engine):
    a = make_scheduler("a", settings=QUICK)
    b = make_scheduler("b", settings=QUICK)
    a.start()
    assert a.fake.swept.wait(15)
    b.start()
    # b runs its heartbeats (several per second) but may not lead while a holds the lease.
    assert not b.fake.swept.wait(1.0)
    assert b.fake.sweeps == [] and lease_holder(db_engine, clock) == "a"
    a.stop()
    assert b.fake.swept.wait(15)
    assert lease_holder(db_engine, clock) == "b"
    assert b.status()["leader"] == "this_process"
    b.stop()
    assert lease_holder(db_engine, clock) is None


def test_a_long_delivery_run_does_not_fill_the_log_with_skip_warnings():
    import logging
    from types import SimpleNamespace

    from service.scheduler.runner import _QUIET_SKIPS

    def record(job_id: str) -> logging.LogRecord:
        return logging.LogRecord(
            "apscheduler.scheduler", logging.WARNING, __file__, 1,
            'Execution of job "%s" skipped: maximum number of running instances reached (%d)',
            (SimpleNamespace(id=job_id), 1), None)

    assert not _QUIET_SKIPS.filter(record("deliver"))
    assert _QUIET_SKIPS.filter(record("sweep"))  # a sweep outlasting its interval is news
