"""Reports that do not queue (issue 18): a bounded number of report computations per process,
off the event loop, and a clear 503 beyond a short wait.

Why. A year's report at 1,000,000 dossiers holds a worker thread and a database connection for
hundreds of milliseconds. The sync routes share one thread pool (40 threads, Starlette's
default) with every other sync route — the inbox, a dossier's page, the receipt, ``/healthz``
— and the database pool with them too; thirty-two auditors asking at once made everyone wait
(p50 5.8 s for the report and the other requests queued behind it). So:

- at most ``MOTCUA_REPORT_CONCURRENCY`` (default 2) report computations run at once in this
  process, each in the thread pool;
- a report waiting for a slot waits **on the event loop** (no thread held, :func:`report_slot`
  is an ``async`` dependency resolved before the route's thread is taken), at most
  ``MOTCUA_REPORT_WAIT_SECONDS`` (default 5: a dashboard asks for four reports at once);
- beyond that the answer is 503 with ``Retry-After`` (about how long a report takes here) and
  a Vietnamese message: a problem document for programs, the message in the dashboard, an
  HTML page for a browser that opened an export link;
- a closed period's figures served from the cache (``engine.reports.cache``) take no slot,
  and so does an open period's answer computed less than ``MOTCUA_OPEN_REPORT_MAX_AGE``
  seconds ago (default 60; 0: always computed), which says when it was computed.

The slots are a ``threading`` semaphore taken without blocking and polled from the loop:
it does not belong to one event loop (tests start several), and the poll runs only while all
slots are busy. Per process: ``--workers N`` gives N times the slots, one per worker.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from engine.reports import cache
from engine.settings import positive_number, seconds_or_zero
from service.problems import Problem

T = TypeVar("T")
DEFAULT_CONCURRENCY = 2
DEFAULT_WAIT_SECONDS = 5.0
POLL_SECONDS = 0.02
BUSY_TITLE = "Hệ thống đang bận tính báo cáo"


def open_max_age_from_env(env: Mapping[str, str] = os.environ) -> timedelta:
    """``MOTCUA_OPEN_REPORT_MAX_AGE``: seconds an open period's answer is served again, ≥ 0
    (0 turns the reuse off; a bad value stops start-up)."""
    return timedelta(seconds=seconds_or_zero(env, "MOTCUA_OPEN_REPORT_MAX_AGE",
                                             cache.OPEN_MAX_AGE.total_seconds()))


def concurrency_from_env(env: Mapping[str, str] = os.environ) -> int:
    """``MOTCUA_REPORT_CONCURRENCY``: a positive whole number (a bad value stops start-up)."""
    value = positive_number(env, "MOTCUA_REPORT_CONCURRENCY", DEFAULT_CONCURRENCY)
    if value != int(value):
        raise ValueError("MOTCUA_REPORT_CONCURRENCY phải là số nguyên dương / must be a "
                         "positive whole number")
    return int(value)


@dataclass
class ReportGate:
    """The report slots of one process (``app.state.report_gate``)."""

    concurrency: int = DEFAULT_CONCURRENCY
    wait_seconds: float = DEFAULT_WAIT_SECONDS
    #: How long an open period's answer is served again (``engine.reports.cache``).
    open_max_age: timedelta = cache.OPEN_MAX_AGE
    #: A running estimate of how long one report takes (seconds), for ``Retry-After``.
    typical_seconds: float = 2.0
    _slots: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.concurrency)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ReportGate:
        return cls(concurrency_from_env(env),
                   positive_number(env, "MOTCUA_REPORT_WAIT_SECONDS", DEFAULT_WAIT_SECONDS),
                   open_max_age_from_env(env))

    def retry_after(self) -> int:
        """Seconds a refused reader should wait: about one report's time, 1–60."""
        return max(1, min(60, math.ceil(self.typical_seconds)))

    def busy(self) -> Problem:
        seconds = self.retry_after()
        return Problem(503, "reports-busy",
                       f"Hệ thống đang tính {self.concurrency} báo cáo khác cùng lúc (tối đa "
                       f"{self.concurrency}). Vui lòng thử lại sau khoảng {seconds} giây; các "
                       "chức năng khác vẫn hoạt động bình thường.",
                       title=BUSY_TITLE, headers={"Retry-After": str(seconds)},
                       retry_after=seconds, concurrency=self.concurrency)

    async def acquire(self) -> None:
        """Take a slot, waiting on the event loop at most :attr:`wait_seconds`; 503 else."""
        deadline = time.monotonic() + self.wait_seconds
        while not self._slots.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise self.busy()
            await asyncio.sleep(POLL_SECONDS)

    def release(self, seconds: float | None = None) -> None:
        if seconds is not None:  # a slow moving average: one odd report moves it little
            self.typical_seconds = 0.8 * self.typical_seconds + 0.2 * seconds
        self._slots.release()

    async def run(self, compute: Callable[[], T]) -> T:
        """``compute`` in the thread pool once a slot is free (503 beyond the wait)."""
        await self.acquire()
        started = time.monotonic()
        try:
            return await run_in_threadpool(compute)
        finally:
            self.release(time.monotonic() - started)


def gate_of(request: Request) -> ReportGate:
    """The app's gate (``create_app`` makes it; an app built otherwise gets one lazily)."""
    gate = getattr(request.app.state, "report_gate", None)
    if gate is None:
        gate = request.app.state.report_gate = ReportGate.from_env()
    return gate


async def report_slot(request: Request) -> AsyncIterator[None]:
    """A dependency holding one report slot for the route's run (released right after it,
    ``scope="function"``). Declared after the reader's dependency, so an unauthorised call
    never takes a slot. A browser that opened an export link gets the 503 as a page."""
    gate = gate_of(request)
    try:
        await gate.acquire()
    except Problem as busy:
        busy.page = True  # an export link opened in the browser: show a page
        raise
    started = time.monotonic()
    try:
        yield
    finally:
        gate.release(time.monotonic() - started)


ReportSlot = Annotated[None, Depends(report_slot, scope="function")]


async def in_thread(compute: Callable[[], T]) -> T:
    """Short database work of an ``async`` report route (a cache lookup) in the pool."""
    return await run_in_threadpool(compute)


def describe(gate: ReportGate) -> dict[str, Any]:
    """The gate's settings, for the health page or a log line."""
    return {"concurrency": gate.concurrency, "wait_seconds": gate.wait_seconds,
            "open_max_age_seconds": gate.open_max_age.total_seconds(),
            "typical_seconds": round(gate.typical_seconds, 3)}
