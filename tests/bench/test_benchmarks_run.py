"""The benchmarks still run, at tiny sizes (nothing is timed or compared here: performance
goals live in the benchmarks themselves). The benchmarks write rows by hand to measure a floor;
a schema change they miss — a generated column no INSERT may name, say — breaks them silently
until someone next times them. Both databases, like every storage test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_database(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """(``--db`` value, environment) for a benchmark subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "MOTCUA_TEST_DATABASE_URL"}
    if request.param == "postgresql":
        request.getfixturevalue("postgres_admin")  # skips, or fails in CI, without a server
        env["MOTCUA_TEST_DATABASE_URL"] = os.environ["MOTCUA_TEST_DATABASE_URL"]
    return request.param, env


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


def test_the_lifecycle_benchmark_runs_and_finds_no_anomaly(bench_database):
    db, env = bench_database
    out = _run(["bench/lifecycle.py", "--dossiers", "12", "--db", db, "--fires", "200"], env)
    assert f"{db}: consistency check of 12 dossiers" in out
    assert "0 anomalies" in out


def test_the_reports_benchmark_runs_and_reports_a_ratio(bench_database):
    db, env = bench_database
    out = _run(["bench/reports.py", "--dossiers", "3000", "--small", "0", "--db", db], env)
    line = next(line for line in out.splitlines() if line.startswith(db))
    assert "3,000 dossiers" in line and "ratio" in line and "766 rate" in line


def test_the_outbox_benchmark_runs_and_delivers_each_message_once(bench_database):
    db, env = bench_database
    out = _run(["bench/outbox.py", "--messages", "60", "--batch", "25", "--rounds", "1",
                "--db", db], env)
    line = next(line for line in out.splitlines() if line.startswith(f"{db}:"))
    assert "60 messages" in line and "ratio" in line and "duplicates 0" in line


def test_the_sweep_benchmark_runs_and_reports_a_ratio(bench_database):
    db, env = bench_database
    out = _run(["bench/sweep.py", "--dossiers", "600", "--db", db], env)
    line = next(line for line in out.splitlines() if line.startswith(db))
    assert "600 dossiers" in line and "ratio" in line
    assert "0 judged, 0 new" in line  # the steady sweep: nothing to judge again, nothing new
