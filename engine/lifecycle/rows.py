"""Writing an action's rows with plain statements instead of the ORM's unit of work.

An action writes one dossier row, one event, a few hand-off rows and documents. Flushing them
through the ORM cost more than running the statements (about 30 % of an action in
``bench/lifecycle.py``), so an action writes exactly the columns it changed with Core and then
tells the session that its objects match the database: the commit flushes nothing, and the
objects stay usable (and expire on commit) like any loaded row.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table, Update, bindparam, insert
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state


@cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


def insert_row(session: Session, obj: Any) -> int:
    """INSERT a new (transient) object with every column it holds, then attach it to the
    session as a loaded row with its new id (generated columns are left unloaded)."""
    table = type(obj).__table__
    written, generated = _insert_columns(table)
    values = {key: getattr(obj, key) for key in written}
    obj.id = session.connection().execute(_insert_returning_id(table), values).scalar_one()
    make_transient_to_detached(obj)
    session.add(obj)
    if generated:  # the database computed them: read on first access, never the None we hold
        session.expire(obj, generated)
    return obj.id


@cache
def _insert_columns(table: Table) -> tuple[tuple[str, ...], list[str]]:
    """(the columns an INSERT writes, the generated ones it must leave to the database)."""
    written = tuple(c.key for c in table.columns if c.key != "id" and c.computed is None)
    return written, [c.key for c in table.columns if c.computed is not None]


@cache
def _update_by_id(table: Table, compare: str | None) -> Update:
    """``UPDATE table SET <the parameters' columns> WHERE id = :row_id [AND compare =
    :row_expected]``: one statement object per table, so its cache key is computed once."""
    where = [table.c.id == bindparam("row_id")]
    if compare:
        where.append(table.c[compare] == bindparam("row_expected"))
    return table.update().where(*where)


def update_row(session: Session, obj: Any, *, compare: str | None = None,
               also: dict[str, Any] | None = None) -> int:
    """UPDATE the columns of a loaded object that changed since it was loaded (plus ``also``);
    with ``compare``, only if that column still holds the value the object was loaded with (a
    compare-and-set). Returns the rows matched. The object is then marked in sync, so the
    session will not write it again."""
    state = instance_state(obj)
    current = state.dict
    values = {key: current[key] for key, old in state.committed_state.items()
              if key in current and current[key] != old}
    values.update(also or {})
    if not values:
        return 1
    values["row_id"] = obj.id
    if compare:
        values["row_expected"] = state.committed_state.get(compare, current[compare])
    result = session.connection().execute(_update_by_id(type(obj).__table__, compare), values)
    current.update(also or {})
    # What the ORM itself does after flushing an object (no public spelling of it).
    state._commit_all(current, session.identity_map)
    return result.rowcount
