"""``motcua serve --workers N``: how many by default, and two real workers behaving as one —
requests answered by both, a session opened on one valid on the other, a login limit counted
across them as by one process, and one scheduler (in the supervising process) for all.

Which worker answered is read from the workers' metric files (``PROMETHEUS_MULTIPROC_DIR``,
one file per process id, service/workers.py): nothing about processes is added to a public
answer for the test's sake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict
from sqlalchemy import text

from engine.db import make_engine
from service.workers import DEFAULT_MAX_WORKERS, log_config, plan_workers

EXE = shutil.which("motcua", path=str(Path(sys.executable).parent)) or "motcua"
PASSWORD = "mat-khau-workers"
PG = "postgresql://u@h/db"


# ----- how many -------------------------------------------------------------------------------

def test_postgresql_defaults_to_one_worker_per_core_up_to_the_limit():
    assert plan_workers(PG, env={}, cores=2).count == 2
    assert plan_workers(PG, env={}, cores=64).count == DEFAULT_MAX_WORKERS
    assert plan_workers(PG, env={"MOTCUA_WORKERS": "6"}, cores=2).count == 6
    assert plan_workers(PG, 3, env={"MOTCUA_WORKERS": "6"}).count == 3  # the option wins


def test_sqlite_defaults_to_one_worker_and_warns_when_asked_for_more():
    assert plan_workers("sqlite:///x.db", env={}, cores=8).count == 1
    plan = plan_workers("sqlite:///x.db", env={"MOTCUA_WORKERS": "2"})
    assert plan.count == 2 and "một tiến trình ghi" in plan.warning
    assert plan_workers(PG, 2).warning is None


@pytest.mark.parametrize("raw", ["0", "-1", "hai", "1.5"])
def test_a_bad_worker_count_is_refused_with_its_name(raw):
    with pytest.raises(ValueError, match="MOTCUA_WORKERS"):
        plan_workers(PG, env={"MOTCUA_WORKERS": raw})


def test_every_worker_gets_the_access_logs_secret_filter():
    config = log_config()
    assert config["loggers"]["uvicorn.access"]["filters"] == ["redact_secrets"]
    assert config["filters"]["redact_secrets"]["()"] == "service.publicview.SecretRedaction"


def test_serve_on_sqlite_starts_one_worker_with_the_scheduler_inside(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from service.cli import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("MOTCUA_DEMO_PASSWORD", PASSWORD)
    monkeypatch.delenv("MOTCUA_WORKERS", raising=False)
    monkeypatch.setenv("MOTCUA_SERVE_SCHEDULER", "off")  # `serve` sets it: removed afterwards
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert "workers" not in calls[0] and os.environ["MOTCUA_SERVE_SCHEDULER"] == "run"
    assert "Tiến trình phục vụ: 1 (SQLite" in result.output


# ----- two real workers -----------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def two_workers(request, tmp_path):
    """``motcua serve --workers 2`` on a fresh database: (base URL, server pid, metrics
    folder, database URL). SQLite is asked for two explicitly (it warns)."""
    from tests.conftest import drop_schema, new_schema

    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'motcua.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        schema, url = new_schema(admin)
    port, metrics = _free_port(), tmp_path / "metrics"
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO_PASSWORD": PASSWORD,
           "PROMETHEUS_MULTIPROC_DIR": str(metrics), "MOTCUA_WORKERS": ""}
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen([EXE, "serve", "--workers", "2", "--port", str(port)], env=env,
                               stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90  # a busy machine: migrating, spawning two workers
        while not _ready(base, tmp_path / "server.log", workers=2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "server.log").read_text())
            time.sleep(0.2)
        yield base, process.pid, metrics, url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if schema:
            drop_schema(request.getfixturevalue("postgres_admin"), schema)


def _ready(base: str, log: Path, workers: int) -> bool:
    """Every worker has started (each logs it) and the service answers."""
    if log.read_text().count("Application startup complete") < workers:
        return False
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def served_by(metrics: Path, route: str) -> Counter[int]:
    """Requests of ``route`` (its template) per worker pid, from the workers' metric files."""
    per_pid: Counter[int] = Counter()
    for path in metrics.glob("counter_*.db"):
        pid = int(path.stem.split("_")[1])
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            name, _sample, labels, _help = json.loads(key)
            if name == "motcua_http_requests" and labels.get("route") == route:
                per_pid[pid] += int(value)
    return per_pid


def spread(send, count: int, threads: int = 8) -> list[httpx.Response]:
    """``count`` calls of ``send`` at once, each on its own connection (a kept-alive
    connection would stay with one worker)."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(lambda i: send(i), range(count)))


def login(base: str, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{base}/api/v1/auth/token", timeout=30,
                      data={"username": username, "password": password})


def test_two_workers_answer_share_sessions_and_limits_and_run_one_scheduler(two_workers):
    base, server_pid, metrics, url = two_workers

    # Both workers answer (the kernel hands connections to whichever accepts first).
    for _ in range(10):
        spread(lambda _i: httpx.get(f"{base}/healthz", timeout=30), 16)
        if len(served_by(metrics, "/healthz")) == 2:
            break
    workers = set(served_by(metrics, "/healthz"))
    assert len(workers) == 2 and server_pid not in workers
    # /metrics, whichever worker answers, counts both workers' requests.
    healthz = served_by(metrics, "/healthz")
    scraped = httpx.get(f"{base}/metrics", timeout=30).text
    assert (f'motcua_http_requests_total{{method="GET",route="/healthz",status="200"}} '
            f'{float(sum(healthz.values()))}') in scraped

    # A session opened through one worker is valid on the other.
    signed_in = login(base, "clerk", PASSWORD)
    assert signed_in.status_code == 200
    bearer = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    for _ in range(10):
        answers = spread(lambda _i: httpx.get(f"{base}/api/v1/auth/me", headers=bearer,
                                              timeout=30), 16)
        assert {r.status_code for r in answers} == {200}
        if set(served_by(metrics, "/api/v1/auth/me")) == workers:
            break
    assert set(served_by(metrics, "/api/v1/auth/me")) == workers

    # Five wrong passwords spread over both workers, then the right one is refused: the same
    # as with one process (five attempts per username and address, five free failures).
    for username in ("officer", "leader", "auditor", "admin"):
        before = served_by(metrics, "/api/v1/auth/token")
        assert {r.status_code for r in spread(lambda _i, user=username: login(base, user, "sai"), 5,
                                              threads=5)} == {401}
        after = served_by(metrics, "/api/v1/auth/token")
        if all(after[pid] > before[pid] for pid in workers):
            break
    else:
        pytest.fail("five simultaneous logins never reached both workers")
    refused = spread(lambda _i: login(base, username, PASSWORD), 4, threads=4)
    assert {r.status_code for r in refused} == {429}
    assert all(int(r.headers["Retry-After"]) > 0 for r in refused)

    # One scheduler: the lease is held by the supervising process, every worker observes.
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            holders = connection.execute(text(
                "SELECT holder FROM lease WHERE name = 'scheduler'")).scalars().all()
            sweepers = set(connection.execute(text(
                "SELECT DISTINCT holder FROM sweep_run")).scalars().all())
    finally:
        engine.dispose()
    assert len(holders) == 1 and holders[0].split(":")[1] == str(server_pid)
    assert sweepers <= {holders[0]}
    states = [r.json()["scheduler"] for r in
              spread(lambda _i: httpx.get(f"{base}/healthz", timeout=30), 8)]
    assert all(s["mode"] == "observe" and not s["leading"] for s in states)
    assert {s["leader"] for s in states if s["checked_at"]} <= {"other_process"}
