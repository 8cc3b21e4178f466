"""The command line: ``motcua scheduler`` as its own process (stops cleanly on SIGTERM or
Ctrl-C and gives the lease up), ``motcua scheduler jobs``, and ``motcua serve`` with the
scheduler inside by default and ``--no-scheduler``."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session
from typer.testing import CliRunner

from engine.db import make_engine
from engine.leases import Lease, holder_of
from service.cli import app

EXE = shutil.which("motcua", path=str(Path(sys.executable).parent)) or "motcua"


def wait_until(condition: Callable[[], object], timeout: float, what: str,
               process: subprocess.Popen | None = None) -> object:
    """Poll ``condition`` (a subprocess is doing the work) until it holds or ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended ({process.returncode}) before {what}: "
                                 f"{process.stdout.read() if process.stdout else ''}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def lease_holder(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return holder_of(session, "scheduler", now=datetime.now(UTC))
    finally:
        engine.dispose()


def start(args: list[str], url: str, cwd: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([EXE, *args], cwd=cwd, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            env={**os.environ, "MOTCUA_DATABASE_URL": url, **env})


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        output, _ = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, output


def test_scheduler_runs_leads_and_stops_on_sigterm_giving_the_lease_up(database_url,
                                                                       tmp_path):
    process = start(["scheduler"], database_url, tmp_path)
    holder = wait_until(lambda: lease_holder(database_url), 30, "the lease", process)
    assert f":{process.pid}:" in holder
    code, output = stop(process)
    assert code == 0, output
    assert "đang chạy" in output and "đã dừng và trả quyền chủ trì" in output
    assert "Traceback" not in output
    assert lease_holder(database_url) is None
    engine = make_engine(database_url)
    with Session(engine) as session:  # released, not deleted: the row says who held it last
        assert session.get(Lease, "scheduler").holder == holder
    engine.dispose()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_ctrl_c_stops_the_scheduler_cleanly_too(database_url, tmp_path):
    process = start(["scheduler"], database_url, tmp_path)
    wait_until(lambda: lease_holder(database_url), 30, "the lease", process)
    code, output = stop(process, signal.SIGINT)
    assert code == 0, output
    assert "SIGINT" in output and "Traceback" not in output
    assert lease_holder(database_url) is None


def test_scheduler_refuses_an_unmigrated_database_with_a_clear_message(empty_database_url,
                                                                       tmp_path):
    done = subprocess.run([EXE, "scheduler"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MOTCUA_DATABASE_URL": empty_database_url,
                                           "MOTCUA_DB_WAIT_SECONDS": "0"})
    assert done.returncode == 1
    assert "chạy 'motcua db upgrade'" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_setting_stops_the_scheduler_before_it_starts(tmp_path):
    done = subprocess.run([EXE, "scheduler"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MOTCUA_SWEEP_MINUTES": "-5"})
    assert done.returncode == 2
    assert "MOTCUA_SWEEP_MINUTES" in done.stderr and "Traceback" not in done.stderr


def test_serve_refuses_a_bad_scheduler_setting_before_starting(tmp_path):
    done = subprocess.run([EXE, "serve"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "MOTCUA_LEASE_TTL_SECONDS": "5"})
    assert done.returncode == 2
    assert "MOTCUA_LEASE_TTL_SECONDS" in done.stderr and "Traceback" not in done.stderr


def test_the_command_line_loads_apscheduler_only_to_run_the_scheduler():
    probe = ("import sys; import service.cli, service.app, service.metrics; "
             "print(sorted(m for m in sys.modules if m.startswith(('apscheduler', 'uvicorn'))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).parents[3])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_jobs_lists_ids_triggers_and_next_runs(database_url, monkeypatch):
    monkeypatch.setenv("MOTCUA_DATABASE_URL", database_url)
    result = CliRunner().invoke(app, ["scheduler", "jobs"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for job, trigger in [("lease", "interval[0:00:10]"), ("sweep", "interval[0:05:00]"),
                         ("deliver", "interval[0:00:05]"),
                         ("snapshot", "cron[hour='0', minute='10']")]:
        assert any(line.split()[0] == job and trigger in line and "lần tới" in line
                   for line in lines)
    assert "Tiến trình chủ trì: không có" in result.output
    assert "Lượt quét thành công gần nhất: chưa có" in result.output


def test_jobs_as_json_for_scripts(database_url, monkeypatch):
    monkeypatch.setenv("MOTCUA_DATABASE_URL", database_url)
    monkeypatch.setenv("MOTCUA_SWEEP_MINUTES", "2")
    result = CliRunner().invoke(app, ["scheduler", "jobs", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [j["id"] for j in listed["jobs"]] == ["lease", "sweep", "deliver", "snapshot"]
    assert listed["jobs"][1]["trigger"] == "interval[0:02:00]"
    assert listed["jobs"][3]["who"] == "leader"
    assert datetime.fromisoformat(listed["jobs"][3]["next_run"]).strftime("%H:%M") == "00:10"
    assert listed["leader"] is None and listed["database_reachable"] is True


def test_jobs_still_lists_when_the_database_is_unreachable(monkeypatch, tmp_path):
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    result = CliRunner().invoke(app, ["scheduler", "jobs"])
    assert result.exit_code == 0, result.output
    assert "sweep" in result.output and "Không đọc được cơ sở dữ liệu" in result.output


# ----- motcua serve ---------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz(port: int) -> dict | None:
    try:
        response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_runs_the_scheduler_inside_and_no_scheduler_leaves_it_to_another_process(
        database_url, tmp_path):
    port = free_port()
    server = start(["serve", "--port", str(port)], database_url, tmp_path)
    try:
        body = wait_until(lambda: (h := healthz(port)) and h["scheduler"]["leading"] and h,
                          90, "the in-process scheduler to lead", server)
        assert body["scheduler"]["mode"] == "lead" and body["scheduler"]["running"]
        assert f":{server.pid}:" in lease_holder(database_url)
    finally:
        code, output = stop(server)
    # uvicorn shuts the app down (its lifespan stops the scheduler), then re-raises the signal.
    assert code in (0, -signal.SIGTERM) and "Application shutdown complete" in output, output
    assert "chạy trong tiến trình này" in output
    assert lease_holder(database_url) is None  # uvicorn's shutdown stopped the scheduler

    port = free_port()
    scheduler = start(["scheduler"], database_url, tmp_path)
    server = start(["serve", "--port", str(port), "--no-scheduler"], database_url, tmp_path)
    try:
        wait_until(lambda: lease_holder(database_url), 30, "the scheduler's lease", scheduler)
        body = wait_until(lambda: (h := healthz(port)) and h["scheduler"]["leader"] and h,
                          90, "the web process to see the leader", server)
        assert body["scheduler"]["mode"] == "observe"
        assert body["scheduler"]["leader"] == "other_process"
        assert not body["scheduler"]["leading"]
        assert f":{scheduler.pid}:" in lease_holder(database_url)
    finally:
        code, output = stop(server)
        stop(scheduler)
    assert code in (0, -signal.SIGTERM) and "--no-scheduler" in output
