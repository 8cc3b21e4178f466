"""Every benchmark, one JSON object: what ``make bench`` runs.

Each benchmark script runs in its own subprocess with ``--json`` (its human output, forwarded
to standard error as it goes, then one JSON line of its figures, ratios and goals), so that
one crash is reported rather than fatal. Standard output gets ONE JSON object::

    {"machine": {cores, load, python, sqlite, postgresql, git commit, ...},
     "benchmarks": {name: {figures..., "ratios": {...},
                           "goals": {goal: {"value", "goal", "op", "met"}}, "seconds"}},
     "failed": [names], "unmet": ["name.goal", ...], "run": {databases, sizes, seconds}}

The exit status is 1 when a benchmark crashed, timed out or printed no JSON object; an unmet
goal is a finding, not a failure: it is listed in ``unmet``.

PostgreSQL runs beside SQLite when ``MOTCUA_BENCH_DATABASE_URL`` or
``MOTCUA_TEST_DATABASE_URL`` is set (each script makes and drops its own schema there).

    .venv/bin/python bench/all.py [--only NAME[,NAME]] [--skip NAME[,NAME]] [--quick]
                                  [--db auto|sqlite|both] [--timeout SECONDS]
                                  [--extra NAME=SCRIPT]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py would shadow the standard library's calendar module: drop this folder.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import collections  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import sqlite3  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Bench:
    """One script, its ``make bench`` arguments and its tiny ``--quick`` ones (the sizes of
    tests/bench: they check that it runs and reports, not how fast)."""

    script: str
    args: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    database: bool = True  # takes --db and the PostgreSQL URL
    optional: bool = False  # skipped, not failed, while its script does not exist
    kept_database: bool = False  # takes --database-url: a generated database, kept and reused


BENCHES: dict[str, Bench] = {
    "calendar": Bench("bench/calendar.py", quick=("--calls", "2000"), database=False),
    "lifecycle": Bench("bench/lifecycle.py", quick=("--dossiers", "12", "--fires", "200")),
    "printouts": Bench("bench/printouts.py", database=False,
                       quick=("--receipts", "3", "--batch", "4", "--naive-batch", "2",
                              "--workers", "1", "--skip-soffice")),
    "reports": Bench("bench/reports.py", ("--dossiers", "100000", "--small", "20000"),
                     ("--dossiers", "3000", "--small", "0")),  # 1,000,000: run by hand
    "report_cache": Bench("bench/report_cache.py", ("--dossiers", "100000"),
                          ("--dossiers", "3000"), optional=True),
    "outbox": Bench("bench/outbox.py",
                    quick=("--messages", "60", "--batch", "25", "--rounds", "1")),
    "sweep": Bench("bench/sweep.py", quick=("--dossiers", "600")),
    "uploads": Bench("bench/uploads.py",
                     quick=("--submissions", "2", "--rounds", "1", "--big-mb", "2")),
    # the load harness (issue 18): a small database, a short run (1,000,000: run by hand)
    "load": Bench("bench/load.py", ("--dossiers", "20000", "--duration", "10", "--warmup", "2"),
                  ("--dossiers", "500", "--duration", "2", "--warmup", "0.5"),
                  database=False, optional=True, kept_database=True),
}

#: The load harness's database when PostgreSQL is given: on the same server, its own database
#: (never the test database, nor ``motcua_load``, which may hold a million dossiers that another
#: N would make it regenerate); kept, and reused by the next run with the same size.
LOAD_DATABASE = "motcua_bench_load"


def say(text: str) -> None:
    """Progress for people: standard error, standard output being the JSON object."""
    print(text, file=sys.stderr, flush=True)


def shown(command: list[str]) -> str:
    """The command as printed and kept in the JSON: the script onwards, no password."""
    return " ".join(re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", a) for a in command[1:])


def postgres_url() -> str | None:
    for name in ("MOTCUA_BENCH_DATABASE_URL", "MOTCUA_TEST_DATABASE_URL"):
        if os.environ.get(name, "").strip():
            return os.environ[name].strip()
    return None


def postgres_version(url: str) -> str:
    """The server's version, or why it could not be asked (the benchmarks will say more)."""
    from sqlalchemy import create_engine, text

    from engine.settings import normalize_database_url

    engine = create_engine(normalize_database_url(url), connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            return connection.execute(text("SHOW server_version")).scalar_one()
    except Exception as exc:  # reported in the JSON, not raised
        return f"unreachable: {type(exc).__name__}"
    finally:
        engine.dispose()


def kept_database_url(pg_url: str | None) -> str:
    """Where the load harness generates its dossiers: :data:`LOAD_DATABASE` beside the
    PostgreSQL URL, else a SQLite file in the temporary folder; both outlive the run."""
    if pg_url:
        from sqlalchemy import make_url

        return make_url(pg_url).set(database=LOAD_DATABASE).render_as_string(
            hide_password=False)
    return f"sqlite:///{Path(tempfile.gettempdir()) / (LOAD_DATABASE + '.db')}"


def git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def machine(pg_url: str | None) -> dict[str, Any]:
    """What the figures were measured on: a ratio is only comparable on a like machine."""
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(), "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "postgresql": postgres_version(pg_url) if pg_url else None,
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(status) if status is not None else None,
            "started_at": datetime.now(UTC).isoformat(timespec="seconds")}


def finite(value: Any) -> Any:
    """Floats to five significant digits (more is noise on a shared machine), and NaN and
    infinities (a ratio over a zero time) as null: JSON has no word for them."""
    if isinstance(value, float):
        return float(f"{value:.5g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    return value


def stop(process: subprocess.Popen) -> None:
    """Interrupt a benchmark as Ctrl-C would, so that it drops its PostgreSQL schema and stops
    the server it started; kill its whole process group if it is still there after a while."""
    try:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_one(command: list[str], env: dict[str, str], timeout: float) -> dict[str, Any]:
    """Run one benchmark; its figures, or why there are none (``"error"``).

    Its output is echoed to standard error line by line, one line behind, so that the last
    line — the JSON object — is kept rather than echoed."""
    started = time.perf_counter()
    tail: collections.deque[str] = collections.deque(maxlen=30)
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)

    def echo_stderr() -> None:
        for line in process.stderr:
            tail.append(line.rstrip("\n"))
            sys.stderr.write(line)
            sys.stderr.flush()

    reader = threading.Thread(target=echo_stderr, daemon=True)
    reader.start()
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        stop(process)

    timer = threading.Timer(timeout, kill)
    timer.start()
    held: str | None = None
    try:
        for line in process.stdout:
            if held is not None:
                say(held.rstrip("\n"))
                tail.append(held.rstrip("\n"))
            held = line
        returncode = process.wait()
    except BaseException:  # Ctrl-C: the benchmark runs in its own session, away from the
        stop(process)      # terminal's signal; pass it on
        raise
    finally:
        timer.cancel()
        reader.join(timeout=10)
    seconds = round(time.perf_counter() - started, 1)
    figures = None
    try:
        figures = json.loads(held or "")
    except json.JSONDecodeError:
        if held and held.strip():
            say(held.rstrip("\n"))
            tail.append(held.rstrip("\n"))
    if returncode != 0 or not isinstance(figures, dict):
        error = (f"timed out after {timeout:.0f} s" if timed_out.is_set()
                 else f"exit status {returncode}" if returncode != 0
                 else "no JSON object on its last line")
        return {"error": error, "seconds": seconds, "command": shown(command),
                "output_tail": list(tail)[-12:]}
    return {**figures, "seconds": seconds}


def selected(args: argparse.Namespace) -> dict[str, Bench]:
    """The benchmarks to run, in order: ``--only`` (or all), then the extras, less ``--skip``."""
    extra = {}
    for spec in args.extra or []:
        name, _, script = spec.partition("=")
        if not name or not script:
            raise SystemExit(f"--extra wants NAME=SCRIPT, not {spec!r}")
        extra[name] = Bench(script, database=False)
    names = [n for part in args.only or [] for n in part.split(",") if n]
    skipped = {n for part in args.skip or [] for n in part.split(",") if n}
    unknown = (set(names) | skipped) - set(BENCHES) - set(extra)
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {sorted(unknown)}; known: {sorted(BENCHES)}")
    known = {**BENCHES, **extra}
    chosen = {n: known[n] for n in names} if names else dict(BENCHES)
    return {n: b for n, b in {**chosen, **extra}.items() if n not in skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", help="these benchmarks (comma-separated)")
    parser.add_argument("--skip", action="append", help="not these (comma-separated)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes: checks that everything runs and reports")
    parser.add_argument("--db", choices=("auto", "sqlite", "postgresql", "both"),
                        default="auto", help="auto: PostgreSQL too when "
                        "MOTCUA_BENCH_DATABASE_URL or MOTCUA_TEST_DATABASE_URL is set")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds before a benchmark is killed and reported as failed")
    parser.add_argument("--extra", action="append", metavar="NAME=SCRIPT",
                        help="also run SCRIPT --json as benchmark NAME")
    args = parser.parse_args()

    pg_url = postgres_url() if args.db != "sqlite" else None
    if args.db in ("postgresql", "both") and not pg_url:
        raise SystemExit(f"--db {args.db}: set MOTCUA_BENCH_DATABASE_URL or "
                         "MOTCUA_TEST_DATABASE_URL")
    databases = (["postgresql"] if args.db == "postgresql"
                 else ["sqlite", "postgresql"] if pg_url else ["sqlite"])
    db_arg = "both" if len(databases) == 2 else databases[0]
    env = {k: v for k, v in os.environ.items()
           if k not in ("MOTCUA_BENCH_DATABASE_URL", "MOTCUA_TEST_DATABASE_URL")}
    if pg_url:  # both names: the scripts read the test one, the load harness the bench one
        env["MOTCUA_TEST_DATABASE_URL"] = env["MOTCUA_BENCH_DATABASE_URL"] = pg_url
    benches = selected(args)
    started = time.perf_counter()
    out: dict[str, Any] = {"machine": machine(pg_url), "benchmarks": {}, "failed": [],
                           "unmet": []}
    for i, (name, bench) in enumerate(benches.items(), start=1):
        if bench.optional and not (ROOT / bench.script).exists():
            say(f"\n== [{i}/{len(benches)}] {name}: {bench.script} does not exist (yet): skipped")
            continue
        command = [sys.executable, bench.script, *(bench.quick if args.quick else bench.args)]
        if bench.database:
            command += ["--db", db_arg]
        if bench.kept_database:
            command += ["--database-url", kept_database_url(pg_url)]
        command.append("--json")
        say(f"\n== [{i}/{len(benches)}] {name}: {shown(command)}")
        result = out["benchmarks"][name] = finite(run_one(command, env, args.timeout))
        if "error" in result:
            out["failed"].append(name)
            say(f"== {name}: FAILED ({result['error']}) after {result['seconds']} s")
            continue
        goals = result.get("goals", {})
        unmet = [goal for goal, g in goals.items() if not g.get("met")]
        out["unmet"] += [f"{name}.{goal}" for goal in unmet]
        say(f"== {name}: {len(goals) - len(unmet)}/{len(goals)} goals met "
            f"in {result['seconds']} s")
    out["run"] = {"databases": databases,
                  "sizes": "quick" if args.quick else "make bench",
                  "seconds": round(time.perf_counter() - started, 1),
                  "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    say(f"\n{len(out['benchmarks']) - len(out['failed'])} benchmarks ran, "
        f"failed: {out['failed'] or 'none'}, unmet goals: {out['unmet'] or 'none'}")
    print(json.dumps(out, indent=2, ensure_ascii=False))
    sys.exit(1 if out["failed"] else 0)


if __name__ == "__main__":
    main()
