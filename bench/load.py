"""Load harness: a counter day's mix of requests against a running ``motcua serve``, with
each operation's p50 as a ratio to ``/healthz`` measured in the same run.

The mix (weights in :data:`MIX`): receipts at the counter (``POST /api/v1/dossiers``), the
officer's inbox (``GET /api/v1/dossiers``), dossier pages, lifecycle actions (the dossiers
received in this run taken along transfer → forward → finish → return, by the clerk, the
officer and the leader), receipt PDFs, citizens' lookups (code and secret), and the auditor's
reports (the last closed year, and the current month) — interleaved with ``/healthz`` at the
same concurrency, so that every ratio compares requests that met the same machine.

The database is generated once by ``bench/load_data.py`` (N dossiers on the demo agencies
with their events and steps, ~9 % not ended; kept and reused while N and the seed are the
same) and migrated to head on every start. By default the harness starts ``motcua serve`` on
a free port against it (``--no-scheduler``: the request path alone; ``--scheduler`` to keep
the sweeps and deliveries in), or drives ``--url`` of one already running (then the demo
users' password is ``--password``/``MOTCUA_DEMO_PASSWORD``).

    .venv/bin/python bench/load.py [--database-url postgresql://postgres@127.0.0.1:5432/motcua_load]
        [--dossiers 1000000] [--concurrency 8] [--duration 60] [--warmup 5] [--json]
        [--url http://127.0.0.1:PORT] [--serve-args "--workers 2"] [--regenerate]

Goals at 1,000,000 dossiers, c=8 (issue 18): inbox p50 ≤ 3× ``/healthz`` p50, dossier page
≤ 3×, receipt ≤ 5×, the closed year's report ≤ 3×. Exit status 0 whatever the goals say (a
harness measures; ``--strict`` exits 1 when a request failed).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path and bench/calendar.py would shadow the
# standard library's calendar module; the repository root lets ``bench.reports`` import.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shlex  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import deque  # noqa: E402
from collections.abc import Awaitable, Callable  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date, datetime  # noqa: E402

import httpx  # noqa: E402

from engine.timezone import VN_TZ  # noqa: E402

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/motcua_load"
PASSWORD = "motcua-load"  # the demo users' password in a generated database
EXAMPLE = json.loads((ROOT / "examples" / "receive.json").read_text(encoding="utf-8"))

#: A counter day: relative weights of the operations; ``healthz`` is the baseline, drawn like
#: the others so that it meets the same queue.
MIX = {"healthz": 15, "inbox": 20, "detail": 20, "receipt": 10, "action": 10, "pdf": 2,
       "lookup": 15, "report_year": 2, "report_month": 2}

#: (operation, goal: p50 ≤ goal × /healthz p50) — issue 18, at 1M dossiers and c=8.
GOALS = (("inbox", 3.0), ("detail", 3.0), ("receipt", 5.0), ("report_year", 3.0))

#: The path a dossier received in this run is taken along, one action per request.
PATH = (("clerk", "transfer", {}), ("officer", "forward", {}), ("leader", "finish", {}),
        ("clerk", "return_result", {"payload": {"collected_by": "Nguyễn Thị Mai"}}))


# ----- the server -----------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``motcua serve`` on a free port against ``database_url`` (which it migrates and whose
    catalogue it loads, as it always does), stopped on exit."""

    def __init__(self, database_url: str, password: str, scheduler: bool,
                 extra_args: list[str]) -> None:
        self.database_url, self.password = database_url, password
        self.args = ([] if scheduler else ["--no-scheduler"]) + extra_args
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        exe = shutil.which("motcua", path=str(Path(sys.executable).parent)) or "motcua"
        port = free_port()
        self.folder = tempfile.mkdtemp(prefix="motcua-load-")
        env = {**os.environ, "MOTCUA_DATABASE_URL": self.database_url,
               "MOTCUA_DEMO_PASSWORD": self.password,
               "MOTCUA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
        self.log = open(Path(self.folder) / "server.log", "w")  # closed in __exit__
        self.process = subprocess.Popen([exe, "serve", "--port", str(port), *self.args],
                                        env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                        cwd=self.folder)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 300  # a migration over 1M rows may build indexes
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    return base
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("motcua serve did not start:\n" + self.tail())
            time.sleep(0.3)

    def tail(self) -> str:
        self.log.flush()
        return (Path(self.folder) / "server.log").read_text()[-4000:]

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)


# ----- measuring ------------------------------------------------------------------------------

@dataclass
class Stats:
    """One operation's latencies (seconds) and its answers by status."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)  # the first few, for the report

    def record(self, seconds: float, status: int, detail: str = "") -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1
        if not 200 <= status < 300 and len(self.failures) < 5:
            self.failures.append(f"{status} {detail[:300]}")

    @property
    def errors(self) -> int:
        return sum(n for s, n in self.statuses.items() if not 200 <= s < 300)

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Context:
    """What the operations share: tokens, the dossiers to read, and the run's own dossiers
    waiting for their next action or their receipt print."""

    http: httpx.AsyncClient
    tokens: dict[str, dict[str, str]]
    officer_codes: list[str]
    lookup_codes: list[tuple[str, str]]  # (code, secret)
    rng: random.Random
    today: date
    pipeline: list[deque[str]] = field(default_factory=lambda: [deque() for _ in PATH])
    printable: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    received: int = 0


async def op_healthz(ctx: Context) -> httpx.Response:
    return await ctx.http.get("/healthz")


async def op_inbox(ctx: Context) -> httpx.Response:
    return await ctx.http.get("/api/v1/dossiers", headers=ctx.tokens["officer"])


async def op_detail(ctx: Context) -> httpx.Response:
    code = ctx.rng.choice(ctx.officer_codes)
    return await ctx.http.get(f"/api/v1/dossiers/{code}", headers=ctx.tokens["officer"])


async def op_receipt(ctx: Context) -> httpx.Response:
    ctx.received += 1
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"],
                                     "name": f"Nguyễn Văn Tải {ctx.received}",
                                     "phone": f"09{ctx.rng.randrange(10**8):08d}"}}
    headers = {**ctx.tokens["clerk"], "Idempotency-Key": str(uuid.uuid4())}
    response = await ctx.http.post("/api/v1/dossiers", json=body, headers=headers)
    if response.status_code == 201:
        code = response.json()["code"]
        ctx.pipeline[0].append(code)
        ctx.printable.append(code)
        ctx.lookup_codes.append((code, response.json()["secret"]))
    return response


async def op_action(ctx: Context) -> httpx.Response:
    """The next action of one of this run's dossiers (the furthest along first, so that the
    path's every action is taken); without one waiting, a receipt feeds the path."""
    stage = next((n for n in reversed(range(len(PATH))) if ctx.pipeline[n]), None)
    if stage is None:
        return await op_receipt(ctx)
    code = ctx.pipeline[stage].popleft()
    user, action, body = PATH[stage]
    response = await ctx.http.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                                   headers=ctx.tokens[user])
    if response.status_code == 200 and stage + 1 < len(PATH):
        ctx.pipeline[stage + 1].append(code)
    return response


async def op_pdf(ctx: Context) -> httpx.Response:
    """A receipt printed again at the counter (Mẫu 01) of a dossier received in this run."""
    if not ctx.printable:
        await op_receipt(ctx)
    code = ctx.rng.choice(ctx.printable)
    return await ctx.http.get(f"/api/v1/dossiers/{code}/documents/receipt.pdf",
                              headers=ctx.tokens["clerk"])


async def op_lookup(ctx: Context) -> httpx.Response:
    code, secret = ctx.rng.choice(ctx.lookup_codes)
    return await ctx.http.get(f"/api/v1/public/dossiers/{code}", params={"secret": secret})


async def op_report_year(ctx: Context) -> httpx.Response:
    """The last closed year's figures for every agency the auditor is granted."""
    year = ctx.today.year - 1
    return await ctx.http.get("/api/v1/reports", headers=ctx.tokens["auditor"],
                              params={"from": f"{year}-01-01", "to": f"{year}-12-31"})


async def op_report_month(ctx: Context) -> httpx.Response:
    """The current month so far: an open period, computed from the rows."""
    return await ctx.http.get("/api/v1/reports", headers=ctx.tokens["auditor"],
                              params={"from": ctx.today.replace(day=1).isoformat(),
                                      "to": ctx.today.isoformat()})


OPERATIONS: dict[str, Callable[[Context], Awaitable[httpx.Response]]] = {
    "healthz": op_healthz, "inbox": op_inbox, "detail": op_detail, "receipt": op_receipt,
    "action": op_action, "pdf": op_pdf, "lookup": op_lookup, "report_year": op_report_year,
    "report_month": op_report_month}


async def worker(ctx: Context, stats: dict[str, Stats] | None, until: float,
                 rng: random.Random, first: tuple[str, ...] = ()) -> None:
    """Requests one after the other until ``until``, each drawn from :data:`MIX` (after
    ``first``: the workers share every operation once, so that a short run measures each)."""
    names, weights = list(MIX), list(MIX.values())
    queue = list(first)
    while queue or time.perf_counter() < until:
        name = queue.pop(0) if queue else rng.choices(names, weights)[0]
        t0 = time.perf_counter()
        try:
            response = await OPERATIONS[name](ctx)
            status, detail = response.status_code, response.text if \
                not 200 <= response.status_code < 300 else ""
        except httpx.HTTPError as exc:
            status, detail = 599, f"{type(exc).__name__}: {exc}"
        if stats is not None:
            stats.setdefault(name, Stats()).record(time.perf_counter() - t0, status, detail)


async def drive(base: str, password: str, concurrency: int, duration: float, warmup: float,
                codes: list[str], seed: int) -> tuple[dict[str, Stats], float]:
    from bench.load_data import lookup_secret

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        tokens = {}
        for user in ("clerk", "officer", "leader", "auditor"):
            r = await http.post("/api/v1/auth/token", data={"username": user,
                                                            "password": password})
            if r.status_code != 200:
                raise SystemExit(f"login {user}: {r.status_code} {r.text[:300]}")
            tokens[user] = {"Authorization": f"Bearer {r.json()['access_token']}"}
        if not codes:
            raise SystemExit("no generated dossier of the officer's agency to read")
        rng = random.Random(seed)
        ctx = Context(http, tokens, codes, [(c, lookup_secret(c)) for c in codes], rng,
                      datetime.now(VN_TZ).date())  # the law's today, as the server's
        if warmup:
            await asyncio.gather(*(worker(ctx, None, time.perf_counter() + warmup,
                                          random.Random(seed + 100 + n))
                                   for n in range(concurrency)))
        stats: dict[str, Stats] = {name: Stats() for name in MIX}
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(ctx, stats, t0 + duration, random.Random(seed + n),
                                      tuple(MIX)[n::concurrency])
                               for n in range(concurrency)))
        return stats, time.perf_counter() - t0


def sample_codes(database_url: str | None, base: str, password: str, limit: int = 5000
                 ) -> list[str]:
    """Generated dossiers the officer may open: sampled across the whole table from the
    database when the harness has it, else the newest pages of the officer's list."""
    if database_url:
        from sqlalchemy import text

        from bench.load_data import lookup_secret
        from engine.db import make_engine

        engine = make_engine(database_url)
        try:
            with engine.connect() as c:
                agency = c.execute(text("SELECT agency_code FROM app_user WHERE username = "
                                        "'officer'")).scalar_one()
                rows = c.execute(text(
                    "SELECT code, secret FROM dossier WHERE competent_agency = :a ORDER BY "
                    + ("random()" if engine.dialect.name == "sqlite" else "md5(code)")
                    + " LIMIT :n"), {"a": agency, "n": limit}).all()
            # generated ones only: a dossier an earlier run received has a secret of its own,
            # which the public lookup would rightly refuse (404) under lookup_secret(code)
            return [code for code, secret in rows if secret == lookup_secret(code)]
        finally:
            engine.dispose()
    token = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": "officer", "password": password}).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    codes: list[str] = []
    cursor = None
    while len(codes) < 1000:
        params = {"include_closed": "true", "sort": "newest", "limit": 200}
        if cursor:
            params["cursor"] = cursor
        page = httpx.get(f"{base}/api/v1/dossiers", params=params, headers=headers,
                         timeout=120).json()
        codes += [item["code"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return codes


# ----- the report -----------------------------------------------------------------------------

def figures(stats: dict[str, Stats], elapsed: float, concurrency: int, dossiers: int | None
            ) -> dict:
    base = stats["healthz"].percentile(0.5)
    ops = {}
    for name in MIX:
        s = stats[name]
        p50 = s.percentile(0.5)
        ops[name] = {"count": len(s.latencies), "errors": s.errors,
                     "statuses": {str(k): v for k, v in sorted(s.statuses.items())},
                     "p50_ms": _ms(p50), "p95_ms": _ms(s.percentile(0.95)),
                     "p99_ms": _ms(s.percentile(0.99)),
                     "throughput_per_s": round(len(s.latencies) / elapsed, 2),
                     "ratio_to_healthz": round(p50 / base, 2) if p50 and base else None,
                     "failures": s.failures}
    goals = {}
    for name, goal in GOALS:
        ratio = ops[name]["ratio_to_healthz"]
        goals[f"{name}_p50_vs_healthz"] = {"value": ratio, "goal": goal, "op": "<=",
                                           "met": ratio is not None and ratio <= goal}
    return {"dossiers": dossiers, "concurrency": concurrency, "duration_s": round(elapsed, 1),
            "requests": sum(o["count"] for o in ops.values()),
            "throughput_per_s": round(sum(o["count"] for o in ops.values()) / elapsed, 1),
            "errors": sum(o["errors"] for o in ops.values()), "operations": ops,
            "goals": goals, "ratios": {k: o["ratio_to_healthz"] for k, o in ops.items()}}


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def table(result: dict) -> str:
    size = f"{result['dossiers']:,}" if result["dossiers"] else "?"
    lines = [f"{size} dossiers, c={result['concurrency']}, "
             f"{result['duration_s']} s, {result['requests']:,} requests "
             f"({result['throughput_per_s']}/s), {result['errors']} failed",
             f"{'operation':14} {'count':>7} {'err':>4} {'p50 ms':>9} {'p95 ms':>9} "
             f"{'p99 ms':>9} {'req/s':>8} {'× healthz':>10}"]
    for name, o in result["operations"].items():
        def cell(v, fmt="{:9.1f}"):
            return fmt.format(v) if v is not None else f"{'-':>9}"
        lines.append(f"{name:14} {o['count']:>7} {o['errors']:>4} {cell(o['p50_ms'])} "
                     f"{cell(o['p95_ms'])} {cell(o['p99_ms'])} {o['throughput_per_s']:>8.1f} "
                     f"{cell(o['ratio_to_healthz'], '{:10.1f}')}")
        lines += [f"    ! {f}" for f in o["failures"]]
    for name, g in result["goals"].items():
        verdict = "PASS" if g["met"] else "FAIL"
        lines.append(f"{verdict} {name}: {g['value']} (goal ≤ {g['goal']})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None,
                        help=f"the generated database (default {DEFAULT_DATABASE_URL}; "
                             "sqlite:///FILE works for small runs)")
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--regenerate", action="store_true",
                        help="generate again even if the database holds the same N")
    parser.add_argument("--url", help="drive this running server instead of starting one")
    parser.add_argument("--password", default=os.environ.get("MOTCUA_DEMO_PASSWORD", PASSWORD))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scheduler", action="store_true",
                        help="run the scheduler inside the served process (default: off)")
    parser.add_argument("--serve-args", default="--workers 1",
                        help="arguments for motcua serve (default one worker, as the figures "
                             "of issue 18 were measured; e.g. \"--workers 2\")")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object of every figure on stdout (the table "
                             "goes to stderr)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 if any request failed")
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    database_url = args.database_url
    if args.url is None and database_url is None:
        database_url = DEFAULT_DATABASE_URL
    generated = None
    if database_url:
        from bench.load_data import ensure_database

        generated = ensure_database(database_url, args.dossiers, password=PASSWORD,
                                    regenerate=args.regenerate, say=say)
    password = PASSWORD if args.url is None else args.password
    server = None if args.url else Server(database_url, PASSWORD, args.scheduler,
                                          shlex.split(args.serve_args))
    base = args.url or server.__enter__()
    try:
        codes = sample_codes(database_url, base, password)
        say(f"driving {base}: c={args.concurrency}, {args.duration:g} s "
            f"(+{args.warmup:g} s warm-up), {len(codes):,} dossiers to read")
        stats, elapsed = asyncio.run(drive(base, password, args.concurrency, args.duration,
                                           args.warmup, codes, args.seed))
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    result = figures(stats, elapsed, args.concurrency,
                     generated["dossiers"] if generated else None)
    if generated:
        result["generation"] = {"seconds": round(generated["seconds"], 1),
                                "reused": generated["reused"]}
    say(table(result))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    if args.strict and result["errors"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
