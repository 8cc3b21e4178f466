"""Benchmark: a closed year's report served from the cache against computed, in the same run.

Issue 18: "a report of a closed year ≤ 3× /healthz" at 1,000,000 dossiers, where computing it
takes hundreds of milliseconds. The year 2025 of ``bench/reports.py``'s generator (closed:
its data are of 2025, the machine's today is later) is reported grouped by agency:

- COMPUTED: ``engine.reports.figures(...).dashboard()``, what the route computes on a miss;
- CACHED: what the route does on a hit — the data version (a primary-key read), the cached row
  (a unique-index read) and decoding its JSON (``engine.reports.cache.lookup``);
- the data version alone, to show it costs nothing measurable whatever the table's size.

Best of several interleaved rounds; the ratio computed / cached is the figure (goal: the
cached report costs like a small request, i.e. a ratio of tens to hundreds at 1M dossiers).

    .venv/bin/python bench/report_cache.py [--dossiers 1000000] [--db sqlite|postgresql|both]
                                           [--pg-url URL] [--json]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import gc  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

from sqlmodel import Session  # noqa: E402

from engine.data_version import current_version  # noqa: E402
from engine.reports import By, figures  # noqa: E402
from engine.reports import cache as report_cache  # noqa: E402


def _generator():
    """``bench/reports.py`` (its year generator and writers), loaded by path: the bench folder
    is kept off ``sys.path`` (its ``calendar.py`` would shadow the standard library's)."""
    spec = importlib.util.spec_from_file_location("bench_reports",
                                                  Path(__file__).with_name("reports.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


GEN = _generator()
YEAR = GEN.YEAR
ROUNDS = 5
CACHED_REPEATS = 20  # per round: a hit is short, time several and keep the mean


def best(fn, repeats: int = 1) -> float:
    gc.collect()
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - t0) / repeats


def measure(engine) -> dict:
    key = report_cache.CacheKey("figures", YEAR, "", report_cache.params(by=By.AGENCY))
    now = datetime.now(UTC)
    assert report_cache.cacheable(YEAR, now, By.AGENCY), "2025 must be a closed period"
    with Session(engine) as session:
        def compute() -> dict:
            return figures(session, YEAR, By.AGENCY).dashboard()

        body, hit = report_cache.cached(session, key, compute, now=now, by=By.AGENCY)
        session.rollback()
        assert not hit

        def cached() -> None:
            found = report_cache.lookup(session, key)
            assert found.hit and found.body == body
            session.rollback()  # a request's own transaction

        times: dict[str, list[float]] = {"computed": [], "cached": [], "version": []}
        for _ in range(ROUNDS):
            times["computed"].append(best(lambda: (compute(), session.rollback())))
            times["cached"].append(best(cached, CACHED_REPEATS))
            times["version"].append(best(lambda: (current_version(session),
                                                  session.rollback()), CACHED_REPEATS))
    computed, hit_s, version = (min(times[k]) for k in ("computed", "cached", "version"))
    return {"computed_s": computed, "cached_s": hit_s, "version_s": version,
            "ratio": computed / hit_s if hit_s else None,
            "received": body["totals"]["received"], "groups": len(body["groups"])}


def run(db: str, n: int, pg_url: str | None) -> dict:
    return GEN.run(db, n, pg_url, measure=measure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        if db == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / MOTCUA_TEST_DATABASE_URL)")
            continue
        r = results[f"{db}_{args.dossiers}"] = run(db, args.dossiers, args.pg_url)
        print(f"{db:10} {args.dossiers:>9,} dossiers: closed year computed "
              f"{r['computed_s'] * 1000:8.1f} ms | cached {r['cached_s'] * 1000:7.3f} ms | "
              f"ratio {r['ratio']:8.0f}x | data version {r['version_s'] * 1000:6.3f} ms | "
              f"{r['groups']} groups, {r['received']:,} received", flush=True)
    if args.json:
        print(json.dumps({**results, "ratios": {k: r["ratio"] for k, r in results.items()}},
                         default=str))


if __name__ == "__main__":
    main()
