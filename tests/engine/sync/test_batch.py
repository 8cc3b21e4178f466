"""Batch files of records (JSON Lines and CSV): stable columns, Vietnamese kept, and a round
trip that gives back records equal to the originals and still valid against the schema."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

from engine.sync.batch import columns, from_csv, from_jsonl, to_csv, to_jsonl
from engine.sync.record import FIELDS, facts_of, national_record, validate


def record(seq: int, **changes):
    dossier = SimpleNamespace(
        code=f"000.00.00.H31-250303-000{seq}", procedure_code="1.000001",
        procedure_name="Cấp giấy phép, “thử nghiệm”", receiving_agency="000.00.00.H31",
        competent_agency="000.00.10.H31", channel="online", applicant_name="Trần Thị Bích",
        applicant_id_number="0100109106", applicant_phone="0912345678",
        applicant_email=None, submitted_at=datetime(2025, 3, 2, 13, 0, tzinfo=UTC),
        received_at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC),
        due_at=datetime(2025, 3, 10, 10, 0, tzinfo=UTC), appointment_date=None,
        apology_count=0, ended_at=None, end_kind=None, returned_at=None,
        return_method="online", portal_id="G22.99-250302-000123")
    event = SimpleNamespace(state_after="awaiting_supplement", seq=seq,
                            action="request_supplement",
                            at=datetime(2025, 3, 3, 3, 0, tzinfo=UTC), actor_id="officer1",
                            reason='Thiếu "bản sao", cần bổ sung;\ndòng hai')
    return validate(national_record(facts_of(dossier, event)) | changes)


RECORDS = [record(1), record(2, MaLinhVuc="LV-01", SoDienThoai=None)]


def test_jsonl_round_trip_gives_the_same_records():
    text = to_jsonl(RECORDS)
    assert text.count("\n") == 2 and text.endswith("\n")
    assert "Trần Thị Bích" in text  # UTF-8 text, not \\u escapes
    assert from_jsonl(text) == RECORDS
    assert list(json.loads(text.splitlines()[0])) == list(FIELDS)


def test_csv_round_trip_gives_the_same_typed_records():
    text = to_csv(RECORDS)
    back = from_csv(text)
    assert back == RECORDS
    for r in back:
        validate(r)
    assert isinstance(back[0]["TrangThaiHoSo"], int) and back[0]["MaLinhVuc"] is None
    assert back[0]["MaDoiTuong"] == "0100109106"  # an identifier stays text (leading zero)


def test_csv_has_one_stable_header_and_quotes_what_needs_it():
    text = to_csv(RECORDS)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == list(FIELDS) == columns(RECORDS)
    assert len(rows) == 3
    assert rows[1][FIELDS.index("NoiDungXuLy")] == \
        'Yêu cầu bổ sung hồ sơ: Thiếu "bản sao", cần bổ sung;\ndòng hai'
    assert to_csv(list(RECORDS)) == text  # the same records, byte for byte


def test_empty_batches():
    assert to_jsonl([]) == "" and from_jsonl("") == []
    assert to_csv([]).splitlines() == [",".join(FIELDS)] and from_csv(to_csv([])) == []


def test_an_unknown_key_is_kept_in_a_last_column_not_dropped():
    extra = [dict(RECORDS[0], GhiChu="x")]
    assert columns(extra) == [*FIELDS, "GhiChu"]
    assert from_csv(to_csv(extra))[0]["GhiChu"] == "x"
    assert from_jsonl(to_jsonl(extra)) == extra
