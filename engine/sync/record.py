"""The outbound record of one dossier event in the national portal's vocabulary (domain §7.4).

Every state change a one-stop system makes must reach the Cổng Dịch vụ công quốc gia with the
ten status codes (``TrangThaiHoSo``, domain §2.1), the channel (``KenhThucHien``) and the dates
as ``yyyyMMddHHmmss`` in Asia/Ho_Chi_Minh: the province's QĐ 766 figures are computed from what
was synchronised. Two pure steps, so the outbox (``engine.sync.outbound``), the batch export and
the reconciliation build the very same record:

* :func:`facts_of` reads a ``Dossier`` row and one ``DossierEvent`` (or the lifecycle's event
  dict wrapped in a namespace) as plain attribute holders into :class:`SyncFacts` — no query;
* :func:`national_record` turns the facts into the record, whose keys and types are fixed by
  ``workflows/schemas/national-sync.schema.json`` (:data:`SCHEMA_PATH`, JSON Schema 2020-12)
  and checked by :func:`validate`.

The record is the dossier *as it stands* after the event, plus the event itself (its number
``SoThuTuSuKien``, action ``MaSuKien``, instant and actor). Field meanings, sources and the
[S]/[I] marks: docs/sync.md, "The record".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # jsonschema is imported when a record is first checked (CLI start-up)
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

from engine.lifecycle.states import Action, Channel, State
from engine.text import nfc
from engine.timezone import read_instant, to_local

#: The schema file (in ``workflows/`` with the other data the project ships; read by path, so
#: the engine imports nothing from ``workflows``).
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflows" / "schemas" / \
    "national-sync.schema.json"

#: The record's keys in their stable order (CSV columns, docs/sync.md's table).
FIELDS: tuple[str, ...] = (
    "MaHoSo", "MaHoSoCong", "MaTTHC", "TenTTHC", "MaLinhVuc", "MaCoQuan", "DonViXuLy",
    "KenhThucHien", "ChuHoSo", "LoaiDoiTuong", "MaDoiTuong", "SoDienThoai", "Email",
    "TrangThaiHoSo", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "XinLoi", "NgayHenTraMoi",
    "NgayKetThucXuLy", "NgayTra", "HinhThuc", "MaKetQua",
    "SoThuTuSuKien", "MaSuKien", "ThoiDiemXuLy", "NguoiXuLy", "NoiDungXuLy",
)

#: ``HinhThuc`` — how the result goes back to the applicant [I]: the same codes as the inbound
#: ``HinhThucNhanKetQua`` (docs/sync.md): 1 at the one-stop unit, 2 by post, 3 online.
RETURN_METHOD_CODES = {"counter": 1, "post": 2, "online": 3}

#: ``LoaiDoiTuong``: 1 citizen (*công dân*), 2 business (*doanh nghiệp, tổ chức*) [S].
CITIZEN, BUSINESS = 1, 2
#: A business is known by its enterprise / tax code (*mã số doanh nghiệp*: 10 digits, a branch
#: 10-3); a person by a 12-digit personal identification number or a 9-digit old card [I].
_BUSINESS_ID = re.compile(r"^\d{10}(-\d{3})?$")

#: The wall-clock time given to a new appointment that is a date only (Mẫu 04's ``new_due``)
#: when the dossier has no due instant to take it from: the end of office hours [I].
APPOINTMENT_TIME = time(17, 0)

TIME_FORMAT = "%Y%m%d%H%M%S"


@dataclass(frozen=True, slots=True)
class SyncFacts:
    """Everything a record says, read from a dossier and one of its events (aware instants,
    NFC text). Kept apart from :func:`national_record` so the facts can be tested and built
    without any ORM object."""

    code: str
    procedure_code: str
    procedure_name: str
    receiving_agency: str
    competent_agency: str
    channel: str
    applicant_name: str
    state: str  # the state after the event
    seq: int
    action: str
    at: datetime
    actor: str  # the actor's full name, else their user name
    field_code: str | None = None
    portal_id: str | None = None
    applicant_id_number: str | None = None
    applicant_phone: str | None = None
    applicant_email: str | None = None
    submitted_at: datetime | None = None
    received_at: datetime | None = None
    due_at: datetime | None = None
    appointment_date: date | None = None
    apologised: bool = False
    ended_at: datetime | None = None
    end_kind: str | None = None
    returned_at: datetime | None = None
    return_method: str = "counter"
    reason: str | None = None


def _instant(value: Any) -> datetime | None:
    """An aware instant from a column: SQLite may hand back a naive UTC value or text."""
    value = read_instant(value)
    return value if isinstance(value, datetime) else None


def facts_of(dossier: Any, event: Any, *, field_code: str | None = None,
             actor_name: str | None = None) -> SyncFacts:
    """The facts of ``event`` on ``dossier`` (attribute holders: ORM rows or namespaces).

    ``field_code`` is the procedure's field (*lĩnh vực*) code when the caller knows it (the
    dossier does not store it); ``actor_name`` the actor's full name (an event stores the user
    name only). The status is the event's ``state_after``: the record is of that change.
    """
    return SyncFacts(
        code=dossier.code, procedure_code=dossier.procedure_code,
        procedure_name=nfc(dossier.procedure_name, strip=True),
        receiving_agency=dossier.receiving_agency, competent_agency=dossier.competent_agency,
        channel=dossier.channel, applicant_name=nfc(dossier.applicant_name, strip=True),
        state=event.state_after, seq=int(event.seq), action=event.action,
        at=_instant(event.at),
        actor=nfc((actor_name or "").strip() or event.actor_id, strip=True),
        field_code=field_code, portal_id=getattr(dossier, "portal_id", None),
        applicant_id_number=dossier.applicant_id_number,
        applicant_phone=dossier.applicant_phone, applicant_email=dossier.applicant_email,
        submitted_at=_instant(dossier.submitted_at), received_at=_instant(dossier.received_at),
        due_at=_instant(dossier.due_at), appointment_date=dossier.appointment_date,
        apologised=(dossier.apology_count or 0) > 0, ended_at=_instant(dossier.ended_at),
        end_kind=dossier.end_kind, returned_at=_instant(dossier.returned_at),
        return_method=dossier.return_method or "counter",
        reason=nfc(event.reason, strip=True) if event.reason else None,
    )


def national_time(instant: datetime | None) -> str | None:
    """``yyyyMMddHHmmss`` on the wall clock of Asia/Ho_Chi_Minh (domain §7.4): a UTC instant
    at 17:30 is the next local day's 00:30, and the portal counts days locally."""
    return to_local(instant).strftime(TIME_FORMAT) if instant is not None else None


def applicant_type(id_number: str | None) -> int:
    """``LoaiDoiTuong`` from the identifier the dossier holds [I]: an enterprise code means a
    business, anything else (a personal number, none) a citizen."""
    return BUSINESS if id_number and _BUSINESS_ID.match(id_number.strip()) else CITIZEN


def new_appointment(facts: SyncFacts) -> str | None:
    """``NgayHenTraMoi``: the appointment of the apology letter (Mẫu 04), at the due instant's
    time of day; None without an apology (the legal ``NgayHenTra`` never moves for it)."""
    if not facts.apologised or facts.appointment_date is None:
        return None
    clock = to_local(facts.due_at).time() if facts.due_at is not None else APPOINTMENT_TIME
    return datetime.combine(facts.appointment_date, clock).strftime(TIME_FORMAT)


def _summary(facts: SyncFacts) -> str:
    """``NoiDungXuLy``: the action's Vietnamese label, then the reason given."""
    label = Action(facts.action).label_vi
    return f"{label}: {facts.reason}" if facts.reason else label


def national_record(facts: SyncFacts) -> dict[str, Any]:
    """The record in the national vocabulary, keys in :data:`FIELDS` order (valid against
    :data:`SCHEMA_PATH` for every event the lifecycle writes)."""
    record = {
        "MaHoSo": facts.code,
        "MaHoSoCong": facts.portal_id,
        "MaTTHC": facts.procedure_code,
        "TenTTHC": facts.procedure_name,
        "MaLinhVuc": facts.field_code,
        "MaCoQuan": facts.receiving_agency,
        "DonViXuLy": facts.competent_agency,
        "KenhThucHien": Channel(facts.channel).national_code,
        "ChuHoSo": facts.applicant_name,
        "LoaiDoiTuong": applicant_type(facts.applicant_id_number),
        "MaDoiTuong": facts.applicant_id_number,
        "SoDienThoai": facts.applicant_phone,
        "Email": facts.applicant_email,
        "TrangThaiHoSo": State(facts.state).national_code,
        "NgayNopHoSo": national_time(facts.submitted_at),
        "NgayTiepNhan": national_time(facts.received_at),
        "NgayHenTra": national_time(facts.due_at),
        "XinLoi": 1 if facts.apologised else 0,
        "NgayHenTraMoi": new_appointment(facts),
        "NgayKetThucXuLy": national_time(facts.ended_at),
        "NgayTra": national_time(facts.returned_at),
        "HinhThuc": RETURN_METHOD_CODES.get(facts.return_method, 1),
        "MaKetQua": facts.end_kind,
        "SoThuTuSuKien": facts.seq,
        "MaSuKien": facts.action,
        "ThoiDiemXuLy": national_time(facts.at),
        "NguoiXuLy": facts.actor,
        "NoiDungXuLy": _summary(facts),
    }
    return nfc(record)


def record_key(dossier_code: str, seq: int) -> str:
    """The record's idempotency key (outbox and portal): one record per (dossier, event)."""
    return f"portal:{dossier_code}:{seq}"


# ----- the schema -----------------------------------------------------------------------------

@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The JSON Schema of a record (read once per process)."""
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema())
    return Draft202012Validator(schema())


_TYPE_VI = {"string": "chuỗi", "integer": "số nguyên", "null": "rỗng (null)", "object": "đối tượng"}


def _where(error: ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "bản ghi"


def _describe(error: ValidationError) -> str:
    """One schema error as a sentence naming the field (the portal's names are the fields)."""
    where = _where(error)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        return f"thiếu trường bắt buộc {', '.join(missing)}"
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"trường không có trong mẫu đồng bộ: {', '.join(extra)}"
    if error.validator == "pattern" and error.schema.get("pattern") == r"^\d{14}$":
        return f"{where}: {error.instance!r} không đúng định dạng yyyyMMddHHmmss"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{where}: giá trị {error.instance!r} không thuộc danh mục ({allowed})"
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) \
            else [error.validator_value]
        names = " hoặc ".join(_TYPE_VI.get(k, k) for k in kinds)
        return f"{where}: {error.instance!r} phải là {names}"
    return f"{where}: {error.message}"


def problems(record: Any) -> list[str]:
    """Every way ``record`` breaks the schema, one sentence each (empty: valid)."""
    errors = sorted(_validator().iter_errors(record),
                    key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    return [_describe(e) for e in errors]


def validate(record: Any) -> dict[str, Any]:
    """``record`` if it matches the schema; otherwise ``ValueError`` with a readable message
    (Vietnamese, naming the dossier and each field), so a broken record never leaves."""
    found = problems(record)
    if found:
        code = record.get("MaHoSo") if isinstance(record, dict) else None
        who = f" (hồ sơ {code})" if code else ""
        raise ValueError(f"bản ghi đồng bộ không hợp lệ{who}: " + "; ".join(found))
    return record


__all__ = ["FIELDS", "SCHEMA_PATH", "SyncFacts", "applicant_type", "facts_of",
           "national_record", "national_time", "problems", "record_key", "schema", "validate"]
