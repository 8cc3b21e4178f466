"""Small dialect helpers so one report query runs on SQLite and PostgreSQL.

Instants are stored in UTC (``engine.db``); every date the law talks about is a local date in
Asia/Ho_Chi_Minh, which has been UTC+07:00 without daylight saving since 1975. The local date of
a stored instant is therefore computed in SQL, per row, without a time-zone database on SQLite.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Date, String, cast, func, literal
from sqlalchemy.sql.elements import ColumnElement

from engine.lifecycle.models import Dossier, DossierEvent, DossierStep

D = Dossier.__table__
EV = DossierEvent.__table__
ST = DossierStep.__table__
LOCAL_OFFSET = "+7 hours"  # Asia/Ho_Chi_Minh: UTC+07:00, no DST since 1975
LOCAL_ZONE = "Asia/Ho_Chi_Minh"


def local_date(column: Any, dialect: str) -> ColumnElement[Any]:
    """The local (Asia/Ho_Chi_Minh) calendar date of a stored instant, comparable with a
    ``Date`` column or a :func:`date_param` on the same dialect."""
    if dialect == "sqlite":
        return func.date(column, LOCAL_OFFSET)
    return cast(func.timezone(LOCAL_ZONE, column), Date)


def local_minute(column: Any, dialect: str) -> ColumnElement[Any]:
    """``YYYY-MM-DD HH:MM`` of a stored instant in local time (for working-hour sums)."""
    if dialect == "sqlite":
        return func.strftime("%Y-%m-%d %H:%M", column, LOCAL_OFFSET)
    return func.to_char(func.timezone(LOCAL_ZONE, column), "YYYY-MM-DD HH24:MI")


def date_param(value: Any) -> ColumnElement[Any]:
    return literal(value, Date)


def json_text_contains(column: Any, token: str) -> ColumnElement[bool]:
    """A JSON list column (``dossier.flags``) contains the string ``token``."""
    return cast(column, String).like(f'%"{token}"%')


def json_has(column: Any, key: str, dialect: str) -> ColumnElement[bool]:
    """A JSON object column has a non-null ``key`` (SQLite JSON1 / PostgreSQL ``->``)."""
    if dialect == "sqlite":
        return func.json_extract(column, f'$."{key}"').is_not(None)
    return column.op("->")(literal(key)).is_not(None)
