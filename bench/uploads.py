"""Uploads through the real server: dossiers with two 1 MB attachments per second, and memory.

Starts ``motcua serve`` in a subprocess on a fresh database (SQLite; PostgreSQL too with
``--pg-url`` / ``MOTCUA_TEST_DATABASE_URL``) and a fresh file folder, then:

1. **Rate** — a *submission* is an online submission (``POST /api/v1/public/submissions``)
   with two 1 MB PDFs (streamed, hashed, sniffed, stored, named by the submit event, the
   applicant's message queued; the proof of work solved beforehand, as a browser does).
   The floor, in the same run, is what no design can avoid: the same bytes written to disk
   (with ``fsync``, as the store does) plus one ``INSERT`` per file, committed, on the same
   database. Rounds rotate which goes first;
   the ratio is the median of the rounds' ratios (goal >= 0.3x).
   Beside them, in the same rounds, the **bare HTTP floor**
   (``bench/upload_floor_server.py``): the same forms through the same server stack (uvicorn,
   FastAPI, Starlette's multipart parser) into the disk floor's work and nothing else. It is
   not a goal; it says how much of the distance to the disk floor the HTTP stack alone
   takes, and how much is the submission's own work.
2. **Memory** — the server's resident memory while a 50 MB file is uploaded (chunked, from
   a generator: the client never holds it either), sampled from ``/proc/<pid>/status`` every
   20 ms, against the idle server after a warm-up upload (goal: flat, i.e. growth far below
   the file's size).

Run: ``python bench/uploads.py [--submissions 40] [--rounds 3] [--db sqlite|postgresql|both]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/calendar.py would shadow the standard library's calendar: drop this folder, add the root
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import httpx  # noqa: E402
from sqlalchemy import create_engine, make_url, text  # noqa: E402

from bench.upload_floor_server import floor_write  # noqa: E402
from engine.migrate import upgrade  # noqa: E402
from engine.settings import normalize_database_url  # noqa: E402
from service import pow as hashcash  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mat-khau-bench-uploads"
MB = 1024 * 1024
EXAMPLE = (ROOT / "examples" / "receive.json").read_text(encoding="utf-8")


def pdf(size: int, seed: int) -> bytes:
    """A distinct PDF-looking file of ``size`` bytes (distinct: the store keeps equal bytes
    once, which would flatter the server)."""
    head = b"%PDF-1.7\n%" + hashlib.sha256(str(seed).encode()).hexdigest().encode() + b"\n"
    return head + os.urandom(size - len(head))


@contextmanager
def database(db: str, pg_url: str | None) -> Iterator[str]:
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="motcua-bench-") as folder:
            url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
            upgrade(url)
            yield url
        return
    admin = create_engine(normalize_database_url(pg_url), isolation_level="AUTOCOMMIT")
    schema = f"bench_{secrets.token_hex(4)}"
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(normalize_database_url(pg_url)).update_query_dict(
            {"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
        upgrade(url)
        yield url
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(command: list[str], env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """``command`` (a server taking a free port as its last argument) started and answering
    ``/healthz``; yields (base URL, pid), stops it after."""
    port = free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in the finally below
    process = subprocess.Popen([*command, str(port)], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None:
                log.seek(0)
                name = " ".join(Path(part).name for part in command[:2])
                raise SystemExit(f"{name} stopped:\n" + log.read().decode()[-3000:])
            time.sleep(0.1)
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def server(url: str, files: Path) -> Iterator[tuple[str, int]]:
    """``motcua serve`` on ``url``, one worker (its pid is the process whose memory is
    sampled; the submissions are sent one at a time); yields (base URL, pid)."""
    env = {**os.environ, "MOTCUA_DATABASE_URL": url, "MOTCUA_DEMO_PASSWORD": PASSWORD,
           "MOTCUA_FILES_DIR": str(files), "MOTCUA_FILE_MAX_MB": "60",
           "MOTCUA_DOSSIER_FILES_MAX_MB": "200", "MOTCUA_ARGON2_PROFILE": "test",
           "MOTCUA_POW_BITS": "4", "MOTCUA_SUBMIT_PER_ADDRESS_HOUR": "1000000",
           "MOTCUA_SUBMIT_PER_CONTACT_DAY": "1000000"}
    return serving([str(Path(sys.executable).parent / "motcua"), "serve", "--no-scheduler",
                    "--workers", "1", "--port"], env)


def bare_server(url: str, files: Path) -> Iterator[tuple[str, int]]:
    """``bench/upload_floor_server.py``: the same HTTP stack with only the disk floor's work
    behind it (the bare HTTP floor)."""
    env = {**os.environ, "FLOOR_DATABASE_URL": url, "FLOOR_DIR": str(files)}
    return serving([sys.executable, str(ROOT / "bench" / "upload_floor_server.py")], env)


def login(client: httpx.Client) -> None:
    r = client.post("/api/v1/auth/token", data={"username": "clerk", "password": PASSWORD})
    r.raise_for_status()
    client.headers["Authorization"] = "Bearer " + r.json()["access_token"]


SUBMISSION = json.dumps({
    "procedure": "1.004873", "return_method": "counter", "competent_agency": "000.00.31.H26",
    "applicant": {"name": "Trần Văn Bình", "id_number": "031095004321",
                  "phone": "0912345678", "email": "binh@example.vn"}}, ensure_ascii=False)


def proof(client: httpx.Client) -> dict[str, str]:
    """A solved proof-of-work (the page's job, done before the clock runs: the server's part
    is one HMAC check and one INSERT of the spent challenge, which the rate includes)."""
    issued = client.get("/api/v1/public/submissions/challenge").json()
    return {"X-PoW-Challenge": issued["challenge"],
            "X-PoW-Nonce": hashcash.solve(issued["challenge"], issued["bits"])}


def form_files(files: list[bytes]) -> dict[str, tuple[str, bytes, str]]:
    """The two PDFs as the form's file fields (components 1 and 3 of the procedure): the
    same fields for the server and the bare HTTP floor."""
    return {f"file-{i}": (f"thanh-phan-{i}.pdf", data, "application/pdf")
            for i, data in zip((1, 3), files, strict=True)}


def submit(client: httpx.Client, files: list[bytes], headers: dict[str, str]) -> None:
    """One online submission (``POST /api/v1/public/submissions``): the dossier in
    ``submitted``, both files streamed, hashed, sniffed, stored and named by its journal event,
    the applicant's message queued — one request, one transaction."""
    r = client.post("/api/v1/public/submissions", data={"submission": SUBMISSION},
                    files=form_files(files), headers=headers)
    assert r.status_code == 201, r.text


@dataclass(frozen=True)
class Run:
    """One side's round: submissions per second, and the CPU time (user + system) its
    process spent per submission — what says whether a side waits (on fsync, on the
    database) or computes, and so what a faster disk would and would not change."""

    per_s: float
    cpu_ms: float


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time that process ``pid`` has used so far (``/proc/<pid>/stat``,
    in clock ticks: 10 ms, fine over a round of tens of submissions)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def measured(pid: int, n: int, found: list[Run]) -> Iterator[None]:
    """Time ``n`` submissions and the CPU process ``pid`` spends on them; appends the
    :class:`Run` to ``found``."""
    cpu, start = cpu_seconds(pid), time.perf_counter()
    yield
    wall, used = time.perf_counter() - start, cpu_seconds(pid) - cpu
    found.append(Run(n / wall, 1000 * used / n))


def server_rate(client: httpx.Client, batches: list[list[bytes]], pid: int,
                found: list[Run]) -> None:
    proofs = [proof(client) for _ in batches]
    with measured(pid, len(batches), found):
        for files, headers in zip(batches, proofs, strict=True):
            submit(client, files, headers)


def bare_rate(client: httpx.Client, batches: list[list[bytes]], pid: int,
              found: list[Run]) -> None:
    """The same forms posted to the bare HTTP floor (``bench/upload_floor_server.py``)."""
    with measured(pid, len(batches), found):
        for files in batches:
            r = client.post("/up", data={"submission": SUBMISSION}, files=form_files(files))
            assert r.status_code == 200, r.text


def floor_rate(url: str, folder: Path, batches: list[list[bytes]],
               found: list[Run]) -> None:
    """The same bytes to disk (fsync) plus one INSERT per file, committed (in this
    process: its CPU is this process's)."""
    engine = create_engine(normalize_database_url(url))
    with engine.begin() as c:
        c.execute(text("CREATE TABLE IF NOT EXISTS bench_floor (id INTEGER PRIMARY KEY, "
                       "name VARCHAR(64), size INTEGER)"))
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    try:
        with measured(os.getpid(), len(batches), found):
            for files in batches:
                for data in files:
                    n += 1
                    floor_write(engine, "bench_floor", folder, n, "f", data)
    finally:
        with engine.begin() as c:
            c.execute(text("DROP TABLE bench_floor"))
        engine.dispose()
        shutil.rmtree(folder, ignore_errors=True)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def memory(client: httpx.Client, pid: int, size_mb: int) -> tuple[int, int]:
    """(idle RSS, peak RSS during a ``size_mb`` upload), in KiB."""
    submit(client, [pdf(MB, -1), pdf(MB, -2)], proof(client))  # warm-up: imports, buffers
    time.sleep(0.5)
    idle, peak, running = rss_kib(pid), 0, True

    def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    r = client.post("/api/v1/dossiers", content=EXAMPLE,
                    headers={"Content-Type": "application/json"})
    code = r.json()["code"]
    boundary = "benchboundary" + secrets.token_hex(8)

    def body() -> Iterator[bytes]:
        yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nscan\r\n"
               f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
               f"filename=\"lon.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
        yield b"%PDF-1.7\n"
        chunk = os.urandom(MB)
        for _ in range(size_mb):
            yield chunk
        yield f"\r\n--{boundary}--\r\n".encode()

    sampler.start()
    try:
        up = client.post(f"/api/v1/dossiers/{code}/attachments", content=body(),
                         headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                         timeout=300)
        assert up.status_code == 201, up.text
    finally:
        running = False
        sampler.join()
    return idle, peak


def run(db: str, args: argparse.Namespace) -> dict:
    batches = [[pdf(MB, 2 * i), pdf(MB, 2 * i + 1)] for i in range(args.submissions)]
    with database(db, args.pg_url) as url, \
            tempfile.TemporaryDirectory(prefix="motcua-files-") as folder, \
            server(url, Path(folder) / "store") as (base, pid), \
            bare_server(url, Path(folder) / "bare") as (bare_base, bare_pid), \
            httpx.Client(base_url=base, timeout=60) as client, \
            httpx.Client(base_url=bare_base, timeout=60) as bare:
        login(client)
        submit(client, batches[0], proof(client))  # warm-up
        bare_rate(bare, batches[:1], bare_pid, [])
        ours: list[Run] = []
        floors: list[Run] = []
        bares: list[Run] = []
        for round_no in range(args.rounds):  # which goes first rotates
            steps = [lambda: server_rate(client, batches, pid, ours),
                     lambda n=round_no: floor_rate(url, Path(folder) / f"floor{n}", batches,
                                                   floors),
                     lambda: bare_rate(bare, batches, bare_pid, bares)]
            for step in steps[round_no % 3:] + steps[:round_no % 3]:
                step()
        idle, peak = memory(client, pid, args.big_mb)
    paired = sorted(o.per_s / f.per_s for o, f in zip(ours, floors, strict=True))
    to_bare = statistics.median(o.per_s / b.per_s for o, b in zip(ours, bares, strict=True))
    bare_to_floor = statistics.median(b.per_s / f.per_s
                                      for b, f in zip(bares, floors, strict=True))
    cpu = {side: statistics.median(r.cpu_ms for r in runs)
           for side, runs in (("server", ours), ("bare_http", bares), ("floor", floors))}
    best = {side: max(r.per_s for r in runs)
            for side, runs in (("server", ours), ("bare_http", bares), ("floor", floors))}
    print(f"{db}: {args.submissions} submissions x 2 x 1 MB, {args.rounds} rounds | best: "
          f"server {best['server']:.1f}/s, disk+INSERT {best['floor']:.1f}/s | ratio "
          f"{statistics.median(paired):.2f}x (rounds {', '.join(f'{x:.2f}' for x in paired)}; "
          f"goal >= 0.3x) | bare HTTP floor {best['bare_http']:.1f}/s: itself "
          f"{bare_to_floor:.2f}x the disk floor, the server {to_bare:.2f}x of it | CPU per "
          f"submission: server {cpu['server']:.1f} ms, bare HTTP {cpu['bare_http']:.1f} ms, "
          f"disk floor {cpu['floor']:.1f} ms | {args.big_mb} MB upload: RSS "
          f"idle {idle / 1024:.0f} MB, peak {peak / 1024:.0f} MB, growth "
          f"{(peak - idle) / 1024:.1f} MB (goal: flat)", flush=True)
    return {"submissions": args.submissions, "server_per_s": best["server"],
            "floor_per_s": best["floor"], "rounds": paired,
            "ratio": statistics.median(paired),
            "bare_http_per_s": best["bare_http"], "bare_http_vs_floor": bare_to_floor,
            "ratio_to_bare_http": to_bare, "server_cpu_ms": cpu["server"],
            "bare_http_cpu_ms": cpu["bare_http"], "floor_cpu_ms": cpu["floor"],
            "upload_mb": args.big_mb, "rss_idle_mb": idle / 1024, "rss_peak_mb": peak / 1024,
            "rss_growth_mb": (peak - idle) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MOTCUA_TEST_DATABASE_URL"))
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    results = {}
    for db in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        if db == "postgresql" and not args.pg_url:
            print("postgresql: skipped (no --pg-url / MOTCUA_TEST_DATABASE_URL)")
            continue
        results[db] = run(db, args)
    if args.json:  # "flat": the growth stays under a tenth of the file's size
        goals = {}
        for db, r in results.items():
            goals[f"{db}_ratio"] = {"value": r["ratio"], "goal": 0.3, "op": ">=",
                                    "met": r["ratio"] >= 0.3}
            flat = args.big_mb / 10
            goals[f"{db}_rss_growth_mb"] = {"value": r["rss_growth_mb"], "goal": flat,
                                            "op": "<=", "met": r["rss_growth_mb"] <= flat}
        print(json.dumps({**results, "ratios": {db: r["ratio"] for db, r in results.items()},
                          "goals": goals}))


if __name__ == "__main__":
    main()
