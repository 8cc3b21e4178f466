"""Reconciliation (*đối soát*) of a portal-side export with the local records (issue 17):
which dossiers one side has and the other has not, and which differ in status
(``TrangThaiHoSo``) or in the dates the indicators are computed from (``NgayTiepNhan``,
``NgayHenTra``, ``NgayKetThucXuLy``, ``NgayTra``).

Pure functions over records in the national vocabulary (``engine.sync.record.national_record``,
written by ``engine.sync.batch.to_jsonl`` / ``to_csv``): the CLI (``motcua sync reconcile``)
builds the local records and prints the answer. Why these fields only: QĐ 766 1.4, 2.1 and 3.3
are computed by the portal from the status and these four dates; a difference elsewhere (a
name, a note) does not change a published figure. Values are compared as text after
trimming, so a CSV (everything text) and a JSONL export (numbers as numbers) of the same
records are equal; an empty cell equals an absent key.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

CODE = "MaHoSo"
STATUS = "TrangThaiHoSo"
SEQUENCE = "SoThuTuSuKien"
DATES = ("NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra")
COMPARED = (STATUS, *DATES)
#: Vietnamese names of the compared fields, for people.
FIELD_LABELS = {STATUS: "Trạng thái", "NgayTiepNhan": "Ngày tiếp nhận",
                "NgayHenTra": "Ngày hẹn trả", "NgayKetThucXuLy": "Ngày kết thúc xử lý",
                "NgayTra": "Ngày trả kết quả"}


class ReconcileInputError(ValueError):
    """The portal file cannot be read (Vietnamese message naming the line)."""


@dataclass(frozen=True, slots=True)
class Difference:
    """One field of one dossier that differs; values as text ("" = none)."""

    code: str
    field: str
    local: str
    portal: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "label": FIELD_LABELS[self.field],
                "local": self.local, "portal": self.portal}


@dataclass
class Reconciliation:
    compared: int = 0  # dossiers on both sides
    only_local: list[str] = field(default_factory=list)  # not on the portal
    only_portal: list[str] = field(default_factory=list)  # not here
    differences: list[Difference] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not (self.only_local or self.only_portal or self.differences)

    def as_dict(self) -> dict[str, Any]:
        return {"equal": self.equal, "compared": self.compared,
                "only_local": self.only_local, "only_portal": self.only_portal,
                "differences": [d.as_dict() for d in self.differences]}


def text_of(value: Any) -> str:
    """A compared value as text: ``None`` → "", ``4`` and ``"4"`` alike."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _sequence(record: Mapping[str, Any]) -> int:
    try:
        return int(text_of(record.get(SEQUENCE)) or -1)
    except ValueError:
        return -1


def latest_by_code(records: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """One record per dossier: the one with the highest event number (``SoThuTuSuKien``), the
    last in the file on a tie — a portal export may list every state a dossier went through."""
    latest: dict[str, Mapping[str, Any]] = {}
    for record in records:
        code = text_of(record.get(CODE))
        if not code:
            continue
        if code not in latest or _sequence(record) >= _sequence(latest[code]):
            latest[code] = record
    return latest


def reconcile(local: Iterable[Mapping[str, Any]],
              portal: Iterable[Mapping[str, Any]]) -> Reconciliation:
    """Compare the two sides dossier by dossier (by ``MaHoSo``), in code order."""
    here, there = latest_by_code(local), latest_by_code(portal)
    result = Reconciliation(only_local=sorted(set(here) - set(there)),
                            only_portal=sorted(set(there) - set(here)))
    for code in sorted(set(here) & set(there)):
        result.compared += 1
        for name in COMPARED:
            mine, theirs = text_of(here[code].get(name)), text_of(there[code].get(name))
            if mine != theirs:
                result.differences.append(Difference(code, name, mine, theirs))
    return result


# ----- reading an export ---------------------------------------------------------------------

def parse_jsonl(text: str) -> list[dict[str, Any]]:
    """Records of a JSON Lines export (blank lines skipped)."""
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ReconcileInputError(f"dòng {number}: không phải JSON ({exc.msg})") from None
        if not isinstance(record, dict) or CODE not in record:
            raise ReconcileInputError(f"dòng {number}: thiếu trường {CODE}")
        records.append(record)
    return records


def parse_csv(text: str) -> list[dict[str, Any]]:
    """Records of a CSV export with a header row (a UTF-8 BOM is ignored)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None or CODE not in reader.fieldnames:
        raise ReconcileInputError(f"dòng 1: tiêu đề CSV thiếu cột {CODE}")
    return [dict(row) for row in reader]


def parse(text: str, fmt: str) -> list[dict[str, Any]]:
    """Records of an export in ``fmt`` (``jsonl`` or ``csv``)."""
    if fmt == "jsonl":
        return parse_jsonl(text)
    if fmt == "csv":
        return parse_csv(text)
    raise ReconcileInputError(f"định dạng không hỗ trợ {fmt!r} (jsonl, csv)")


def receipt_day(record: Mapping[str, Any]) -> date | None:
    """The local day of ``NgayTiepNhan`` (``yyyyMMddHHmmss``), or None."""
    value = text_of(record.get("NgayTiepNhan"))
    if len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return None


def receipt_span(records: Iterable[Mapping[str, Any]]) -> tuple[date, date] | None:
    """The first and last receipt day of the records (the period they cover), or None."""
    days = [d for d in map(receipt_day, records) if d is not None]
    return (min(days), max(days)) if days else None
