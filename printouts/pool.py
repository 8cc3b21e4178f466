"""PDFs rendered in a separate process (*in biểu mẫu ở tiến trình riêng*).

Why. Laying out a receipt with WeasyPrint is a few hundred milliseconds of CPU-bound Python.
Rendered in the web server's thread pool it holds the worker's interpreter lock all that
time, and every other request of that worker (an officer's inbox, a dossier page, a
receipt at the next counter) waits behind it: in the counter-day mix of ``bench/load.py``
(issue 18) the reprinted receipts were about a third of the server's CPU. Rendered in a
child process they run on another core while the worker goes on answering, and
fontconfig's lack of thread-safety (``printouts.render.RENDER_LOCK``) stays inside the
child, which renders one document at a time.

``MOTCUA_PDF_PROCESSES`` (default 1) is how many child processes each server process keeps;
0 renders in the calling thread as before (``Renderer``). The children are started with
``spawn`` (a fork of a process with threads may inherit a held lock) on the first PDF and
live as long as the process, and no longer even when it is killed
(:func:`exit_with_parent`); a child that dies is replaced on the next PDF, which is
retried once. :func:`shared_renderer` gives every caller of a process the same one, so
that the staff's document route and the outbox's Form 04 attachments share the children.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

DEFAULT_PROCESSES = 1

_child_renderer: Any = None  # in a child: its Renderer (created by _start)


def exit_with_parent(parent: int, every: float = 1.0) -> None:
    """In a child: end this process once ``parent`` is gone. A pool's children wait on a
    queue whose writing end each of them also holds, so a server killed with ``kill -9``
    (or crashing) left them waiting for ever — found as a dozen idle 130 MB children after
    a day of load runs. A daemon thread looks at the parent once a second; ``os._exit``
    because nothing of the child is worth cleaning up."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _start(parent: int) -> None:
    """A child's start: leave with the parent, load fonts, stylesheet and templates once."""
    global _child_renderer
    exit_with_parent(parent)
    from printouts.render import Renderer

    _child_renderer = Renderer()


def _render(context: dict[str, Any]) -> bytes:
    """In a child: one PDF."""
    return _child_renderer.pdf(context)


def processes_from_env(env: Mapping[str, str] = os.environ) -> int:
    """``MOTCUA_PDF_PROCESSES``: a whole number ≥ 0 (a bad value stops start-up)."""
    raw = env.get("MOTCUA_PDF_PROCESSES", "").strip()
    if not raw:
        return DEFAULT_PROCESSES
    if not raw.isdigit():
        raise ValueError("MOTCUA_PDF_PROCESSES phải là số nguyên không âm (nhận "
                         f"{raw!r}) / must be a whole number, 0 or more")
    return int(raw)


class RenderPool:
    """``RenderPool(n).pdf(context)`` → PDF bytes, rendered by one of ``n`` child processes."""

    def __init__(self, processes: int = DEFAULT_PROCESSES) -> None:
        from printouts.fonts import find_fonts

        find_fonts()  # FontMissing here, with its message, rather than a broken child
        self.processes = processes
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _pool(self, broken: ProcessPoolExecutor | None = None) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None or self._executor is broken:
                if broken is not None:
                    broken.shutdown(wait=False, cancel_futures=True)
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start, initargs=(os.getpid(),))
            return self._executor

    def pdf(self, context: dict[str, Any], target: str | Path | None = None) -> bytes | None:
        """The PDF of ``context`` (written to ``target`` when given, as ``Renderer.pdf``)."""
        pool = self._pool()
        try:
            data = pool.submit(_render, context).result()
        except BrokenProcessPool:  # a child died (killed, out of memory): start again, once
            data = self._pool(broken=pool).submit(_render, context).result()
        if target is None:
            return data
        Path(target).write_bytes(data)
        return None

    def close(self) -> None:
        """Stop the children (at exit; a later PDF would start them again)."""
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: dict[int, Any] = {}
_shared_lock = threading.Lock()


def shared_renderer(env: Mapping[str, str] = os.environ) -> Any:
    """This process's renderer: a :class:`RenderPool` of ``MOTCUA_PDF_PROCESSES`` children,
    or a ``printouts.render.Renderer`` in this process when it is 0. Created on first use
    (WeasyPrint loads only when something is printed) and shared by every caller."""
    processes = processes_from_env(env)
    with _shared_lock:
        if processes not in _shared:
            if processes == 0:
                from printouts.render import Renderer

                _shared[processes] = Renderer()
            else:
                pool = _shared[processes] = RenderPool(processes)
                atexit.register(pool.close)
        return _shared[processes]
