"""Many documents at once (apology letters, registers) on every core.

Each worker process builds one :class:`~printouts.render.Renderer` and renders chunks of
contexts straight to files; the parent only builds the contexts and counts. Workers are
started with ``spawn``: a forked child would inherit the parent's fontconfig/Pango state.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from printouts.pool import exit_with_parent

Job = tuple[str, dict[str, Any]]  # (output file name, context)

_RENDERER = None


def _init_worker(parent: int) -> None:
    global _RENDERER
    exit_with_parent(parent)  # a killed batch leaves no child waiting for ever
    from printouts.render import Renderer

    _RENDERER = Renderer()


def _render_chunk(out_dir: str, jobs: Sequence[Job]) -> tuple[int, int]:
    assert _RENDERER is not None
    size = 0
    for name, context in jobs:
        path = Path(out_dir) / name
        _RENDERER.pdf(context, path)
        size += path.stat().st_size
    return len(jobs), size


@dataclass(frozen=True)
class BatchResult:
    documents: int
    seconds: float
    bytes: int
    workers: int

    @property
    def per_second(self) -> float:
        return self.documents / self.seconds if self.seconds else 0.0


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def render_batch(jobs: Iterable[Job], out_dir: Path, *, workers: int | None = None,
                 chunk: int = 10, on_progress: Callable[[int], None] | None = None
                 ) -> BatchResult:
    """Render every job into ``out_dir`` with ``workers`` processes (default: all cores)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    jobs = list(jobs)
    workers = workers or default_workers()
    chunks = [jobs[i:i + chunk] for i in range(0, len(jobs), chunk)]
    started = time.perf_counter()
    total = size = 0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_init_worker, initargs=(os.getpid(),)) as pool:
        futures = [pool.submit(_render_chunk, str(out_dir), part) for part in chunks]
        for future in as_completed(futures):
            done, written = future.result()
            total += done
            size += written
            if on_progress:
                on_progress(done)
    return BatchResult(total, time.perf_counter() - started, size, workers)


def render_naive_loop(jobs: Iterable[Job], out_dir: Path,
                      on_progress: Callable[[int], None] | None = None) -> BatchResult:
    """The baseline: one process, every document rendered from scratch (fonts, stylesheet)."""
    from printouts.render import render_naive

    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    total = size = 0
    for name, context in jobs:
        path = out_dir / name
        render_naive(context, path)
        total += 1
        size += path.stat().st_size
        if on_progress:
            on_progress(1)
    return BatchResult(total, time.perf_counter() - started, size, 1)


def sample_jobs(form: str, count: int) -> list[Job]:
    """``count`` variants of the sample dossier's ``form`` (different applicants, numbers)."""
    from printouts.context import build, register_context
    from printouts.sample import AGENCIES, CENTRE, sample_bundle, sample_options, sample_register

    options = sample_options()
    names = ["Nguyễn Thị Ngọc Ánh", "Trần Văn Hưởng", "Lê Quỳnh Như", "Phạm Đức Thắng",
             "Hoàng Thị Nguyệt", "Vũ Minh Khải", "Đặng Thu Hằng", "Bùi Hữu Lộc"]
    jobs: list[Job] = []
    for i in range(count):
        if form == "register":
            dossiers, first, last = sample_register(20 + i % 20)
            context = register_context(CENTRE, dossiers, AGENCIES, date_from=first,
                                       date_to=last, options=options)
        else:
            bundle = sample_bundle(applicant=f"{names[i % len(names)]} {i + 1:04d}",
                                   number=i + 1)
            context = build(form, bundle, None, options)
        jobs.append((f"{form}-{i + 1:04d}.pdf", context))
    return jobs
