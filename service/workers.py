"""Several web processes (*nhiều tiến trình phục vụ*) for ``motcua serve --workers N``.

One Python process serves one request's Python code at a time; a second process nearly
doubled the throughput on two cores (issue 18). What must hold for N processes to behave as
one, and where each thing lives:

- **How many** — ``--workers N``, else ``MOTCUA_WORKERS``, else: on PostgreSQL one per core
  this process may use, at most :data:`DEFAULT_MAX_WORKERS` (each worker holds its own pool of
  database connections and ~130 MB; past four, on one host, they mostly compete with
  PostgreSQL for the same cores); on SQLite one, because SQLite has one writer at a time: more
  processes only queue on the file's lock for every login, rate-limit hit and receipt. An
  explicit N > 1 on SQLite is allowed with a warning (reads do go faster; a write waiting
  longer than ``busy_timeout`` answers 503).
- **The scheduler in exactly one place** — with one worker, inside it (as before); with
  several, in the parent process that supervises them (a thread of its own: sweeps,
  deliveries, nightly snapshots), and the workers only observe it for ``/healthz``. The
  database lease would stop two leaders anyway; this starts one scheduler, not N.
- **Shared state** — rate limits, sessions, the signing key, idempotency records and spent
  proof-of-work challenges are rows in the database; calendars and procedure versions are
  cached per process but checked against the database's revision on every use. The request
  counters of ``/metrics`` are the one thing kept in memory: with several workers they go
  through ``prometheus_client``'s multiprocess mode (a folder of per-process files, summed at
  each scrape), so a scrape answered by any worker reports every worker's requests.
- **Logs** — the access log's lookup-secret filter is part of the logging configuration
  handed to every worker (a filter added in the parent would not reach a spawned worker).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from engine.settings import normalize_database_url

ENV = "MOTCUA_WORKERS"
DEFAULT_MAX_WORKERS = 4
#: prometheus_client's own variable: set before a worker imports it, every metric of that
#: worker is a file in this folder.
METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    count: int
    reason: str  # for the start-up line, in Vietnamese
    warning: str | None = None


def available_cores() -> int:
    """Cores this process may run on (a container's or ``taskset``'s limit, not the host's)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _parse(raw: str, source: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{source} phải là số nguyên dương (nhận {raw!r}) / must be a "
                         "positive integer")
    return value


def plan_workers(database_url: str, requested: int | None = None,
                 env: MutableMapping[str, str] = os.environ,
                 cores: int | None = None) -> WorkerPlan:
    """How many workers to start (see the module docstring); ValueError for a bad setting."""
    sqlite = make_url(normalize_database_url(database_url)).get_backend_name() == "sqlite"
    if requested is not None:
        count, reason = _parse(str(requested), "--workers"), "--workers"
    elif env.get(ENV, "").strip():
        count, reason = _parse(env[ENV], ENV), ENV
    elif sqlite:
        return WorkerPlan(1, "SQLite: một tiến trình ghi")
    else:
        cores = cores or available_cores()
        return WorkerPlan(min(cores, DEFAULT_MAX_WORKERS),
                          f"mỗi lõi một tiến trình, tối đa {DEFAULT_MAX_WORKERS}")
    warning = None
    if sqlite and count > 1:
        warning = (f"Cảnh báo: SQLite chỉ cho một tiến trình ghi tại một thời điểm; {count} "
                   "tiến trình chỉ đọc nhanh hơn, mọi lần ghi (đăng nhập, giới hạn tần suất, "
                   "tiếp nhận) xếp hàng chờ khoá tệp, quá 5 giây thì trả 503. Dùng PostgreSQL "
                   "khi cần nhiều tiến trình. / Warning: SQLite has one writer at a time; "
                   f"{count} workers only speed up reads, writes queue on the file lock.")
    return WorkerPlan(count, reason, warning)


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with the access log's lookup-secret filter
    (:class:`service.publicview.SecretRedaction`), applied in every worker."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {
        "()": "service.publicview.SecretRedaction"}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_secrets"]
    return config


@contextmanager
def shared_metrics(env: MutableMapping[str, str] = os.environ) -> Iterator[Path]:
    """A folder for the workers' metric files, set in ``PROMETHEUS_MULTIPROC_DIR`` for the
    workers to inherit: the operator's (emptied first: old files would add a previous run's
    counts) or a temporary one, removed at the end."""
    given = env.get(METRICS_DIR, "").strip()
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
        yield folder
        return
    folder = Path(tempfile.mkdtemp(prefix="motcua-metrics-"))
    env[METRICS_DIR] = str(folder)
    try:
        yield folder
    finally:
        env.pop(METRICS_DIR, None)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def parent_scheduler(database_url: str) -> Iterator[Any]:
    """The one scheduler of a multi-worker ``serve``, run by the supervising process while
    the block runs (its jobs are threads; the workers are spawned, so they inherit none of
    it), stopped cleanly afterwards: running jobs finish, the lease is given up."""
    from engine.db import make_engine
    from service.scheduler.runner import Scheduler

    engine = make_engine(database_url)
    scheduler = Scheduler(engine, lead=True, deliver=True)
    scheduler.start()
    try:
        yield scheduler
    finally:
        scheduler.stop()
        engine.dispose()
