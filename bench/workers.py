"""Throughput of ``motcua serve`` with 1 and with 2 workers on PostgreSQL, side by side.

Starts ``motcua serve --workers N`` on one fresh PostgreSQL schema for each N, waits until
every worker has started, then drives it with ``wrk`` (Debian package ``wrk``: a C load
generator, so the client takes little of the cores the workers share) at ``--connections``
for ``--seconds`` on two routes: ``GET /healthz`` (no database) and the clerk's receipt
``POST /api/v1/dossiers`` (one transaction: number, journal event, messages). Prints
requests/s and p50 per route and run, and each run's requests/s as a ratio to the median of
the fewest workers' runs in the same invocation (``--workers 1,2,1,2`` alternates, for a
busy host).

Run: ``python bench/workers.py [--workers 1,2] [--seconds 10] [--connections 8]
[--pg-url URL]`` (default ``MOTCUA_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py would shadow the standard library's calendar: drop this folder, add the root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

import httpx  # noqa: E402

from bench.uploads import database, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mat-khau-bench-workers"
EXAMPLE = (ROOT / "examples" / "receive.json").read_text(encoding="utf-8")


@contextmanager
def server(url: str, workers: int) -> Iterator[str]:
    """``motcua serve --workers N`` on ``url`` until every worker has started."""
    port, log = free_port(), tempfile.NamedTemporaryFile(suffix=".log")  # noqa: SIM115
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO_PASSWORD": PASSWORD,
           "MOTCUA_ARGON2_PROFILE": "test", "MOTCUA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen([str(Path(sys.executable).parent / "motcua"), "serve",
                                "--workers", str(workers), "--port", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while Path(log.name).read_text().count("Application startup complete") < workers:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("motcua serve did not start:\n" + Path(log.name).read_text())
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def wrk(base: str, path: str, seconds: int, connections: int, script: str | None = None
        ) -> dict[str, float]:
    """Requests/s and p50 (ms) of one ``wrk`` run; non-2xx answers stop the benchmark."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if script:
        command += ["-s", script]
    out = subprocess.run([*command, base + path], capture_output=True, text=True,
                         check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{path}: non-2xx answers\n{out}")
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)]
    return {"per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": round(float(p50.group(1)) * scale, 2)}


def receipt_script(base: str, folder: str) -> str:
    """A wrk script posting the example receipt as the demo clerk."""
    token = httpx.post(base + "/api/v1/auth/token",
                       data={"username": "clerk", "password": PASSWORD}).json()["access_token"]
    path = Path(folder) / "receipt.lua"
    path.write_text(f'wrk.method = "POST"\nwrk.body = [==[{EXAMPLE}]==]\n'
                    'wrk.headers["Content-Type"] = "application/json"\n'
                    f'wrk.headers["Authorization"] = "Bearer {token}"\n', encoding="utf-8")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    args = parser.parse_args()
    if not args.pg_url or not shutil.which("wrk"):
        raise SystemExit("needs --pg-url (or MOTCUA_TEST_DATABASE_URL) and wrk (apt-get "
                         "install wrk)")
    counts = [int(x) for x in args.workers.split(",")]  # e.g. 1,2,1,2: alternate on a busy host
    runs: list[dict] = []
    with database("postgresql", args.pg_url) as url, \
            tempfile.TemporaryDirectory(prefix="motcua-bench-workers-") as folder:
        for n in counts:
            with server(url, n) as base:
                wrk(base, "/healthz", 2, args.connections)  # warm-up: imports, pools
                run = {"workers": n,
                       "healthz": wrk(base, "/healthz", args.seconds, args.connections)}
                script = receipt_script(base, folder)
                wrk(base, "/api/v1/dossiers", 2, args.connections, script)
                run["receipt"] = wrk(base, "/api/v1/dossiers", args.seconds, args.connections,
                                     script)
                runs.append(run)
    fewest = min(counts)
    for route in ("healthz", "receipt"):
        base_rate = statistics.median(r[route]["per_s"] for r in runs if r["workers"] == fewest)
        for run in runs:
            figures = run[route]
            figures["ratio"] = round(figures["per_s"] / base_rate, 2)
            print(f"workers={run['workers']} {route:8} {figures['per_s']:8.1f} req/s  p50 "
                  f"{figures['p50_ms']:7.2f} ms  x{figures['ratio']} of {fewest} worker(s) "
                  "(median)", flush=True)
    print(json.dumps({"connections": args.connections, "seconds": args.seconds,
                      "cores": len(os.sched_getaffinity(0)),
                      "load_average": os.getloadavg(), "runs": runs}))


if __name__ == "__main__":
    main()
