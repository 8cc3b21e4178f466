"""Writing an action's rows with plain statements instead of the ORM's unit of work.

An action writes one dossier row, one event, a few hand-off rows and documents. Flushing them
through the ORM cost more than running the statements (about 30 % of an action in
``bench/lifecycle.py``), so an action writes exactly the columns it changed with Core and then
tells the session that its objects match the database: the commit flushes nothing, and the
objects stay usable (and expire on commit) like any loaded row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import Insert, Table, Update, bindparam, insert
from sqlalchemy.orm import Session, class_mapper, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state

M = TypeVar("M")


def new_row(model: type[M], **values: Any) -> M:
    """A new (transient) row of the table model ``model``, as ``model(**values)`` makes it —
    every field set, the defaults filled in — for a sixth of the cost: the constructor sets
    each of a dossier's ~70 fields through the model's ``__setattr__`` (~150 µs, once per
    receipt and per issued form). The instance comes from the class manager with its
    dictionary filled, which is how the ORM's own loader makes the rows it reads."""
    fields, constants, factories = _defaults(model)
    unknown = values.keys() - fields
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)}")
    obj = class_mapper(model).class_manager.new_instance()
    row = obj.__dict__
    row.update(constants)
    for name, factory in factories:
        row[name] = factory()
    row.update(values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values))  # as the constructor
    return obj


@cache
def _defaults(model: type) -> tuple[frozenset[str], dict[str, Any],
                                    tuple[tuple[str, Callable[[], Any]], ...]]:
    """(the model's fields, its constant defaults, the defaults made anew for each row: a
    factory, or a copy of a mutable default), read once per model."""
    if getattr(model, "__sqlmodel_relationships__", None):
        raise TypeError(f"{model.__name__} has relationships: use its constructor")
    constants, factories = {}, []
    for name, field in model.model_fields.items():
        if field.is_required():
            continue
        if getattr(field, "default_factory_takes_data", False):
            raise TypeError(f"{model.__name__}.{name}: a default made from the other fields")
        if field.default_factory is not None:
            factories.append((name, field.default_factory))
        elif isinstance(field.default, (list, dict, set)):
            factories.append((name, lambda default=field.default: copy.deepcopy(default)))
        else:
            constants[name] = field.default
    return frozenset(model.model_fields), constants, tuple(factories)


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
