"""The dossiers and their events partitioned by year on PostgreSQL (issue 18, docs/scaling.md).

A national deployment writes ~60M dossiers and about five times as many events a year. PostgreSQL's
declarative partitioning splits ``dossier`` by the instant it was received (*ngày tiếp nhận*,
``received_at``) and ``dossier_event`` by the instant of each event (``at``) into one table per
year of the law's calendar (1 January 00:00 Asia/Ho_Chi_Minh), plus a default partition. A
year's report then reads no later year and only the carried-over rows of earlier ones, a closed
year can be detached and archived as one table, and each year's indexes stay one year's size.

This is a physical layout, not a schema version: the migrations stay the schema's authority
and :func:`convert` runs *after* ``motcua db upgrade`` (``motcua db partition``). Alembic keeps
working on the partitioned tables — a new column or index on the parent reaches every
partition — with the rules PostgreSQL sets (docs/scaling.md#partitioning):

- a primary key or unique constraint on a partitioned table must contain the partition key.
  ``dossier.received_at`` is empty until a dossier is received (online submissions, refusals
  at the counter), so it cannot be in a primary key; ``dossier.id``, ``code``, ``portal_id`` and
  the events' ``id``, ``(dossier_id, seq)`` and ``idempotency_key`` become unique *per
  partition* (each partition's own index). Ids come from one sequence and codes from the
  counter rows (``engine.lifecycle.codes``), so they are unique across partitions by
  construction; the per-partition indexes remain the guard within a year;
- a foreign key can reference a partitioned table only through a unique constraint containing
  the key, so the foreign keys *to* ``dossier`` and ``dossier_event`` are dropped: the lifecycle
  writes a dossier's rows in the transaction that writes or locks the dossier, and nothing
  deletes a dossier. :func:`orphans` counts rows whose dossier is missing, for a periodic check;
- a dossier received after it was submitted moves from the default partition to its year's
  (PostgreSQL moves the row within the ``UPDATE``); a concurrent action on it loses with a
  conflict as on one table (the lifecycle locks the row ``NOWAIT``, and an update that waited
  on a moved row fails with a serialization error, which it also reads as a conflict).

Everything here is plain SQL on one connection, in the caller's transaction: an error leaves
the tables as they were.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

#: Partitioned table → its partition key (an instant; partitions are local calendar years).
KEYS = {"dossier": "received_at", "dossier_event": "at"}
#: Indexes only a partitioned table needs (not in the migrations: ``alembic check`` lists them).
#: A period's report takes the dossiers received before it and not ended by its start; in each
#: earlier year's partition those are a few, found by ``ended_on`` instead of a scan of the year
#: (the report of 2026 read 1,390 buffers of 2025's partition instead of 11,570:
#: ``bench/partitioning.py``'s database, docs/scaling.md#partitioning).
EXTRA_INDEXES = {"dossier": {"ix_dossier_ended_on": "(ended_on)"}}
#: The law's calendar: Asia/Ho_Chi_Minh has been UTC+07:00 without daylight saving since 1975.
LOCAL_OFFSET = "+07:00"
#: Declarative partitioning with foreign keys and default partitions as used here.
MINIMUM_SERVER_VERSION = 120000

_INDEX_DEF = re.compile(r"^CREATE (UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+) (USING .*)$")


class PartitioningError(RuntimeError):
    """The database cannot be partitioned as asked (not PostgreSQL, too old, not migrated)."""


@dataclass
class Report:
    """What :func:`convert` or :func:`add_years` did, for the command line to print."""

    converted: list[str] = field(default_factory=list)
    partitions_added: list[str] = field(default_factory=list)
    rows_moved: dict[str, int] = field(default_factory=dict)
    foreign_keys_dropped: list[str] = field(default_factory=list)


def is_partitioned(connection: Connection, table: str) -> bool:
    """True if ``table`` (in the current schema) is a partitioned table."""
    kind = connection.execute(text(
        "SELECT c.relkind FROM pg_class c WHERE c.oid = to_regclass(:t)"), {"t": table}).scalar()
    return kind == "p"


def partitions(connection: Connection, table: str) -> list[str]:
    """The partitions of ``table``, by name."""
    return list(connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname"), {"t": table}).scalars())


def year_bounds(year: int) -> tuple[str, str]:
    """The instants a year partition holds, ``[from, to)``: local midnight of two 1 Januaries."""
    return f"{year}-01-01 00:00:00{LOCAL_OFFSET}", f"{year + 1}-01-01 00:00:00{LOCAL_OFFSET}"


def convert(connection: Connection, years: Iterable[int]) -> Report:
    """Turn ``dossier`` and ``dossier_event`` into tables partitioned by year, with a partition
    for each of ``years`` and a default one; tables already partitioned only gain the years
    they lack (:func:`add_years`). Run on a database migrated to head, service stopped: the
    rows are copied under an exclusive lock (50 s for 200,000 dossiers and a million events on
    a busy 2-core machine, ``bench/partitioning.py``): best at installation, when it is empty."""
    _check_server(connection)
    years = sorted(set(years))
    report = Report()
    for table in KEYS:
        if not is_partitioned(connection, table):
            _lock(connection, table)
            report.foreign_keys_dropped += _drop_foreign_keys_to(connection, table)
    for table in KEYS:
        if not is_partitioned(connection, table):
            _convert_table(connection, table, years, report)
            report.converted.append(table)
        else:
            add_years(connection, years, report, tables=[table])
    return report


def add_years(connection: Connection, years: Iterable[int], report: Report | None = None,
              tables: Iterable[str] = tuple(KEYS)) -> Report:
    """Add the missing year partitions of ``years`` (run each December for the next year).
    Rows of such a year already in the default partition move into the new partition first:
    PostgreSQL refuses a new partition whose rows the default partition holds."""
    report = report or Report()
    for table in tables:
        existing = set(partitions(connection, table))
        for year in sorted(set(years)):
            if f"{table}_y{year}" not in existing:
                moved = _add_year(connection, table, year)
                report.partitions_added.append(f"{table}_y{year}")
                if moved:
                    report.rows_moved[f"{table}_y{year}"] = moved
    return report


def orphans(connection: Connection) -> dict[str, int]:
    """Rows whose dossier (or event) does not exist, per referencing column: what the dropped
    foreign keys used to refuse. All zero on a sound database."""
    counts = {}
    for child, column, parent in REFERENCES:
        counts[f"{child}.{column}"] = connection.execute(text(
            f'SELECT count(*) FROM "{child}" c WHERE c."{column}" IS NOT NULL AND NOT EXISTS '
            f'(SELECT 1 FROM "{parent}" p WHERE p.id = c."{column}")')).scalar_one()
    return counts


#: The foreign keys to the partitioned tables of migration head (checked by :func:`orphans`).
REFERENCES = (
    ("dossier_event", "dossier_id", "dossier"),
    ("dossier_step", "dossier_id", "dossier"),
    ("issued_document", "dossier_id", "dossier"),
    ("issued_document", "event_id", "dossier_event"),
    ("appointment_move", "dossier_id", "dossier"),
    ("attachment", "dossier_id", "dossier"),
    ("dossier_rating", "dossier_id", "dossier"),
)


def _check_server(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        raise PartitioningError("chỉ PostgreSQL hỗ trợ phân vùng bảng (partitioning); "
                                "SQLite dùng cho một đơn vị không cần")
    version = int(connection.execute(text("SHOW server_version_num")).scalar_one())
    if version < MINIMUM_SERVER_VERSION:
        raise PartitioningError(f"cần PostgreSQL 12 trở lên (máy chủ: {version})")
    if connection.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
        raise PartitioningError("cơ sở dữ liệu chưa được khởi tạo: chạy 'motcua db upgrade'")


def _lock(connection: Connection, table: str) -> None:
    """No reader or writer meets the table half converted."""
    connection.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))


def _drop_foreign_keys_to(connection: Connection, table: str) -> list[str]:
    """Drop every foreign key referencing ``table``; returns ``child.constraint`` names."""
    rows = connection.execute(text(
        "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
        "WHERE c.contype = 'f' AND c.confrelid = to_regclass(:t) ORDER BY 1, 2"),
        {"t": table}).all()
    for child, name in rows:
        connection.execute(text(f'ALTER TABLE {child} DROP CONSTRAINT "{name}"'))
    return [f"{child}.{name}" for child, name in rows]


@dataclass(frozen=True)
class _IndexDef:
    name: str
    unique: bool
    primary: bool
    has_key: bool  # contains the partition key: may stay one index on the partitioned table
    inherited: bool  # a partition's part of an index on the partitioned table
    using: str  # "USING btree (code) WHERE …", as pg_get_indexdef prints it


def _indexes(connection: Connection, table: str, key: str) -> list[_IndexDef]:
    rows = connection.execute(text(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary, "
        "a.attnum = ANY (i.indkey), "
        "EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid) "
        "FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = :key "
        "WHERE i.indrelid = to_regclass(:t) ORDER BY 1"), {"t": table, "key": key}).all()
    found = []
    for name, definition, unique, primary, has_key, inherited in rows:
        match = _INDEX_DEF.match(definition)
        if match is None:  # pragma: no cover - pg_get_indexdef always prints this shape
            raise PartitioningError(f"unexpected index definition: {definition}")
        found.append(_IndexDef(name, unique, primary, has_key, inherited, match.group(4)))
    return found


def _columns(connection: Connection, table: str) -> str:
    """The columns an INSERT may write (not the generated ones), in table order, as SQL."""
    return ", ".join(f'"{c}"' for c in connection.execute(text(
        "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(:t) AND attnum > 0 "
        "AND NOT attisdropped AND attgenerated = '' ORDER BY attnum"), {"t": table}).scalars())


def _convert_table(connection: Connection, table: str, years: list[int],
                   report: Report) -> None:
    """Copy ``table`` into a new partitioned table of the same name, indexes included: those
    containing the key once on the partitioned table (each partition gets its part, new
    partitions too), the unique ones without it on each partition."""
    key, old = KEYS[table], f"{table}__unpartitioned"
    indexes = _indexes(connection, table, key)
    connection.execute(text(f'ALTER TABLE "{table}" RENAME TO "{old}"'))
    connection.execute(text(
        f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING GENERATED '
        f"INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) "
        f'PARTITION BY RANGE ("{key}")'))
    connection.execute(text(f'CREATE TABLE "{table}_default" PARTITION OF "{table}" DEFAULT'))
    for index in indexes:
        if index.unique and not index.has_key:
            _create_local_unique(connection, f"{table}_default", index.name, index)
    for year in years:
        _add_year(connection, table, year)
        report.partitions_added.append(f"{table}_y{year}")
    # The rows go in before the shared indexes: one sort per index, not an insert per row.
    columns = _columns(connection, old)
    connection.execute(text(f'INSERT INTO "{table}" ({columns}) SELECT {columns} FROM "{old}"'))
    # The id sequence belongs to the old table: dropping that would drop the sequence.
    sequence = connection.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"),
                                  {"t": old}).scalar()
    if sequence:
        connection.execute(text(f'ALTER SEQUENCE {sequence} OWNED BY "{table}".id'))
    connection.execute(text(f'DROP TABLE "{old}"'))
    for index in indexes:
        if not index.unique or index.has_key:
            unique = "UNIQUE " if index.unique else ""
            connection.execute(text(f'CREATE {unique}INDEX "{index.name}" ON "{table}" '
                                    f"{index.using}"))
    for name, columns in EXTRA_INDEXES.get(table, {}).items():
        connection.execute(text(f'CREATE INDEX "{name}" ON "{table}" {columns}'))
    connection.execute(text(f'ANALYZE "{table}"'))


def _create_local_unique(connection: Connection, partition: str, name: str,
                         index: _IndexDef) -> None:
    """One partition's own unique index (its primary key if ``index`` was one)."""
    suffix = partition.rsplit("_", 1)[-1]
    local = f"{partition}_pkey" if index.primary else f"{name}_{suffix}"
    connection.execute(text(f'CREATE UNIQUE INDEX "{local}" ON "{partition}" {index.using}'))
    if index.primary:
        connection.execute(text(f'ALTER TABLE "{partition}" ADD CONSTRAINT "{local}" '
                                f'PRIMARY KEY USING INDEX "{local}"'))


def _add_year(connection: Connection, table: str, year: int) -> int:
    """Create ``table``'s partition of ``year`` with the default partition's own unique
    indexes; returns how many rows it took over from the default partition."""
    key, default = KEYS[table], f"{table}_default"
    leaf, (low, high) = f"{table}_y{year}", year_bounds(year)
    bounds = f"FOR VALUES FROM ('{low}') TO ('{high}')"
    in_year = f"\"{key}\" >= '{low}' AND \"{key}\" < '{high}'"
    waiting = connection.execute(text(
        f'SELECT count(*) FROM "{default}" WHERE {in_year}')).scalar_one()
    if not waiting:
        connection.execute(text(f'CREATE TABLE "{leaf}" PARTITION OF "{table}" {bounds}'))
    else:
        columns = _columns(connection, table)
        connection.execute(text(
            f'CREATE TABLE "{leaf}" (LIKE "{table}" INCLUDING DEFAULTS INCLUDING GENERATED '
            f"INCLUDING CONSTRAINTS INCLUDING STORAGE)"))
        connection.execute(text(f'INSERT INTO "{leaf}" ({columns}) SELECT {columns} '
                                f'FROM "{default}" WHERE {in_year}'))
        connection.execute(text(f'DELETE FROM "{default}" WHERE {in_year}'))
        connection.execute(text(f'ALTER TABLE "{table}" ATTACH PARTITION "{leaf}" {bounds}'))
    for index in _indexes(connection, default, key):
        if index.unique and not index.inherited:
            base = (index.name if index.primary
                    else index.name.removesuffix("_default"))
            _create_local_unique(connection, leaf, base, index)
    return waiting
