"""The national record's fields (domain §2.1, §7.4): times on the Vietnamese wall clock, the
ten status codes, the channel codes, NFC text, the apology, and a record that breaks the
schema refused with a sentence naming the field."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from jsonschema import Draft202012Validator

from engine.lifecycle import act, events_of, receive
from engine.lifecycle.states import Action, State
from engine.samples import (
    APPLICANT,
    CLERK,
    COMPONENTS,
    DEPT,
    LEADER,
    OFFICER,
    PROCEDURE_CODE,
    local,
    received,
    seed_world,
)
from engine.sync.record import (
    FIELDS,
    SCHEMA_PATH,
    applicant_type,
    facts_of,
    national_record,
    national_time,
    record_key,
    validate,
)


@pytest.fixture
def world(session):
    seed_world(session)
    session.commit()
    return session


def dossier_row(**changes):
    """A dossier as a plain attribute holder (``facts_of`` reads attributes only)."""
    row = dict(code="000.00.00.H31-250303-0001", procedure_code="1.000001",
               procedure_name="Cấp giấy phép thử nghiệm", receiving_agency="000.00.00.H31",
               competent_agency="000.00.10.H31", channel="counter",
               applicant_name="Nguyễn Văn An", applicant_id_number="031203004567",
               applicant_phone=None, applicant_email=None, submitted_at=None,
               received_at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC),
               due_at=datetime(2025, 3, 10, 10, 0, tzinfo=UTC), appointment_date=date(2025, 3, 10),
               apology_count=0, ended_at=None, end_kind=None, returned_at=None,
               return_method="counter", portal_id=None)
    return SimpleNamespace(**(row | changes))


def event_row(**changes):
    row = dict(state_after="received", seq=1, action="receive",
               at=datetime(2025, 3, 3, 2, 0, tzinfo=UTC), actor_id="clerk1", reason=None)
    return SimpleNamespace(**(row | changes))


def record_of(dossier=None, event=None, **kw):
    return national_record(facts_of(dossier or dossier_row(), event or event_row(), **kw))


# ----- time ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("instant", "text"), [
    (datetime(2025, 3, 2, 16, 59, 59, tzinfo=UTC), "20250302235959"),  # still Sunday there
    (datetime(2025, 3, 2, 17, 0, 0, tzinfo=UTC), "20250303000000"),  # Monday's midnight
    (datetime(2024, 12, 31, 17, 30, tzinfo=UTC), "20250101003000"),  # a new year, locally
])
def test_times_are_yyyymmddhhmmss_on_the_vietnamese_wall_clock(instant, text):
    assert national_time(instant) == text
    record = record_of(event=event_row(at=instant), dossier=dossier_row(received_at=instant))
    assert record["ThoiDiemXuLy"] == record["NgayTiepNhan"] == text
    validate(record)


def test_a_naive_instant_from_the_database_is_read_as_utc():
    # SQLite hands stored instants back without their zone (stored UTC)
    record = record_of(dossier=dossier_row(received_at=datetime(2025, 3, 2, 17, 30)))
    assert record["NgayTiepNhan"] == "20250303003000"


def test_a_dossier_received_just_after_local_midnight_keeps_its_local_day(world):
    s = world
    instant = datetime(2025, 3, 2, 17, 5, tzinfo=UTC)  # 00:05 on Monday 03/03 in Hà Nội
    d = received(s, at=instant)
    s.commit()
    s.expire_all()  # read back from the database (SQLite: naive UTC)
    record = validate(national_record(facts_of(d, events_of(s, d)[-1])))
    assert record["NgayTiepNhan"] == record["ThoiDiemXuLy"] == "20250303000500"
    assert record["MaHoSo"].split("-")[1] == "250303"  # the code's day agrees
    assert record["NgayHenTra"].endswith("170000")  # the due instant, at closing time


# ----- codes ---------------------------------------------------------------------------------

DOMAIN_STATUS = {  # domain §2.1
    "submitted": 1, "received": 2, "refused_at_reception": 3, "in_processing": 4,
    "paused": 4, "awaiting_supplement": 5, "awaiting_payment": 6, "withdrawn": 7,
    "stopped": 8, "result_ready": 9, "returned": 10,
}


@pytest.mark.parametrize(("state", "code"), DOMAIN_STATUS.items())
def test_each_state_has_its_national_status_code(state, code):
    record = validate(record_of(event=event_row(state_after=state)))
    assert record["TrangThaiHoSo"] == code


def test_the_schema_accepts_exactly_the_ten_status_codes_and_three_channels():
    properties = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))["properties"]
    assert properties["TrangThaiHoSo"]["enum"] == list(range(1, 11))
    assert properties["KenhThucHien"]["enum"] == [1, 2, 3]
    assert properties["LoaiDoiTuong"]["enum"] == [1, 2]
    assert properties["MaSuKien"]["enum"] == [a.value for a in Action]
    for state in (0, 11):
        with pytest.raises(ValueError, match="TrangThaiHoSo"):
            validate(record_of() | {"TrangThaiHoSo": state})


@pytest.mark.parametrize(("channel", "code"), [
    ("counter", 1), ("online", 2), ("postal", 3), ("kiosk", 1)])  # a kiosk is at the centre
def test_channel_codes(channel, code):
    assert validate(record_of(dossier=dossier_row(channel=channel)))["KenhThucHien"] == code


def test_channel_codes_of_real_dossiers(world):
    s = world
    kinds = {"counter": received(s, at=local("2025-03-03T09:00")),
             "kiosk": received(s, at=local("2025-03-03T09:10"), channel="kiosk"),
             "postal": received(s, at=local("2025-03-03T09:20"), channel="postal",
                                postal_delivered_on="2025-02-28"),
             "online": receive(s, actor=CLERK, procedure_code=PROCEDURE_CODE,
                               applicant=APPLICANT, components=COMPONENTS,
                               competent_agency=DEPT, online=True,
                               at=local("2025-03-03T09:30")).dossier}
    s.commit()
    got = {k: validate(national_record(facts_of(d, events_of(s, d)[-1]))) for k, d in
           kinds.items()}
    assert {k: r["KenhThucHien"] for k, r in got.items()} == {
        "counter": 1, "kiosk": 1, "postal": 3, "online": 2}
    online = got["online"]  # submitted, not yet received: no receipt date, no due date
    assert (online["TrangThaiHoSo"], online["MaSuKien"]) == (1, "submit")
    assert online["NgayNopHoSo"] == "20250303093000"
    assert online["NgayTiepNhan"] is None and online["NgayHenTra"] is None


@pytest.mark.parametrize(("id_number", "kind"), [
    ("031203004567", 1), ("012345678", 1), (None, 1), ("", 1),
    ("0100109106", 2), ("0100109106-001", 2)])
def test_applicant_type_from_the_identifier(id_number, kind):
    assert applicant_type(id_number) == kind
    assert record_of(dossier=dossier_row(applicant_id_number=id_number))["LoaiDoiTuong"] == kind


@pytest.mark.parametrize(("method", "code"), [("counter", 1), ("post", 2), ("online", 3)])
def test_return_method_codes(method, code):
    assert record_of(dossier=dossier_row(return_method=method))["HinhThuc"] == code


def test_record_key_is_the_dossier_and_event_number():
    assert record_key("000.00.00.H31-250303-0001", 7) == "portal:000.00.00.H31-250303-0001:7"


# ----- text and people -----------------------------------------------------------------------

def test_text_is_nfc_whatever_the_row_holds():
    nfd = lambda text: unicodedata.normalize("NFD", text)  # noqa: E731
    record = record_of(
        dossier=dossier_row(applicant_name=nfd("Nguyễn Thị Ánh"),
                            procedure_name=nfd("Đăng ký hộ kinh doanh")),
        event=event_row(action="stop", state_after="stopped", reason=nfd("Công dân đề nghị")),
        actor_name=nfd("Lê Văn Hùng"))
    texts = [v for v in record.values() if isinstance(v, str)]
    assert all(unicodedata.is_normalized("NFC", t) for t in texts)
    assert record["ChuHoSo"] == "Nguyễn Thị Ánh"
    assert record["NoiDungXuLy"] == "Dừng giải quyết: Công dân đề nghị"
    assert record["NguoiXuLy"] == "Lê Văn Hùng"


def test_the_actor_is_the_user_name_when_no_full_name_is_given():
    assert record_of()["NguoiXuLy"] == "clerk1"
    assert record_of(actor_name="  ")["NguoiXuLy"] == "clerk1"


# ----- the apology and the ending ------------------------------------------------------------

def test_the_apology_gives_the_new_date_and_leaves_the_legal_one(world):
    s = world
    d = received(s, at=local("2025-03-03T09:00"))
    s.commit()
    act(s, code=d.code, action="transfer", actor=CLERK, at=local("2025-03-03T09:10"))
    s.commit()
    before = national_record(facts_of(d, events_of(s, d)[-1]))
    assert (before["XinLoi"], before["NgayHenTraMoi"]) == (0, None)
    act(s, code=d.code, action="apologise", actor=LEADER, at=local("2025-03-04T10:00"),
        reason="Chờ ý kiến phối hợp", payload={"new_due": "2025-03-25"})
    s.commit()
    after = validate(national_record(facts_of(d, events_of(s, d)[-1], actor_name="Lê Văn Hùng")))
    assert (after["XinLoi"], after["NgayHenTraMoi"]) == (1, "20250325170000")
    assert after["NgayHenTra"] == before["NgayHenTra"] == "20250310170000"
    assert (after["TrangThaiHoSo"], after["MaSuKien"]) == (4, "apologise")
    assert after["NoiDungXuLy"] == "Xin lỗi và hẹn lại ngày trả: Chờ ý kiến phối hợp"


def test_finishing_and_returning_fill_the_end_and_return_dates(world):
    s = world
    d = received(s, at=local("2025-03-03T09:00"))
    s.commit()
    for action, actor, when in (("transfer", CLERK, "2025-03-03T09:10"),
                                ("finish", OFFICER, "2025-03-05T15:00"),
                                ("return_result", CLERK, "2025-03-06T08:30")):
        act(s, code=d.code, action=action, actor=actor, at=local(when))
        s.commit()
    record = validate(national_record(facts_of(d, events_of(s, d)[-1])))
    assert (record["TrangThaiHoSo"], record["MaKetQua"]) == (10, "result_ready")
    assert record["NgayKetThucXuLy"] == "20250305150000"
    assert record["NgayTra"] == "20250306083000"


# ----- the schema refuses ----------------------------------------------------------------------

def test_the_schema_file_is_json_schema_2020_12_and_closed():
    raw = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(raw)
    assert raw["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert raw["required"] == list(FIELDS) == list(raw["properties"])
    assert raw["additionalProperties"] is False
    assert list(record_of()) == list(FIELDS)


def test_a_record_missing_a_required_field_is_refused_with_a_readable_message():
    record = record_of()
    del record["NgayTiepNhan"]
    with pytest.raises(ValueError) as caught:
        validate(record)
    assert str(caught.value) == ("bản ghi đồng bộ không hợp lệ (hồ sơ 000.00.00.H31-250303-0001):"
                                 " thiếu trường bắt buộc NgayTiepNhan")


@pytest.mark.parametrize(("change", "message"), [
    ({"NgayHenTra": "2025-03-10 17:00"},
     "NgayHenTra: '2025-03-10 17:00' không đúng định dạng yyyyMMddHHmmss"),
    ({"ThoiDiemXuLy": None}, "ThoiDiemXuLy: None phải là chuỗi"),
    ({"KenhThucHien": 4}, "KenhThucHien: giá trị 4 không thuộc danh mục (1, 2, 3)"),
    ({"TrangThaiHoSo": "4"}, "TrangThaiHoSo: '4' phải là số nguyên"),
    ({"GhiChuRieng": "x"}, "trường không có trong mẫu đồng bộ: GhiChuRieng"),
])
def test_a_malformed_record_is_refused_naming_the_field(change, message):
    with pytest.raises(ValueError) as caught:
        validate(record_of() | change)
    assert message in str(caught.value)


def test_every_state_yields_a_valid_record():
    for state in State:
        if state is State.NEW:
            continue
        validate(record_of(event=event_row(state_after=state.value)))
