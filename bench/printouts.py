"""Benchmark: printing the legal forms at the counter and in batches (issue 4).

1. Warm receipt (Mẫu 01, two copies) in a long-lived process — :class:`printouts.render.Renderer`
   keeps the Jinja templates, the parsed stylesheet with its fonts and the FontConfiguration,
   parses its XHTML with expat against a smaller UA stylesheet, and lays the receipt out and
   paints it once for both copies — against the naive baseline: a new Jinja environment,
   stylesheet, @font-face loading and FontConfiguration for every document, tinyhtml5, and
   every copy laid out and painted. Goal: ≥ 3× faster.
2. The counter flow: read the dossier from the database (SQLite, seeded here), build the
   context, render the receipt. Goal: well under a second.
3. N apology letters (or registers) rendered by a batch on every core against the same
   single-process naive loop: documents per second.
4. If LibreOffice is installed: ``soffice --headless --convert-to pdf`` on the same receipt as
   HTML, one call per document and one call for a batch.

    .venv/bin/python bench/printouts.py [--receipts 30] [--batch 1000] [--naive-batch 1000]
                                        [--form apology] [--workers 2] [--skip-soffice]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

# bench/ holds calendar.py, which would shadow the standard library's calendar module (and the
# batch workers inherit sys.path): drop the script's folder, add the project root.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from printouts.batch import render_batch, render_naive_loop, sample_jobs  # noqa: E402
from printouts.context import build  # noqa: E402
from printouts.render import Renderer, render_naive  # noqa: E402
from printouts.sample import sample_bundle, sample_options  # noqa: E402

CPU: dict[int, list[float]] = {}  # id(wall list) → CPU seconds of the same runs


def timed(fn, runs: int) -> list[float]:
    """Wall times of ``runs`` calls; the process CPU times are kept beside them, because on a
    shared machine (other jobs running) CPU time is the steadier measure."""
    out, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        fn()
        out.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    CPU[id(out)] = cpu
    return out


def timed_together(cases: dict[str, tuple[Callable[[], Any], int]]) -> dict[str, list[float]]:
    """:func:`timed` for several cases taking turns, each case's runs spread evenly over the
    same rounds: a load that comes and goes on a shared machine weighs on all of them alike
    (timed one after the other, a ratio measured whichever case ran during someone's tests)."""
    rounds = max(runs for _, runs in cases.values())
    out: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(rounds):
        for name, (fn, runs) in cases.items():
            if i * runs // rounds == (i + 1) * runs // rounds:
                continue  # not this case's turn
            started, started_cpu = time.perf_counter(), time.process_time()
            fn()
            out[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    for name in cases:
        CPU[id(out[name])] = cpu[name]
    return out


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    text = f"median {statistics.median(ordered) * 1000:7.1f} ms, p90 {p90 * 1000:7.1f} ms"
    if id(values) in CPU:
        cpu = CPU[id(values)]
        text += f" (CPU {statistics.median(cpu) * 1000:6.1f} ms, min {min(cpu) * 1000:6.1f})"
    return text


def cpu_ratio(slow: list[float], fast: list[float]) -> str:
    """Of the median CPU times, and of the minimum ones (the least disturbed by other jobs)."""
    slow_cpu, fast_cpu = CPU[id(slow)], CPU[id(fast)]
    return (f"{statistics.median(slow_cpu) / statistics.median(fast_cpu):.1f}x CPU "
            f"(min {min(slow_cpu) / min(fast_cpu):.1f}x)")


def bench_receipt(runs: int) -> tuple[float, float]:
    context = build("receipt", sample_bundle(), None, sample_options())
    started = time.perf_counter()
    renderer = Renderer()
    print(f"  Renderer() start-up: {(time.perf_counter() - started) * 1000:.0f} ms "
          "(once per process)")
    renderer.pdf(context)  # first document: warms Pango's caches
    full = Renderer(one_layout=False)
    full.pdf(context)
    render_naive(context)
    times = timed_together({
        "warm": (lambda: renderer.pdf(context), runs),
        "both": (lambda: full.pdf(context), max(5, runs // 3)),
        "naive": (lambda: render_naive(context), max(5, runs // 3))})
    warm, both, naive = times["warm"], times["both"], times["naive"]
    print(f"  warm, long-lived Renderer : {ms(warm)}")
    print(f"    (same, every copy laid out and painted: {ms(both)})")
    print(f"  naive, everything per doc : {ms(naive)}")
    print(f"  PDF size: warm {len(renderer.pdf(context)) / 1024:.0f} KiB, "
          f"naive {len(render_naive(context)) / 1024:.0f} KiB")
    ratio = statistics.median(naive) / statistics.median(warm)
    print(f"  ratio naive / warm        : {ratio:.1f}x wall, {cpu_ratio(naive, warm)} "
          "(goal >= 3x)")
    apology = build("apology", sample_bundle(), None, sample_options())
    renderer.pdf(apology)
    times = timed_together({"warm": (lambda: renderer.pdf(apology), runs),
                            "naive": (lambda: render_naive(apology), max(5, runs // 3))})
    warm_a, naive_a = times["warm"], times["naive"]
    print(f"  one-page apology: warm {ms(warm_a)}; naive {ms(naive_a)}; ratio "
          f"{statistics.median(naive_a) / statistics.median(warm_a):.1f}x wall, "
          f"{cpu_ratio(naive_a, warm_a)}")
    return statistics.median(warm), ratio


def bench_counter_flow(runs: int) -> float:
    """Receive dossiers into a migrated SQLite database, then time read + context + render."""
    from sqlmodel import Session

    from engine.agencies import Agency
    from engine.db import make_engine, session_scope
    from engine.lifecycle import Actor, Applicant
    from engine.migrate import upgrade
    from engine.procedures import save_version
    from engine.samples import received
    from engine.timezone import VN_TZ
    from printouts.load import load_bundle, options_for
    from printouts.sample import AGENCIES, CENTRE, DEPT, SPEC

    folder = tempfile.mkdtemp(prefix="motcua-bench-")
    url = f"sqlite:///{folder}/bench.db"
    upgrade(url)
    engine = make_engine(url)
    codes = []
    with session_scope(engine) as session:
        for agency in AGENCIES.values():
            session.add(Agency(**agency.model_dump()))
        save_version(session, spec=SPEC)
    clerk = Actor("clerk1", "clerk", CENTRE)
    for i in range(runs + 1):  # the printed sample's procedure, handed in complete
        with session_scope(engine) as session:
            codes.append(received(session, actor=clerk, procedure_code=SPEC.code,
                                  applicant=Applicant(name=f"Nguyễn Thị Ngọc Ánh {i}",
                                                      address="Số 12 Lạch Tray, Hải Phòng"),
                                  competent_agency=DEPT,
                                  at=datetime(2026, 2, 5, 9, 15 + i % 40, tzinfo=VN_TZ)).code)
    renderer = Renderer()

    def counter(code: str) -> None:
        with Session(engine) as session:
            bundle = load_bundle(session, code)
            context = build("receipt", bundle, None, options_for(bundle.agencies))
        renderer.pdf(context)

    counter(codes[0])
    remaining = iter(codes[1:])
    times = timed(lambda: counter(next(remaining)), len(codes) - 1)
    print(f"  DB read + context + render: {ms(times)} (SQLite, {len(times)} receipts)")
    engine.dispose()
    shutil.rmtree(folder, ignore_errors=True)
    return statistics.median(times)


def bench_batch(form: str, count: int, naive_count: int, workers: int) -> dict[str, float]:
    jobs = sample_jobs(form, count)
    with tempfile.TemporaryDirectory() as out:
        result = render_batch(jobs, Path(out), workers=workers)
    print(f"  batch, {result.workers} processes: {result.documents} {form} in "
          f"{result.seconds:.1f} s = {result.per_second:.1f} docs/s "
          f"({result.bytes / result.documents / 1024:.0f} KiB each)")
    with tempfile.TemporaryDirectory() as out:
        naive = render_naive_loop(jobs[:naive_count], Path(out))
    print(f"  naive loop, 1 process   : {naive.documents} {form} in {naive.seconds:.1f} s = "
          f"{naive.per_second:.1f} docs/s")
    print(f"  ratio: {result.per_second / naive.per_second:.1f}x")
    return {"batch_docs_per_s": result.per_second, "naive_docs_per_s": naive.per_second,
            "batch_workers": result.workers}


def bench_soffice(runs: int) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        print("  LibreOffice is not installed (apt-get install -y libreoffice-writer-nogui): "
              "skipped")
        return
    renderer = Renderer()
    context = build("receipt", sample_bundle(), None, sample_options())
    html = renderer.html(context)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        profile = f"-env:UserInstallation=file://{folder / 'profile'}"
        css = (Path(__file__).resolve().parent.parent / "printouts/static/forms.css")
        page = html.replace("</head>", f"<style>{css.read_text(encoding='utf-8')}</style></head>")
        sources = []
        for i in range(runs):
            path = folder / f"receipt-{i:03d}.html"
            path.write_text(page, encoding="utf-8")
            sources.append(path)

        def convert(paths: list[Path]) -> float:
            started = time.perf_counter()
            subprocess.run([soffice, profile, "--headless", "--convert-to", "pdf", "--outdir",
                            str(folder / "out"), *map(str, paths)], check=True,
                           capture_output=True, timeout=600)
            return time.perf_counter() - started

        convert(sources[:1])  # creates the profile
        one = [convert([p]) for p in sources[:5]]
        many = convert(sources)
        print(f"  soffice, one call per document: median {statistics.median(one) * 1000:.0f} ms")
        print(f"  soffice, {runs} documents in one call: {many:.1f} s = "
              f"{many / runs * 1000:.0f} ms/doc")
        warm = statistics.median(timed(lambda: renderer.pdf(context), 10))
        print(f"  WeasyPrint warm receipt: {warm * 1000:.0f} ms -> soffice per call is "
              f"{statistics.median(one) / warm:.1f}x slower, soffice batch "
              f"{(many / runs) / warm:.1f}x the warm time (LibreOffice drops most of the CSS)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receipts", type=int, default=30)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--naive-batch", type=int, default=None,
                        help="documents in the naive loop (default: same as --batch)")
    parser.add_argument("--form", choices=["apology", "register", "receipt"],
                        default="apology")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--skip-soffice", action="store_true")
    parser.add_argument("--json", action="store_true",
                        help="end with one JSON line of the figures (for bench/all.py)")
    args = parser.parse_args()
    print(f"cores: {len(os.sched_getaffinity(0))}, load average at start: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("1. warm receipt vs naive")
    warm, ratio = bench_receipt(args.receipts)
    print("2. counter flow")
    counter = bench_counter_flow(args.receipts)
    print(f"3. batch of {args.batch} {args.form}")
    batch = bench_batch(args.form, args.batch, args.naive_batch or args.batch, args.workers)
    if not args.skip_soffice:
        print("4. LibreOffice")
        bench_soffice(20)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        print(json.dumps({
            "receipt_warm_ms": warm * 1000, "counter_flow_ms": counter * 1000, **batch,
            "ratios": {"naive_over_warm": ratio,
                       "batch_over_naive": batch["batch_docs_per_s"] / batch["naive_docs_per_s"]},
            "goals": {"warm_receipt": {"value": ratio, "goal": 3, "op": ">=", "met": ratio >= 3},
                      "counter_flow_s": {"value": counter, "goal": 1, "op": "<=",
                                         "met": counter <= 1}}}))


if __name__ == "__main__":
    main()
