"""Partitioned by year vs one table (``engine.partitioning``, docs/scaling.md#partitioning).

Two copies of the load harness's generated database (``bench/load_data.py``: N dossiers with
their events and steps, July 2025 to today): one as migrated, one converted with
``engine.partitioning.convert`` (years 2024–2027 and a default partition). The conversion is
timed, then the same operations run on both, interleaved so that both meet the same machine:
the closed year's report (2025), an officer's inbox page, the citizen's lookup by code, an
action's reads (the dossier by id and its events) and a receipt at the counter. Printed: each
operation's p50 on both and the ratio partitioned / plain, and the shared buffers each
report statement touches (``EXPLAIN (ANALYZE, BUFFERS)``: what the machine's load does not
change).

    .venv/bin/python bench/partitioning.py [--database-url postgresql://postgres@127.0.0.1:5432/motcua_partition]
        [--dossiers 200000] [--repeat 15] [--json]

Goal (docs/scaling.md): partitioning costs the request path at most 1.5× on any operation
while the year report reads only its year's partitions.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, datetime  # noqa: E402
from types import SimpleNamespace  # noqa: E402

from sqlalchemy import create_engine, event, make_url, text  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from bench import load_data  # noqa: E402
from engine import partitioning  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.lifecycle import Actor, Applicant, events_of, receive  # noqa: E402
from engine.lifecycle.models import Dossier  # noqa: E402
from engine.lifecycle.worklist import QueueFilter, page  # noqa: E402
from engine.reports import Period, figures  # noqa: E402
from engine.settings import normalize_database_url  # noqa: E402
from engine.timezone import VN_TZ  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/motcua_partition"
YEARS = range(2024, 2028)
YEAR = Period(date(2025, 1, 1), date(2025, 12, 31))
DEMO_CLERK_AGENCY = "000.01.31.H26"  # service.auth's demo clerk: the commune centre


def _admin(url: str):
    return create_engine(make_url(normalize_database_url(url)).set(database="postgres"),
                         isolation_level="AUTOCOMMIT")


def copy_and_convert(plain_url: str, say: Callable[[str], None]) -> tuple[str, float]:
    """A fresh copy of the plain database, partitioned; the seconds the conversion took."""
    split = make_url(plain_url).set(database=make_url(plain_url).database + "_split")
    admin = _admin(plain_url)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{split.database}"'))
        c.execute(text(f'CREATE DATABASE "{split.database}" '
                       f'TEMPLATE "{make_url(plain_url).database}"'))
    admin.dispose()
    url = split.render_as_string(hide_password=False)
    engine = make_engine(url)
    t0 = time.perf_counter()
    with engine.begin() as connection:
        partitioning.convert(connection, YEARS)
    seconds = time.perf_counter() - t0
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    say(f"  converted in {seconds:.1f} s")
    return url, seconds


def _sample(engine) -> SimpleNamespace:
    """What the operations ask for: codes and ids to look up, the busiest competent agency."""
    rng = random.Random(7)
    with engine.connect() as c:
        ids = [r[0] for r in c.execute(text("SELECT id, code FROM dossier TABLESAMPLE "
                                            "SYSTEM (1) REPEATABLE (7) LIMIT 400"))]
        codes = list(c.execute(text("SELECT code FROM dossier WHERE id = ANY(:i)"),
                               {"i": ids}).scalars())
        agency = c.execute(text(
            "SELECT competent_agency FROM dossier WHERE ended_on IS NULL "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar_one()
    rng.shuffle(ids)
    return SimpleNamespace(ids=ids, codes=codes, agency=agency)


def operations(sample: SimpleNamespace) -> dict[str, Callable[[Session, int], object]]:
    officer = SimpleNamespace(username="bench", role="officer", agency_code=sample.agency)
    example = json.loads((ROOT / "examples" / "receive.json").read_text(encoding="utf-8"))
    clerk = Actor("clerk", "clerk", DEMO_CLERK_AGENCY, "Nguyễn Thị Lan")

    def report(s, _i):
        return figures(s, YEAR)

    def inbox(s, _i):
        return page(s, officer, QueueFilter(today=datetime.now(VN_TZ).date()))

    def lookup(s, i):
        code = sample.codes[i % len(sample.codes)]
        return s.exec(select(Dossier).where(Dossier.code == code)).first()

    def action_reads(s, i):
        dossier = s.get(Dossier, sample.ids[i % len(sample.ids)])
        return events_of(s, dossier)

    def receipt(s, _i):  # the example receipt of the README, by the demo commune's clerk
        result = receive(s, actor=clerk, procedure_code=example["procedure"],
                         applicant=Applicant(**example["applicant"]),
                         components=example["components"])
        s.commit()
        return result

    return {"report_closed_year": report, "inbox_page": inbox, "lookup_by_code": lookup,
            "action_reads": action_reads, "receipt": receipt}


def report_buffers(engine) -> list[dict]:
    """Each report statement's shared buffers and the dossier partitions its plan reads."""
    statements: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if "dossier" in statement and statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", capture)
        figures(session, YEAR)
        event.remove(engine, "before_cursor_execute", capture)
        found = []
        for sql, params in statements:
            plan = session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, params).scalar()
            top = plan[0]["Plan"]
            text_plan = json.dumps(plan)
            found.append({"buffers": top.get("Shared Hit Blocks", 0)
                          + top.get("Shared Read Blocks", 0),
                          "partitions": sorted({p for p in partitioning_names(text_plan)})})
        return found


def probe_buffers(engine, sample: SimpleNamespace) -> dict[str, int]:
    """Shared buffers of the statements without the partition key, on one dossier: what the
    one index probe per partition costs, independent of the machine's load."""
    probes = {"dossier_by_code": ("SELECT * FROM dossier WHERE code = %(k)s", sample.codes[0]),
              "dossier_by_id": ("SELECT * FROM dossier WHERE id = %(k)s", sample.ids[0]),
              "events_by_dossier": ("SELECT * FROM dossier_event WHERE dossier_id = %(k)s",
                                    sample.ids[0])}
    found = {}
    with engine.connect() as c:
        for name, (sql, key) in probes.items():
            c.exec_driver_sql(sql, {"k": key}).all()  # warm
            plan = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql,
                                     {"k": key}).scalar()
            top = plan[0]["Plan"]
            found[name] = top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)
    return found


def partitioning_names(plan: str) -> list[str]:
    return re.findall(r'"Relation Name": "(dossier(?:_event)?_(?:y\d{4}|default))"', plan)


def measure(urls: dict[str, str], repeat: int, say: Callable[[str], None]) -> dict:
    engines = {k: make_engine(u) for k, u in urls.items()}
    sample = _sample(engines["plain"])
    ops = operations(sample)
    times: dict[str, dict[str, list[float]]] = {op: {k: [] for k in urls} for op in ops}
    try:
        for i in range(repeat + 2):  # two warm-up rounds
            for name, op in ops.items():
                for kind in (list(urls) if i % 2 else list(reversed(urls))):
                    with Session(engines[kind]) as session:
                        t0 = time.perf_counter()
                        op(session, i)
                        elapsed = (time.perf_counter() - t0) * 1000
                    if i >= 2:
                        times[name][kind].append(elapsed)
        result = {}
        for name, per in times.items():
            p50 = {k: statistics.median(v) for k, v in per.items()}
            result[name] = {"plain_p50_ms": round(p50["plain"], 2),
                            "partitioned_p50_ms": round(p50["partitioned"], 2),
                            "ratio": round(p50["partitioned"] / p50["plain"], 2)}
            say(f"  {name:20} plain {p50['plain']:8.2f} ms   partitioned "
                f"{p50['partitioned']:8.2f} ms   × {result[name]['ratio']:.2f}")
        result["report_statements"] = {k: report_buffers(e) for k, e in engines.items()}
        result["probe_buffers"] = {k: probe_buffers(e, sample) for k, e in engines.items()}
        return result
    finally:
        for e in engines.values():
            e.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--dossiers", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    say = (lambda _m: None) if args.json else print
    generated = load_data.ensure_database(args.database_url, args.dossiers,
                                          password="motcua-bench", say=say)
    split_url, seconds = copy_and_convert(args.database_url, say)
    figures_ = measure({"plain": args.database_url, "partitioned": split_url}, args.repeat, say)
    engine = make_engine(args.database_url)
    with engine.connect() as c:
        events = c.execute(text("SELECT count(*) FROM dossier_event")).scalar_one()
    engine.dispose()
    out = {"dossiers": args.dossiers, "events": events, "generated": generated.get("seconds"),
           "conversion_seconds": round(seconds, 1), **figures_}
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        for kind, statements in out["report_statements"].items():
            say(f"  report statements on {kind}: {statements}")
        say(f"  buffers of one dossier's reads: {out['probe_buffers']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
