"""The scheduler (*bộ lập lịch*): APScheduler 3.11 jobs that call the timed work at instants.

Each process keeps its jobs in memory (a ``BackgroundScheduler`` with the default memory job
store: APScheduler 3 cannot share a job store, stack-notes §6.1) and the database lease decides
who acts (:mod:`service.scheduler.leader`). The jobs, with explicit ids:

- ``lease`` — every heartbeat (10 s): take or renew the lease; read who leads and when the
  last sweep succeeded (``/healthz``). A process that becomes the leader sweeps at once, so a
  successor finishes the work of a leader that died mid-sweep.
- ``sweep`` — every ``MOTCUA_SWEEP_MINUTES`` (5), leader only: ``engine.timed.sweep``.
- ``deliver`` — every ``MOTCUA_DELIVER_SECONDS`` (5), in every process: delivery claims rows
  with ``FOR UPDATE SKIP LOCKED``, so several processes deliver without sending twice. A run
  goes on batch after batch while batches come back full (a backlog after a sweep), for at
  most :data:`DELIVER_BUDGET`.
- ``snapshot`` — at 00:10 Asia/Ho_Chi_Minh, leader only: the figures of the day just ended
  (a day is stored only once it is over). A new leader also takes yesterday's at once, so a
  leader that was down at 00:10 leaves no gap; a day already stored is left alone.

Every job has ``max_instances=1`` (a slow sweep is never overlapped by the next) and
``coalesce=True`` (runs missed while the machine slept become one). A run late by less than its
grace time still runs.

The sweeps are idempotent (the outbox's uniqueness keys), so the lease is about not doing the
work twice, not about correctness: a leader that stalls past its expiry overlaps its successor
for one run at worst, and nothing is written twice.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine

from engine.timezone import VN_TZ, to_local
from service.scheduler import status as db_status
from service.scheduler.leader import LEASE_NAME, Leadership, process_holder
from service.scheduler.settings import SchedulerSettings
from service.scheduler.tasks import REAL, TaskMissing, Tasks

log = logging.getLogger("motcua.scheduler")

JOB_LEASE, JOB_SWEEP, JOB_DELIVER, JOB_SNAPSHOT = "lease", "sweep", "deliver", "snapshot"
#: An observing process (``motcua serve --no-scheduler``) only reads the state for /healthz.
JOB_STATUS = "status"
#: A snapshot this late still runs.
SNAPSHOT_GRACE = timedelta(hours=1)
#: Seconds one deliver run may go on taking full batches before it lets the next run start.
DELIVER_BUDGET = 30.0


def utcnow() -> datetime:
    return datetime.now(UTC)


class _QuietSkips(logging.Filter):
    """A delivery run that goes on past the next tick (a backlog after a sweep) makes
    APScheduler warn "skipped: maximum number of running instances reached" every few
    seconds; for ``deliver`` that is the intended behaviour, not news. Other jobs still warn
    (a sweep longer than its interval is worth knowing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = record.args[0] if isinstance(record.args, tuple) and record.args else None
        return not ("maximum number of running instances" in str(record.msg)
                    and getattr(job, "id", None) == JOB_DELIVER)


_QUIET_SKIPS = _QuietSkips()


class RunsOn(StrEnum):
    """Which processes run a job: the lease holder only, or every scheduler process."""

    LEADER = "leader"
    EVERY_PROCESS = "every process"
    THIS_PROCESS = "this process"

    @property
    def label_vi(self) -> str:
        return {"leader": "tiến trình chủ trì", "every process": "mọi tiến trình",
                "this process": "tiến trình này"}[self.value]


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job: its id, when it runs, who runs it, and what it does."""

    id: str
    trigger: BaseTrigger
    who: RunsOn
    grace: float  # seconds a run may be late and still run
    run: Callable[[], Any]
    first_run_now: bool = False


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as ``motcua scheduler jobs`` lists it."""

    id: str
    trigger: str
    who: str
    next_run: datetime | None


class Scheduler:
    """The jobs of one process. ``lead``: take part in the leader election and, as leader,
    sweep and snapshot; ``deliver``: deliver messages. Neither: only observe (for /healthz).

    The job bodies (:meth:`heartbeat`, :meth:`sweep`, :meth:`deliver`, :meth:`snapshot`) are
    plain methods, so tests call them at instants of a fake clock without starting threads.
    """

    def __init__(self, engine: Engine, *, settings: SchedulerSettings | None = None,
                 tasks: Tasks = REAL, clock: Callable[[], datetime] = utcnow,
                 holder: str | None = None, lead: bool = True, deliver: bool = True) -> None:
        self.engine, self.tasks, self.clock = engine, tasks, clock
        self.settings = settings or SchedulerSettings.from_env()
        self.holder = holder or process_holder()
        self.lead, self.delivers = lead, deliver
        self.leadership = Leadership(engine, self.holder, clock=clock,
                                     heartbeat=self.settings.heartbeat, ttl=self.settings.ttl)
        self._aps: BackgroundScheduler | None = None
        self._state_lock = threading.Lock()
        self._seen: dict[str, Any] = {"leader": None, "last_sweep": None, "checked_at": None}
        self._missing: set[str] = set()
        self._stopping = threading.Event()
        self._jobs_done = threading.Condition()  # how many job bodies are running (stop)
        self._active = 0

    # ----- the job bodies ------------------------------------------------------------------

    def heartbeat(self) -> bool:
        """Take or renew the lease (if this process leads at all), then note who leads and
        the last successful sweep. True while this process leads."""
        was = self.leadership.leading()
        leading = self.leadership.beat() if self.lead else False
        self._observe()
        if leading and not was:
            self._sweep_soon()
        return leading

    def sweep(self) -> bool:
        """Sweep now if this process leads; True if a sweep ran to its end."""
        if not self.leadership.leading():
            return False
        return self._run(JOB_SWEEP, lambda now: self.tasks.sweep(self.engine, now, self.holder))

    def deliver(self) -> bool:
        """Deliver what is due (every process may: claims are safe), batch after batch while
        they come back full, for at most :data:`DELIVER_BUDGET` seconds."""

        def batches(now: datetime) -> None:
            until = time.monotonic() + DELIVER_BUDGET
            while self.tasks.deliver(self.engine, now, self.holder) \
                    and time.monotonic() < until and not self._stopping.is_set():
                now = self.clock()

        return self._run(JOB_DELIVER, batches)

    def snapshot(self) -> bool:
        """Store yesterday's figures (local date) if this process leads."""
        if not self.leadership.leading():
            return False

        def take(now: datetime) -> Any:
            yesterday = to_local(now).date() - timedelta(days=1)
            return self.tasks.snapshot(self.engine, yesterday, now)

        return self._run(JOB_SNAPSHOT, take)

    def _run(self, job: str, work: Callable[[datetime], Any]) -> bool:
        """Run one job's work at the clock's instant; its errors are logged, never raised
        into APScheduler (whose thread must keep running the other jobs)."""
        now = self.clock()
        try:
            work(now)
        except TaskMissing as exc:
            if job not in self._missing:  # once, not every five seconds
                self._missing.add(job)
                log.warning("công việc %r chưa chạy được: %s", job, exc)
            return False
        except Exception:
            log.exception("công việc %r thất bại", job)
            return False
        self._missing.discard(job)
        if job == JOB_SWEEP:
            with self._state_lock:
                self._seen["last_sweep"] = self.clock()
        return True

    def _observe(self) -> None:
        """Read who leads and the last successful sweep (by any process) for /healthz."""
        now = self.clock()
        try:
            with self.engine.connect() as connection:
                lease = db_status.lease_state(connection, LEASE_NAME, now)
                last = db_status.last_successful_sweep(connection)
        except Exception:  # the database is away; /healthz keeps the last known state
            log.debug("không đọc được trạng thái", exc_info=True)
            return
        with self._state_lock:
            self._seen["leader"] = lease.holder
            if last is not None:
                self._seen["last_sweep"] = last.finished_at
            self._seen["checked_at"] = now

    def _sweep_soon(self) -> None:
        """A new leader sweeps at once instead of waiting for the next interval (finishing
        the work of a leader that died mid-sweep), then makes sure yesterday is stored."""
        aps = self._aps
        if aps is not None and aps.running and self.lead and not self._stopping.is_set():
            now = datetime.now(VN_TZ)
            aps.modify_job(JOB_SWEEP, next_run_time=now)
            aps.modify_job(JOB_SNAPSHOT,
                           next_run_time=now + timedelta(seconds=self.settings.heartbeat))

    # ----- the jobs and their triggers --------------------------------------------------------

    def specs(self) -> list[JobSpec]:
        """This process's jobs."""
        s = self.settings
        every = lambda seconds: IntervalTrigger(seconds=seconds, timezone=VN_TZ)  # noqa: E731
        jobs: list[JobSpec] = []
        if self.lead:
            jobs.append(JobSpec(JOB_LEASE, every(s.heartbeat), RunsOn.EVERY_PROCESS, s.heartbeat,
                                self.heartbeat, first_run_now=True))
            jobs.append(JobSpec(JOB_SWEEP, every(s.sweep_minutes * 60), RunsOn.LEADER,
                                s.sweep_minutes * 60, self.sweep))
        else:
            jobs.append(JobSpec(JOB_STATUS, every(s.heartbeat), RunsOn.THIS_PROCESS, s.heartbeat,
                                self.heartbeat, first_run_now=True))
        if self.delivers:  # at once too: a process (re)started delivers the backlog now
            jobs.append(JobSpec(JOB_DELIVER, every(s.deliver_seconds), RunsOn.EVERY_PROCESS,
                                s.deliver_seconds, self.deliver, first_run_now=True))
        if self.lead:
            at = s.snapshot_at
            jobs.append(JobSpec(JOB_SNAPSHOT, CronTrigger(hour=at.hour, minute=at.minute,
                                                          timezone=VN_TZ),
                                RunsOn.LEADER, SNAPSHOT_GRACE.total_seconds(), self.snapshot))
        return jobs

    def jobs(self, now: datetime | None = None) -> list[JobRow]:
        """The jobs with their next run: the running scheduler's, or those it would have."""
        who = {spec.id: spec.who for spec in self.specs()}
        aps = self._aps
        if aps is not None and aps.running:
            return [JobRow(j.id, str(j.trigger), who.get(j.id, ""), j.next_run_time)
                    for j in aps.get_jobs()]
        now = (now or self.clock()).astimezone(VN_TZ)
        return [JobRow(spec.id, str(spec.trigger), spec.who,
                       now if spec.first_run_now else spec.trigger.get_next_fire_time(None, now))
                for spec in self.specs()]

    # ----- running ------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._aps is not None and self._aps.running

    def start(self) -> None:
        """Start the jobs in background threads (the lease job runs at once)."""
        if self.running:
            return
        self._stopping.clear()
        logging.getLogger("apscheduler.scheduler").addFilter(_QUIET_SKIPS)  # once: a set
        aps = BackgroundScheduler(
            timezone=VN_TZ,
            executors={"default": ThreadPoolExecutor(max_workers=4)},
            job_defaults={"coalesce": True, "max_instances": 1})
        for spec in self.specs():
            options: dict[str, Any] = {}
            if spec.first_run_now:
                options["next_run_time"] = datetime.now(VN_TZ)
            aps.add_job(self._counted(spec.run), spec.trigger, id=spec.id, name=spec.id,
                        coalesce=True,
                        max_instances=1, misfire_grace_time=max(1, int(spec.grace)),
                        replace_existing=True, **options)
        self._aps = aps
        aps.start()
        log.info("bộ lập lịch %s đã chạy: %s", self.holder,
                 ", ".join(spec.id for spec in self.specs()))

    def _counted(self, run: Callable[[], Any]) -> Callable[[], Any]:
        """``run`` counted while it runs, so that :meth:`stop` can wait for it."""
        def job() -> Any:
            with self._jobs_done:
                self._active += 1
            try:
                return run()
            finally:
                with self._jobs_done:
                    self._active -= 1
                    self._jobs_done.notify_all()
        return job

    def stop(self, timeout: float = 120.0) -> None:
        """Stop cleanly: wait for running jobs (a sweep finishes its work), then give the
        lease up so a waiting process takes over at once.

        Not ``shutdown(wait=True)``: APScheduler waits for the jobs while holding its job
        store lock, and a job that touches the schedule meanwhile (a new leader's
        :meth:`_sweep_soon`) waits for that lock: both wait for ever. The jobs are counted
        here instead (:meth:`_counted`) and waited for after the scheduler let go."""
        self._stopping.set()
        aps, self._aps = self._aps, None
        if aps is not None and aps.running:
            aps.shutdown(wait=False)
        with self._jobs_done:
            self._jobs_done.wait_for(lambda: self._active == 0, timeout=timeout)
        if self.lead:
            self.leadership.resign()
            with self._state_lock:
                if self._seen["leader"] == self.holder:
                    self._seen["leader"] = None
        log.info("bộ lập lịch %s đã dừng", self.holder)

    def status(self) -> dict[str, Any]:
        """For /healthz: whether this process leads, whether another one does, and the last
        successful sweep (local time). No host names: /healthz is public."""
        with self._state_lock:
            seen = dict(self._seen)
        leading = self.lead and self.leadership.leading()
        leader = seen["leader"]
        return {
            "running": self.running,
            "mode": "lead" if self.lead else "observe",
            "leading": leading,
            "leader": ("this_process" if leader == self.holder or leading
                       else "other_process" if leader else None),
            "last_sweep": _local_iso(seen["last_sweep"]),
            "checked_at": _local_iso(seen["checked_at"]),
        }


def _local_iso(instant: datetime | None) -> str | None:
    return None if instant is None else to_local(instant).isoformat(timespec="seconds")


def run_until_signalled(scheduler: Scheduler, say: Callable[[str], None] = print) -> None:
    """Run in the foreground until Ctrl-C or SIGTERM, then stop cleanly (lease released)."""
    stop = threading.Event()

    def ask_to_stop(signum: int, _frame: Any) -> None:
        say(f"Nhận tín hiệu {signal.Signals(signum).name}: đang dừng, chờ công việc đang chạy "
            "kết thúc…")
        stop.set()

    previous = {sig: signal.signal(sig, ask_to_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        scheduler.start()
        while not stop.wait(1):
            pass
    finally:
        scheduler.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
