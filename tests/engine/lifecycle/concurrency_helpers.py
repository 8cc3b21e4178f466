"""Code that runs in the worker *processes* of the concurrency tests.

A spawned process re-imports the function it runs by module name, so this module imports only
the engine (not pytest fixtures) and takes everything it needs as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.db import make_engine, session_scope
from engine.lifecycle import Actor, Applicant, receive
from engine.lifecycle.errors import Conflict


def receive_batch(url: str, actor: Actor, applicant: Applicant,
                  components: list[Mapping[str, Any]], competent_agency: str, at: datetime,
                  count: int, start_barrier: Any = None) -> tuple[list[str], int]:
    """Receive ``count`` dossiers, one transaction each, retrying the ones that lose a race
    (:class:`Conflict`). Returns the codes issued and how many attempts were retried."""
    engine = make_engine(url)
    codes, retries = [], 0
    try:
        if start_barrier is not None:
            start_barrier.wait()
        while len(codes) < count:
            try:
                with session_scope(engine) as session:
                    result = receive(session, actor=actor, procedure_code="1.000001",
                                     applicant=applicant, components=list(components),
                                     competent_agency=competent_agency, at=at)
                    code = result.dossier.code
            except Conflict:
                retries += 1
                continue
            codes.append(code)
    finally:
        engine.dispose()
    return codes, retries


def receive_batch_into(results: Any, index: int, *args: Any) -> None:
    """:func:`receive_batch` for a ``multiprocessing.Process``: puts ``(index, outcome)`` on
    ``results``, the outcome being the return value or the error's text."""
    try:
        outcome: Any = receive_batch(*args)
    except BaseException as exc:  # report everything: the parent fails the test with it
        import traceback

        outcome = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    results.put((index, outcome))
