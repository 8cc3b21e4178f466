"""Reconciliation of a portal-side export with the local records (issue 17), without a
database: which dossiers are on one side only, and which differ in status or dates."""

from __future__ import annotations

import json
from datetime import date

import pytest

from engine.sync.reconcile import (
    ReconcileInputError,
    latest_by_code,
    parse,
    receipt_span,
    reconcile,
)


def record(code, status=4, seq=3, **fields):
    base = {"MaHoSo": code, "TrangThaiHoSo": status, "SoThuTuSuKien": seq,
            "NgayTiepNhan": "20250303090000", "NgayHenTra": "20250310170000",
            "NgayKetThucXuLy": None, "NgayTra": None, "ChuHoSo": "Nguyễn Văn An"}
    return {**base, **fields}


def test_identical_sides_are_equal():
    local = [record("A"), record("B", status=10, NgayTra="20250305100000")]
    result = reconcile(local, [dict(r) for r in local])
    assert result.equal and result.compared == 2
    assert result.as_dict()["differences"] == []


def test_a_dossier_missing_on_each_side_and_a_status_difference_are_listed():
    local = [record("A"), record("B"), record("C", status=9)]
    portal = [record("B"), record("C", status=4), record("D")]
    result = reconcile(local, portal)
    assert not result.equal
    assert (result.only_local, result.only_portal) == (["A"], ["D"])
    assert [(d.code, d.field, d.local, d.portal) for d in result.differences] == [
        ("C", "TrangThaiHoSo", "9", "4")]
    assert result.as_dict()["differences"][0]["label"] == "Trạng thái"


def test_every_compared_date_is_checked_and_other_fields_are_not():
    local = [record("A", NgayKetThucXuLy="20250306080000", ChuHoSo="Nguyễn Văn An")]
    portal = [record("A", NgayHenTra="20250311170000", NgayTra="20250307090000",
                     ChuHoSo="NGUYEN VAN AN")]
    fields = [d.field for d in reconcile(local, portal).differences]
    assert fields == ["NgayHenTra", "NgayKetThucXuLy", "NgayTra"]


def test_csv_text_and_json_numbers_of_the_same_records_are_equal():
    local = [record("A", NgayTra=None)]
    portal = [{k: ("" if v is None else str(v)) for k, v in record("A").items()}]
    assert reconcile(local, portal).equal


def test_the_latest_event_of_a_dossier_listed_several_times_is_compared():
    portal = [record("A", status=2, seq=1), record("A", status=4, seq=3),
              record("A", status=5, seq="2")]
    assert latest_by_code(portal)["A"]["TrangThaiHoSo"] == 4
    assert reconcile([record("A", status=4)], portal).equal


def test_exports_are_read_as_jsonl_or_csv_and_bad_files_name_the_line():
    jsonl = "\n".join(json.dumps(r, ensure_ascii=False) for r in [record("A"), record("B")])
    assert [r["MaHoSo"] for r in parse(jsonl + "\n\n", "jsonl")] == ["A", "B"]
    csv_text = "\ufeffMaHoSo,TrangThaiHoSo,NgayTiepNhan\r\nA,4,20250303090000\r\n"
    assert parse(csv_text, "csv") == [{"MaHoSo": "A", "TrangThaiHoSo": "4",
                                       "NgayTiepNhan": "20250303090000"}]
    with pytest.raises(ReconcileInputError, match="dòng 2"):
        parse(json.dumps(record("A")) + "\n{oops", "jsonl")
    with pytest.raises(ReconcileInputError, match="MaHoSo"):
        parse("Ma,TrangThai\r\nA,4\r\n", "csv")


def test_the_receipt_span_of_a_file_is_its_first_and_last_receipt_day():
    records = [record("A", NgayTiepNhan="20250307160000"), record("B"),
               record("C", NgayTiepNhan=None)]
    assert receipt_span(records) == (date(2025, 3, 3), date(2025, 3, 7))
    assert receipt_span([record("C", NgayTiepNhan="")]) is None
