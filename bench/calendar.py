"""Benchmark: N-working-day additions, precomputed calendar vs the obvious day-by-day loop.

Baseline (named in issue 2): a loop that walks day by day and asks ``holidays.VN`` (plus the
announced swap table it lacks: 02/01/2026 off, 10/01/2026 worked, and its make-up Saturdays)
whether each day is a working day. Both must give the same answers on 2024–2026.

    .venv/bin/python bench/calendar.py [--calls 100000] [--seed 7]

Goal: ratio ≥ 100×.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named calendar.py (as the issue asks); run as a script its folder would shadow
# the standard library's calendar module, which `holidays` imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402

import holidays  # noqa: E402

from engine.calendar import national_calendar  # noqa: E402

SWAPPED_OFF = {date(2026, 1, 2)}
EXTRA_WORKDAYS = {date(2026, 1, 10)}


def make_baseline():
    vn = holidays.VN(years=range(2024, 2028))
    workdays = set(vn.weekend_workdays) | EXTRA_WORKDAYS

    def is_working(day: date) -> bool:
        if day in workdays:
            return True
        return day.weekday() < 5 and day not in vn and day not in SWAPPED_OFF

    def add_working_days(start: date, n: int) -> date:
        day, counted = start, 0
        while counted < n:
            day += timedelta(days=1)
            if is_working(day):
                counted += 1
        return day

    return add_working_days


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    first, last = date(2024, 1, 1).toordinal(), date(2026, 11, 10).toordinal()
    cases = [(date.fromordinal(rng.randint(first, last)), rng.randint(1, 30))
             for _ in range(args.calls)]

    t0 = time.perf_counter()
    calendar = national_calendar.__wrapped__()  # include the build, uncached
    build = time.perf_counter() - t0
    add = calendar.add_working_days
    t0 = time.perf_counter()
    ours = [add(d, n) for d, n in cases]
    fast = time.perf_counter() - t0

    baseline = make_baseline()
    baseline(date(2024, 1, 1), 1)  # let holidays.VN populate its years
    t0 = time.perf_counter()
    theirs = [baseline(d, n) for d, n in cases]
    slow = time.perf_counter() - t0

    mismatches = sum(a != b for a, b in zip(ours, theirs, strict=True))
    print(f"calls: {args.calls:,}  (random start 2024-01-01..2026-11-10, n = 1..30)")
    print(f"calendar build (2015–2040, uncached): {build * 1000:.1f} ms")
    print(f"precomputed table  : {fast:.3f} s  ({fast / args.calls * 1e6:.2f} µs/call)")
    print(f"baseline day loop  : {slow:.3f} s  ({slow / args.calls * 1e6:.2f} µs/call)")
    print(f"same answers       : {args.calls - mismatches:,} / {args.calls:,}")
    print(f"speed ratio        : {slow / fast:.0f}× (goal ≥ 100×)")
    if mismatches:
        raise SystemExit("answers differ from the baseline")
    if args.json:
        print(json.dumps({
            "calls": args.calls, "build_ms": build * 1000, "table_us": fast / args.calls * 1e6,
            "baseline_us": slow / args.calls * 1e6, "mismatches": mismatches,
            "ratios": {"baseline_over_table": slow / fast},
            "goals": {"speed": {"value": slow / fast, "goal": 100, "op": ">=",
                                "met": slow / fast >= 100}}}))


if __name__ == "__main__":
    main()
