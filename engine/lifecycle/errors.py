"""Errors of the lifecycle, each with a stable machine-readable ``type`` and a Vietnamese
message for people (the API turns them into RFC 9457 problem documents)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.exc import OperationalError

from engine.lifecycle.machine import IllegalAction

__all__ = ["Conflict", "DossierNotFound", "Forbidden", "IllegalAction", "InvalidInput",
           "LifecycleError", "NotFound", "contention_as_conflict", "is_contention"]


class LifecycleError(Exception):
    type = "error"
    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(LifecycleError):
    """Missing or wrong data (a reason, a component list, a date); nothing was changed."""

    type = "invalid-input"
    status = 422


class Forbidden(LifecycleError):
    """The actor's role or agency may not take this action on this dossier."""

    type = "forbidden"
    status = 403


class NotFound(LifecycleError):
    type = "not-found"
    status = 404


class DossierNotFound(NotFound):
    """No such dossier, or one the caller may not see (the two answer alike)."""

    type = "dossier-not-found"


class Conflict(LifecycleError):
    """Someone else changed the dossier at the same time; reload and try again."""

    type = "conflict"
    status = 409


#: PostgreSQL: lock_not_available (NOWAIT, lock_timeout), deadlock_detected,
#: serialization_failure — another transaction holds what this one needs.
_CONTENTION_SQLSTATES = frozenset({"55P03", "40P01", "40001"})


def is_contention(exc: BaseException) -> bool:
    """Whether a database error means "another transaction is in the way" and a retry may
    succeed: SQLite busy or locked (the busy timeout ran out while another writer held the
    database), or one of PostgreSQL's lock errors. A lost connection is not contention."""
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _CONTENTION_SQLSTATES:
        return True
    message = str(orig).lower()
    return type(orig).__module__ == "sqlite3" and ("locked" in message or "busy" in message)


@contextmanager
def contention_as_conflict(**details: Any) -> Iterator[None]:
    """Turn contention on the first write of a transaction into :class:`Conflict`.

    SQLite takes its single write lock at a transaction's first write and waits at most
    ``busy_timeout`` for it; under many concurrent writers that wait can run out, and the
    caller must get a Conflict (roll back, retry), never a raw ``database is locked``.
    """
    try:
        yield
    except OperationalError as exc:
        if not is_contention(exc):
            raise
        raise Conflict("cơ sở dữ liệu đang bận vì có giao dịch khác; vui lòng thử lại",
                       **details) from exc
