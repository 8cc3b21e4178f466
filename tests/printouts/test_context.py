"""Pure builders, dates, form sets, overrides and the font check (no PDF needed)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from engine.forms import form_set_for
from engine.timezone import VN_TZ
from printouts.context import MissingDocument, build, head_signer
from printouts.fonts import FontMissing, find_fonts
from printouts.forms import FormNotInSet, form_spec
from printouts.legal import date_vi, instant_vi, place_date
from printouts.overrides import OverrideError, load_override, parse_override
from printouts.qr import public_base_url, status_url
from printouts.render import Renderer
from printouts.sample import AGENCIES, CENTRE, DEPT, sample_bundle, sample_options


@pytest.mark.parametrize(("day", "text"), [
    (date(2026, 2, 5), "ngày 05 tháng 02 năm 2026"),
    (date(2026, 1, 15), "ngày 15 tháng 01 năm 2026"),
    (date(2026, 3, 9), "ngày 09 tháng 3 năm 2026"),
    (date(2025, 9, 15), "ngày 15 tháng 9 năm 2025"),
    (date(2025, 10, 1), "ngày 01 tháng 10 năm 2025"),
    (date(2025, 12, 31), "ngày 31 tháng 12 năm 2025"),
])
def test_dates_follow_nd30(day, text):
    assert date_vi(day) == text
    assert place_date("Hải Phòng", day) == f"Hải Phòng, {text}"


def test_instants_are_local_time_with_hours_and_minutes():
    instant = datetime(2026, 2, 5, 9, 5, tzinfo=VN_TZ)
    assert instant_vi(instant) == "09 giờ 05 phút, ngày 05 tháng 02 năm 2026"
    assert instant_vi(instant.astimezone(UTC)) == instant_vi(instant)
    with pytest.raises(ValueError):
        instant_vi(datetime(2026, 2, 5, 9, 5))  # naive instants are refused


def test_form_sets_by_receipt_date_numbers_and_titles():
    assert form_set_for(date(2025, 9, 14)) == "2018"
    assert form_set_for(date(2025, 9, 15)) == "2025"
    assert form_spec("control", "2018").number == "05"
    assert form_spec("control", "2025").number == "06"
    assert form_spec("register", "2018").number == "06"
    assert form_spec("register", "2025").number == "07"
    assert form_spec("apology", "2018").title == "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"
    assert form_spec("apology", "2025").title_lines == [
        "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ", "GIA HẠN THỜI GIAN GIẢI QUYẾT"]
    assert form_spec("register", "2025").landscape
    with pytest.raises(FormNotInSet, match="03/2025"):
        form_spec("stop_notice", "2018")


def test_stop_notice_of_a_2018_dossier_is_a_clear_error():
    with pytest.raises(FormNotInSet):
        build("stop_notice", sample_bundle(set_2018=True), None, sample_options())


def test_a_form_never_issued_is_a_clear_error():
    bundle = sample_bundle()
    bundle = type(bundle)(bundle.dossier, bundle.agencies, bundle.spec, bundle.steps, [])
    with pytest.raises(MissingDocument, match="chưa có văn bản 'apology'"):
        build("apology", bundle, None, sample_options())


def test_receipt_context_fills_every_field():
    ctx = build("receipt", sample_bundle(), None, sample_options())
    assert ctx["header"]["parent"] == "UBND THÀNH PHỐ HẢI PHÒNG"
    assert ctx["header"]["unit"] == "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"  # place in parent line
    assert ctx["header"]["number"] == "Số: 12/TNHS"
    assert ctx["header"]["place_date"] == "Hải Phòng, ngày 05 tháng 02 năm 2026"
    assert ctx["copies"] == ["Lưu", "Giao khách hàng"]
    assert ctx["time_limit"] == "06 ngày"
    assert ctx["received"] == "09 giờ 15 phút, ngày 05 tháng 02 năm 2026"
    assert ctx["appointment"] == "17 giờ 00 phút, ngày 11 tháng 02 năm 2026"
    assert ctx["register"] == {"book": "2026", "number": "12"}
    assert [c["originals"] + "/" + c["copies"] for c in ctx["components"]] == [
        "01/", "/01", "01/"]
    unit, applicant = ctx["copy_parts"]  # the secret and the QR on the applicant's copy only
    assert not unit["qr"] and not unit["secret"]
    assert applicant["url"].endswith(
        "/tra-cuu?ma=000.00.01.H26-260205-0012&k=mQ7vX2pLk9RtYw4A")
    assert applicant["qr"].startswith("data:image/png;base64,")
    assert applicant["secret_line"] == "Mã tra cứu: mQ7v X2pL k9Rt Yw4A"

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    assert all(unicodedata.is_normalized("NFC", s) for s in strings(ctx))
    assert "…" not in " ".join(s for s in strings(ctx) if not s.startswith("data:"))


def test_control_sheet_has_one_row_per_hand_off_with_classification():
    ctx = build("control", sample_bundle(), None, sample_options())
    assert [(r["result"], r["note"]) for r in ctx["rows"]] == [
        ("Quá hạn", "Chuyển hồ sơ"), ("Đúng hạn", "Chuyển bước tiếp theo"),
        ("Quá hạn", "Có kết quả"), ("Trước hạn", "Trả kết quả")]
    assert ctx["rows"][0]["giver"].startswith("TTPVHCC TP Hải Phòng")
    assert ctx["rows"][-1]["receiver"] == "Tổ chức, cá nhân: Nguyễn Thị Ngọc Ánh"


def test_control_sheet_marks_a_backdated_hand_off_with_who_entered_it_and_why():
    from dataclasses import replace

    from engine.lifecycle.models import DossierEvent

    bundle = sample_bundle()
    step = bundle.steps[0]
    event = DossierEvent(dossier_id=1, seq=2, action=step.outcome, at=step.finished_at,
                         recorded_at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
                         actor_id=step.finished_by or "clerk", actor_role="clerk",
                         actor_agency=CENTRE, state_before="received",
                         state_after="transferred", reason=None, prev_hash="", hash="",
                         payload={"backdated": {"reason": "Hồ sơ giấy khi mất điện"}})
    ctx = build("control", replace(bundle, backdated=[event]), None, sample_options())
    assert ctx["rows"][0]["note"].endswith("; ghi lùi thời điểm")
    assert not ctx["rows"][1]["note"].endswith("; ghi lùi thời điểm")
    [line] = ctx["backdated"]
    assert "nhập vào hệ thống" in line and line.endswith("Hồ sơ giấy khi mất điện")
    assert build("control", bundle, None, sample_options())["backdated"] == []


def test_default_signers_and_authority_prefixes():
    assert head_signer(AGENCIES[DEPT]).heading == "GIÁM ĐỐC"
    commune = type(AGENCIES[DEPT])(code="x", name="Ủy ban nhân dân xã Vĩnh Bảo", short_name="x",
                                   level="xa", place_name="Vĩnh Bảo")
    signer = head_signer(commune)
    assert (signer.heading, signer.position) == ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH")
    ctx = build("apology", sample_bundle(), None, sample_options())
    assert ctx["signers"][0]["heading"] == "KT. GIÁM ĐỐC"
    assert ctx["signers"][0]["position"] == "PHÓ GIÁM ĐỐC"


def write_override(root: Path, code: str, text: str) -> Path:
    folder = root / code
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "override.yaml").write_text(text, encoding="utf-8")
    return folder


def test_agency_override_changes_place_signers_notes_and_logo(tmp_path, renderer_png_logo):
    folder = write_override(tmp_path, DEPT, (
        "place_name: \"Thủy Nguyên\"\n"
        "parent_name: \"UBND TP HẢI PHÒNG\"\n"
        "logo: logo.png\n"
        "notes:\n  apology: [\"Liên hệ đường dây nóng 1022.\"]\n"
        "signers:\n  apology: {prefix: \"TL.\", title: \"giám đốc\", position: \"chánh văn "
        "phòng\", name: \"Vũ Thị Mai\"}\n"))
    renderer_png_logo(folder / "logo.png")
    override = load_override(tmp_path, DEPT)
    options = sample_options(overrides={DEPT: override})
    ctx = build("apology", sample_bundle(), None, options)
    assert ctx["header"]["place_date"].startswith("Thủy Nguyên, ngày 10 tháng 02 năm 2026")
    assert ctx["header"]["parent"] == "UBND TP HẢI PHÒNG"
    assert ctx["header"]["logo"].startswith("file://")
    assert ctx["signers"][0] == {"heading": "TL. GIÁM ĐỐC", "position": "CHÁNH VĂN PHÒNG",
                                 "name": "Vũ Thị Mai", "note": "", "e_note": ""}
    assert ctx["notes"] == ["Liên hệ đường dây nóng 1022."]
    # no override folder for the centre: the built-in sample names stay
    assert load_override(tmp_path, CENTRE).source is None
    assert load_override(None, CENTRE).source is None


@pytest.mark.parametrize(("text", "message"), [
    ("colour: red\n", "khóa không hỗ trợ: colour"),
    ("signers:\n  apology: {prefix: \"K.T.\", title: \"GIÁM ĐỐC\"}\n", "prefix 'K.T.'"),
    ("logo: missing.png\n", "không tìm thấy tệp logo"),
    ("notes: [\"x\"]\n", "'notes'"),
    ("place_name: [\n", "YAML không hợp lệ"),
])
def test_bad_override_files_are_clear_errors(tmp_path, text, message):
    folder = write_override(tmp_path, "A", text)
    with pytest.raises(OverrideError, match=message) as info:
        parse_override(folder / "override.yaml", "A")
    assert "override.yaml" in str(info.value)


def test_missing_font_is_an_error_naming_the_debian_package(tmp_path, monkeypatch):
    with pytest.raises(FontMissing, match="fonts-liberation2"):
        find_fonts([tmp_path])
    monkeypatch.setenv("MOTCUA_FONT_DIR", str(tmp_path))
    monkeypatch.setattr("printouts.fonts.SEARCH_DIRS", ())
    with pytest.raises(FontMissing, match="apt-get install -y fonts-liberation2"):
        Renderer()


def test_public_base_url_from_the_environment():
    assert public_base_url({}) == "http://127.0.0.1:8000"
    assert public_base_url({"MOTCUA_PUBLIC_BASE_URL": "https://dvc.haiphong.gov.vn/"}) == \
        "https://dvc.haiphong.gov.vn"
    assert status_url("https://x.vn", "A-1 2", "s/é") == "https://x.vn/tra-cuu?ma=A-1+2&k=s%2F%C3%A9"


def test_sample_printouts_point_at_the_configured_public_address(monkeypatch):
    """`motcua print batch` and the samples print the QR and address of MOTCUA_PUBLIC_BASE_URL,
    not the development default, like the receipts printed from the database."""
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", "https://dichvucong.example.gov.vn/")
    assert sample_options().base_url == "https://dichvucong.example.gov.vn"
    monkeypatch.delenv("MOTCUA_PUBLIC_BASE_URL")
    assert sample_options().base_url == "http://127.0.0.1:8000"
