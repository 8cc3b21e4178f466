"""A fake clock and fake tasks for the scheduler: its job bodies are called at chosen instants
(no threads, no sleeping) and record what they were asked to do."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from service.scheduler.runner import Scheduler
from service.scheduler.settings import SchedulerSettings
from service.scheduler.tasks import Tasks

#: Monday 02/03/2026 09:00 in Hà Nội.
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


class Clock:
    """Time that moves only when the test says so."""

    def __init__(self, at: datetime = T0) -> None:
        self.now = at

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@dataclass
class FakeTasks:
    """Records each call; ``full`` lists what successive deliveries answer ("batch full")."""

    sweeps: list[tuple[datetime, str]] = field(default_factory=list)
    deliveries: list[tuple[datetime, str]] = field(default_factory=list)
    snapshots: list[tuple[date, datetime]] = field(default_factory=list)
    full: list[bool] = field(default_factory=list)
    fail: set[str] = field(default_factory=set)
    swept: threading.Event = field(default_factory=threading.Event)

    def sweep(self, _engine: Any, now: datetime, holder: str) -> None:
        if "sweep" in self.fail:
            raise RuntimeError("sweep broke")
        self.sweeps.append((now, holder))
        self.swept.set()

    def deliver(self, _engine: Any, now: datetime, worker: str) -> bool:
        self.deliveries.append((now, worker))
        return self.full.pop(0) if self.full else False

    def snapshot(self, _engine: Any, day: date, now: datetime) -> None:
        self.snapshots.append((day, now))

    def tasks(self) -> Tasks:
        return Tasks(sweep=self.sweep, deliver=self.deliver, snapshot=self.snapshot)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_scheduler(db_engine, clock):
    """``make_scheduler("a")``: a scheduler named ``a`` on the test database, the shared fake
    clock and its own fake tasks (``.fake``); stopped at the end of the test."""
    made: list[Scheduler] = []

    def make(holder: str, *, settings: SchedulerSettings | None = None, **options: Any
             ) -> Scheduler:
        fake = FakeTasks()
        scheduler = Scheduler(db_engine, settings=settings or SchedulerSettings(),
                              tasks=fake.tasks(), clock=clock, holder=holder, **options)
        scheduler.fake = fake  # type: ignore[attr-defined]
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        if scheduler.running:
            scheduler.stop()
