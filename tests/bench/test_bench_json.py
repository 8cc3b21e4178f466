"""``bench/all.py`` (``make bench``): every benchmark in its own process, ONE JSON object on
standard output with each one's figures, ratios and goals, and a crash reported in ``failed``
with a non-zero exit rather than losing the other figures. Tiny sizes (``--quick``): nothing is
timed or compared here, only the shape and the bookkeeping. Both databases, like every storage
test."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
URL_VARIABLES = ("MOTCUA_TEST_DATABASE_URL", "MOTCUA_BENCH_DATABASE_URL")
DATABASE_BENCHMARKS = ("lifecycle", "reports", "outbox", "sweep", "uploads")


def run_all(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict, str]:
    """(exit status, the parsed standard output, standard error) of ``bench/all.py``."""
    if env is None:
        env = {k: v for k, v in os.environ.items() if k not in URL_VARIABLES}
    done = subprocess.run([sys.executable, "bench/all.py", "--quick", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=900)
    try:
        out = json.loads(done.stdout)  # the whole of standard output: one object, nothing else
    except json.JSONDecodeError:
        pytest.fail(f"standard output is not one JSON object:\n{done.stdout[-3000:]}\n"
                    f"{done.stderr[-3000:]}")
    return done.returncode, out, done.stderr


def assert_reported(bench: dict) -> None:
    """Figures, ratios, and goals each with its value, target and verdict."""
    assert "error" not in bench, bench
    assert bench["ratios"] and all(isinstance(v, float) for v in bench["ratios"].values())
    assert bench["goals"]
    for goal in bench["goals"].values():
        assert set(goal) >= {"value", "goal", "op", "met"}
        assert goal["op"] in (">=", "<=") and isinstance(goal["met"], bool)
        met = goal["value"] >= goal["goal"] if goal["op"] == ">=" else goal["value"] <= goal["goal"]
        assert goal["met"] == met
    assert bench["seconds"] >= 0


def test_one_benchmark_gives_one_json_object_with_the_machine_and_its_goals():
    status, out, err = run_all("--only", "calendar")
    assert status == 0, err[-3000:]
    assert set(out) >= {"machine", "benchmarks", "failed", "unmet", "run"}
    machine = out["machine"]
    assert machine["cores"] >= 1 and machine["python"] and machine["sqlite"]
    assert machine["postgresql"] is None  # no URL given
    assert len(machine["git_commit"] or "0" * 40) == 40
    assert list(out["benchmarks"]) == ["calendar"] and out["failed"] == []
    calendar = out["benchmarks"]["calendar"]
    assert_reported(calendar)
    assert calendar["calls"] == 2000 and calendar["mismatches"] == 0
    assert out["unmet"] == ([] if calendar["goals"]["speed"]["met"] else ["calendar.speed"])
    assert "speed ratio" in err  # the human output went to standard error


def test_a_crashing_benchmark_is_listed_as_failed_and_the_others_still_report(tmp_path):
    crash = tmp_path / "crash.py"
    crash.write_text("print('starting')\nraise SystemExit('injected failure')\n")
    mute = tmp_path / "mute.py"  # exits 0 but prints no figures: a failure too
    mute.write_text("print('done, but no figures')\n")
    status, out, _ = run_all("--only", "calendar", "--extra", f"crash={crash}",
                             "--extra", f"mute={mute}")
    assert status != 0
    assert out["failed"] == ["crash", "mute"]
    assert out["benchmarks"]["crash"]["error"] == "exit status 1"
    assert "injected failure" in out["benchmarks"]["crash"]["output_tail"]
    assert out["benchmarks"]["mute"]["error"] == "no JSON object on its last line"
    assert_reported(out["benchmarks"]["calendar"])


def test_a_benchmark_past_its_timeout_is_interrupted_so_it_cleans_up_and_is_failed(tmp_path):
    cleaned = tmp_path / "cleaned"
    slow = tmp_path / "slow.py"
    slow.write_text("import pathlib, time\ntry:\n    time.sleep(120)\nfinally:\n"
                    f"    pathlib.Path({str(cleaned)!r}).write_text('schema dropped')\n")
    status, out, _ = run_all("--only", "slow", "--extra", f"slow={slow}", "--timeout", "3")
    assert status != 0 and out["failed"] == ["slow"] and list(out["benchmarks"]) == ["slow"]
    assert out["benchmarks"]["slow"]["error"] == "timed out after 3 s"
    assert cleaned.read_text() == "schema dropped"  # interrupted (its finally ran), not killed


def test_the_printouts_benchmark_reports_its_ratios():
    status, out, err = run_all("--only", "printouts")
    assert status == 0, err[-3000:]
    printouts = out["benchmarks"]["printouts"]
    assert_reported(printouts)
    assert set(printouts["goals"]) == {"warm_receipt", "counter_flow_s"}


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    """(``--db`` value, environment) for ``bench/all.py``."""
    env = {k: v for k, v in os.environ.items() if k not in URL_VARIABLES}
    if request.param == "postgresql":
        request.getfixturevalue("postgres_admin")  # skips, or fails in CI, without a server
        env["MOTCUA_BENCH_DATABASE_URL"] = os.environ["MOTCUA_TEST_DATABASE_URL"]
    return request.param, env


def test_every_database_benchmark_reports_its_ratios_on_the_database_asked(database):
    db, env = database
    status, out, err = run_all("--only", ",".join(DATABASE_BENCHMARKS), "--db", db, env=env)
    assert status == 0, err[-3000:]
    assert out["failed"] == [] and out["run"]["databases"] == [db]
    assert (out["machine"]["postgresql"] is None) == (db == "sqlite")
    for name in DATABASE_BENCHMARKS:
        bench = out["benchmarks"][name]
        assert_reported(bench)
        assert all(key.startswith(db) for key in bench["ratios"]), (name, bench["ratios"])
    assert out["benchmarks"]["lifecycle"]["goals"][f"{db}_anomalies"]["value"] == 0
    assert out["benchmarks"]["outbox"]["goals"][f"{db}_duplicates"]["value"] == 0
    uploads = out["benchmarks"]["uploads"][db]  # beside its goal, the bare HTTP floor ran
    assert uploads["bare_http_per_s"] > 0 and uploads["ratio_to_bare_http"] > 0
    # and what each side spent in CPU per submission (the server computes; the floor waits)
    # (in 10 ms clock ticks: two quick submissions may leave the bare floor at 0)
    assert uploads["server_cpu_ms"] > 0
    assert uploads["bare_http_cpu_ms"] >= 0 and uploads["floor_cpu_ms"] >= 0
