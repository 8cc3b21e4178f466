"""Records of many dossiers as one file: JSON Lines or CSV (``motcua sync export``, issue 17).

The portal and the province's statisticians exchange periods of records as files; both
formats keep the record's keys (``engine.sync.record.FIELDS``) in one stable order, so two
exports of the same records are byte-identical and a diff shows only what changed. CSV cells
are text: :func:`from_csv` gives the integers and the empty values (``None``) back from the
schema's types, so a record survives the round trip and validates again.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from engine.sync.record import FIELDS, schema


def columns(records: Iterable[Mapping[str, Any]]) -> list[str]:
    """:data:`FIELDS`, then any other key met (sorted) — never silently dropped."""
    extra = sorted({key for record in records for key in record} - set(FIELDS))
    return [*FIELDS, *extra]


def to_jsonl(records: Iterable[Mapping[str, Any]]) -> str:
    """One JSON object per line, keys in column order, Vietnamese kept as text (UTF-8)."""
    records = list(records)
    order = columns(records)
    lines = [json.dumps({k: r[k] for k in order if k in r}, ensure_ascii=False,
                        separators=(",", ":")) for r in records]
    return "".join(line + "\n" for line in lines)


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def to_csv(records: Iterable[Mapping[str, Any]]) -> str:
    """A header row of the columns, then one row per record (``None`` → empty cell)."""
    records = list(records)
    order = columns(records)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(order)
    for record in records:
        writer.writerow([_cell(record.get(k)) for k in order])
    return out.getvalue()


def from_jsonl(text: str) -> list[dict[str, Any]]:
    """The records of :func:`to_jsonl`'s output (blank lines skipped)."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _typed(name: str, cell: str) -> Any:
    """A CSV cell as the schema types the field: integers back to ``int``, an empty cell of
    a nullable field to ``None``."""
    spec = schema()["properties"].get(name, {})
    kinds = spec.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if cell == "" and "null" in kinds:
        return None
    if "integer" in kinds and cell.lstrip("-").isdigit():
        return int(cell)
    return cell


def from_csv(text: str) -> list[dict[str, Any]]:
    """The records of :func:`to_csv`'s output, typed again (a UTF-8 BOM is ignored)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    return [{name: _typed(name, cell) for name, cell in row.items()} for row in reader]


__all__ = ["columns", "from_csv", "from_jsonl", "to_csv", "to_jsonl"]
