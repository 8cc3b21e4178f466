"""A dossier received and processed by the engine prints from the database (SQLite and
PostgreSQL): receipt, control sheet, apology, register; a reprint is recorded as a copy."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from typer.testing import CliRunner

from engine.agencies import Agency
from engine.clock import Classification
from engine.lifecycle import Actor, Applicant, act, documents_of, receive, record_reprint
from engine.procedures import ProcedureSpec, save_version
from engine.timezone import VN_TZ
from printouts.context import build, register_context
from printouts.load import load_bundle, options_for, register_dossiers
from service.cli import app

from .conftest import needs_poppler, pages_text, pdf_text

pytestmark = needs_poppler

CITY, CENTRE, DEPT = "000.00.00.H26", "000.00.01.H26", "000.00.12.H26"
CLERK = Actor("clerk1", "clerk", CENTRE, "Phạm Thu Hà")
OFFICER = Actor("officer1", "officer", DEPT)
LEADER = Actor("leader1", "leader", DEPT)
PROCEDURE = {
    "code": "1.013222", "name": "Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài",
    "field": "Hoạt động xây dựng", "level": "tinh", "effective_from": "2019-01-01",
    "time_limit": {"amount": 5, "unit": "working_days"}, "supplement_effect": "restart",
    "components": [{"name": "Đơn đề nghị", "originals": 1},
                   {"name": "Bản sao giấy tờ tùy thân", "copies": 1}],
    "steps": [
        {"id": "receive", "name": "Tiếp nhận", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"},
         "actions": ["receive", "transfer", "refuse_at_reception"]},
        {"id": "appraise", "name": "Thẩm định", "role": "officer", "unit": "competent",
         "budget": {"amount": 3, "unit": "working_days"}, "actions": ["forward", "finish"]},
        {"id": "approve", "name": "Ký duyệt", "role": "leader", "unit": "competent",
         "budget": {"amount": 1, "unit": "working_days"}, "actions": ["finish", "send_back"]},
        {"id": "return", "name": "Trả kết quả", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"}, "actions": ["return_result"]},
    ],
    "result": {"type": "Giấy phép", "is_document": True},
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


@pytest.fixture
def processed(session):
    """One dossier through the whole path with an apology; returns (session, code)."""
    session.add(Agency(code=CITY, name="Ủy ban nhân dân thành phố Hải Phòng",
                       short_name="UBND TP Hải Phòng", level="tinh", place_name="Hải Phòng"))
    session.add(Agency(code=CENTRE, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
                       short_name="TTPVHCC TP Hải Phòng", parent_code=CITY, level="tinh",
                       place_name="Hải Phòng", is_one_stop=True))
    session.add(Agency(code=DEPT, name="Sở Xây dựng thành phố Hải Phòng",
                       short_name="Sở Xây dựng", parent_code=CITY, level="tinh",
                       place_name="Hải Phòng", one_stop_code=CENTRE))
    save_version(session, spec=ProcedureSpec.from_dict(PROCEDURE))
    session.commit()
    d = receive(session, actor=CLERK, procedure_code="1.013222",
                applicant=Applicant(name="Trần Thị Ngọc Ánh", id_number="031186001234",
                                    address="Số 5 Lạch Tray, Hải Phòng", phone="0912345678"),
                components=PROCEDURE["components"], competent_agency=DEPT,
                at=at("2026-02-05T09:15")).dossier
    code = d.code
    act(session, code=code, action="transfer", actor=CLERK, at=at("2026-02-05T10:00"))
    act(session, code=code, action="forward", actor=OFFICER, at=at("2026-02-09T10:00"))
    act(session, code=code, action="apologise", actor=LEADER, at=at("2026-02-10T09:00"),
        reason="Cần lấy ý kiến của Bộ Xây dựng", payload={"new_due": "2026-03-09"})
    act(session, code=code, action="finish", actor=LEADER, at=at("2026-02-13T10:00"))
    act(session, code=code, action="return_result", actor=CLERK, at=at("2026-02-13T15:00"),
        payload={"collected_by": "Trần Thị Ngọc Ánh"})
    session.commit()
    return session, code


def test_a_received_dossier_prints_its_receipt_control_sheet_and_apology(processed, renderer,
                                                                          tmp_path):
    session, code = processed
    bundle = load_bundle(session, code)
    assert set(bundle.agencies) == {CITY, CENTRE, DEPT}
    options = options_for(bundle.agencies)
    receipt = tmp_path / "receipt.pdf"
    renderer.pdf(build("receipt", bundle, None, options), receipt)
    text = pdf_text(receipt)
    for value in (f"Mã hồ sơ: {code}", "Mẫu số 01 (Thông tư số 03/2025/TT-VPCP)",
                  "Tiếp nhận hồ sơ của Ông (Bà)/Tổ chức: Trần Thị Ngọc Ánh",
                  "Số: 01/TNHS", "Hải Phòng, ngày 05 tháng 02 năm 2026",
                  "4. Thời gian nhận hồ sơ: 09 giờ 15 phút, ngày 05 tháng 02 năm 2026",
                  "3. Thời gian giải quyết hồ sơ theo quy định là: 05 ngày làm việc",
                  "5. Thời gian trả kết quả giải quyết hồ sơ: 17 giờ 00 phút, ngày 12 tháng 02 "
                  "năm 2026", "Quyển số: 2026, Số thứ tự: 01", "Đơn đề nghị",
                  "(Liên: Lưu)", "(Liên: Giao khách hàng)"):
        assert value in text, value
    control = tmp_path / "control.pdf"
    renderer.pdf(build("control", bundle, None, options), control)
    text = pdf_text(control)
    assert "Mẫu số 06" in text and "1. Giao: TTPVHCC TP Hải Phòng (Tiếp nhận)" in text
    assert "3. Nhận: TTPVHCC TP Hải Phòng (Trả kết quả)" in text
    assert "4. Nhận: Tổ chức, cá nhân: Trần Thị Ngọc Ánh" in text
    labels = [Classification(s.classification).label_vi for s in bundle.steps]
    assert len(labels) == 4  # every step closed and classified against its own deadline
    assert all(label in text for label in labels)
    apology = tmp_path / "apology.pdf"
    renderer.pdf(build("apology", bundle, None, options), apology)
    text = pdf_text(apology)
    assert "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT" in text
    assert "SỞ XÂY DỰNG" in text and "Số: 01/PXL" in text
    assert "vào ngày 09 tháng 3 năm 2026" in text
    assert "Lý do: Cần lấy ý kiến của Bộ Xây dựng" in text


def test_a_reprint_is_recorded_as_a_copy_and_marked(processed, renderer, tmp_path):
    session, code = processed
    bundle = load_bundle(session, code)
    original = next(d for d in bundle.documents if d.form == "receipt")
    copy = record_reprint(session, document=original, actor=CLERK, at=at("2026-02-06T08:00"))
    session.commit()
    assert (copy.copy_of, copy.form, copy.number, copy.form_set, copy.issued_by) == (
        original.id, "receipt", original.number, original.form_set, "clerk1")
    again = record_reprint(session, document=copy, actor=CLERK, at=at("2026-02-07T08:00"))
    assert again.copy_of == original.id  # a copy of a copy still points at the original
    assert [d.copy_of for d in documents_of(session, bundle.dossier)
            if d.form == "receipt"] == [None, original.id, original.id]
    path = tmp_path / "copy.pdf"
    renderer.pdf(build("receipt", load_bundle(session, code), copy, options_for([])), path)
    pages = pages_text(path)
    assert all("BẢN SAO" in p for p in pages if "GIẤY TIẾP NHẬN" in p)
    assert "In lại: 08 giờ 00, 06/02/2026" in pdf_text(path)
    # the copy shows the original's date, not the reprint's
    assert "Hải Phòng, ngày 05 tháng 02 năm 2026" in pdf_text(path)
    # the original, printed again without --copy, carries no mark
    path = tmp_path / "original.pdf"
    renderer.pdf(build("receipt", load_bundle(session, code), None, options_for([])), path)
    assert "BẢN SAO" not in pdf_text(path)


def test_register_from_the_database(processed, renderer, tmp_path):
    session, code = processed
    dossiers = register_dossiers(session, CENTRE, date(2026, 2, 1), date(2026, 2, 28))
    assert [d.code for d in dossiers] == [code]
    assert register_dossiers(session, CENTRE, date(2026, 3, 1), date(2026, 3, 31)) == []
    bundle = load_bundle(session, code)
    context = register_context(CENTRE, dossiers, bundle.agencies, date_from=date(2026, 2, 1),
                               date_to=date(2026, 2, 28), options=options_for([]))
    path = tmp_path / "register.pdf"
    renderer.pdf(context, path)
    text = pdf_text(path)
    assert "Mẫu số 07" in text and "Từ ngày 01/02/2026 đến ngày 28/02/2026" in text
    assert "Trần Thị Ngọc Ánh" in text and "15 giờ 00, 13/02/2026 Trực tiếp" in text


def test_cli_prints_from_the_database_and_records_a_copy(processed, database_url, tmp_path):
    session, code = processed
    runner = CliRunner()
    env = {"MOTCUA_DATABASE_URL": database_url}
    out = tmp_path / "r.pdf"
    result = runner.invoke(app, ["print", "receipt", "--dossier", code, "-o", str(out)],
                           env=env)
    assert result.exit_code == 0, result.output
    assert f"Mã hồ sơ: {code}" in pdf_text(out) and "BẢN SAO" not in pdf_text(out)
    result = runner.invoke(app, ["print", "receipt", "--dossier", code, "--copy", "--user",
                                 "clerk9", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "BẢN SAO" in pdf_text(out)
    session.expire_all()
    copies = [d for d in documents_of(session, load_bundle(session, code).dossier)
              if d.copy_of is not None]
    assert [(d.form, d.issued_by) for d in copies] == [("receipt", "clerk9")]
    result = runner.invoke(app, ["print", "register", "--agency", CENTRE, "--from",
                                 "2026-02-01", "--to", "2026-02-28", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert code.split("-")[-1] in pdf_text(out)
    result = runner.invoke(app, ["print", "stop_notice", "--dossier", code, "-o", str(out)],
                           env=env)
    assert result.exit_code == 3 and "chưa có văn bản 'stop_notice'" in result.output
    result = runner.invoke(app, ["print", "receipt", "--dossier", "KHÔNG-CÓ", "-o", str(out)],
                           env=env)
    assert result.exit_code == 3 and "không tìm thấy hồ sơ" in result.output
