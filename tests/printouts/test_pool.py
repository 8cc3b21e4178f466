"""PDFs rendered in a child process (``printouts.pool``, issue 18): the same document as in
the calling process, the worker's interpreter left free, a dead child replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from printouts.pool import RenderPool, processes_from_env, shared_renderer
from printouts.render import Renderer

from .conftest import needs_poppler, pdf_text, sample_context


@pytest.fixture(scope="module")
def pool():
    rendering = RenderPool(1)
    yield rendering
    rendering.close()


def children(pool: RenderPool) -> list[int]:
    return list(pool._executor._processes) if pool._executor is not None else []


@needs_poppler
def test_a_receipt_from_the_child_reads_as_the_one_rendered_here(pool, renderer, tmp_path):
    context = sample_context("receipt", "2025")
    here, there = tmp_path / "here.pdf", tmp_path / "there.pdf"
    renderer.pdf(context, here)
    assert pool.pdf(context, there) is None
    assert there.read_bytes().startswith(b"%PDF")
    assert pdf_text(there) == pdf_text(here)
    assert children(pool) and os.getpid() not in children(pool)  # laid out elsewhere


def test_a_child_that_died_is_replaced_and_the_pdf_still_comes(pool):
    context = sample_context("receipt", "2025")
    assert pool.pdf(context).startswith(b"%PDF")
    (dead,) = children(pool)
    os.kill(dead, signal.SIGKILL)
    assert pool.pdf(context).startswith(b"%PDF")
    assert children(pool) and dead not in children(pool)


def test_the_setting_is_a_whole_number_and_zero_renders_in_this_process():
    assert processes_from_env({}) == 1
    assert processes_from_env({"MOTCUA_PDF_PROCESSES": "3"}) == 3
    for bad in ("-1", "1.5", "một"):
        with pytest.raises(ValueError, match="MOTCUA_PDF_PROCESSES"):
            processes_from_env({"MOTCUA_PDF_PROCESSES": bad})
    assert isinstance(shared_renderer({"MOTCUA_PDF_PROCESSES": "0"}), Renderer)
    assert shared_renderer({"MOTCUA_PDF_PROCESSES": "0"}) is \
        shared_renderer({"MOTCUA_PDF_PROCESSES": "0"})


SERVER_KILLED_WITH_CHILDREN = """
import os, time
from printouts.pool import RenderPool
if __name__ == "__main__":  # the children are spawned: they import this file again
    pool = RenderPool(1)
    print(pool._pool().submit(os.getpid).result(), flush=True)  # started as for a PDF
    time.sleep(600)  # killed here, as a server by kill -9
"""


def test_the_children_leave_when_their_server_is_killed(tmp_path):
    """A server killed with ``kill -9`` must not leave its PDF children waiting for ever."""
    script = tmp_path / "server.py"
    script.write_text(SERVER_KILLED_WITH_CHILDREN, encoding="utf-8")
    server = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).parents[2])
    try:
        child = int(server.stdout.readline())
        assert _alive(child)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        deadline = time.monotonic() + 15
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(child), "the PDF child outlived its killed server"
    finally:
        server.kill()
        server.wait()


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, dead but not yet reaped by init, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False
