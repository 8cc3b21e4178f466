"""A built-in sample dossier for checking templates (``motcua print FORM --sample``).

Plain engine rows, never saved: agencies of the Hải Phòng demo tree, a dossier received at the
city centre for Sở Xây dựng, its hand-offs and one issued document of every form. ``set_2018``
gives the same dossier received on 09/01/2025 (TT 01/2018 forms), the default is 05/02/2026
(TT 03/2025 forms). Names carry stacked diacritics on purpose (Ngọc Ánh, Hưởng, Quỳnh).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from engine.agencies import Agency
from engine.lifecycle.models import Dossier, DossierStep, IssuedDocument
from engine.procedures import ProcedureSpec
from engine.timezone import VN_TZ
from printouts.context import Bundle, PrintOptions
from printouts.overrides import AgencyOverride
from printouts.qr import public_base_url

CITY = "000.00.00.H26"
CENTRE = "000.00.01.H26"
DEPT = "000.00.12.H26"
SECRET = "mQ7vX2pLk9RtYw4A"

AGENCIES = {
    CITY: Agency(code=CITY, name="Ủy ban nhân dân thành phố Hải Phòng",
                 short_name="UBND TP Hải Phòng", level="tinh", place_name="Hải Phòng"),
    CENTRE: Agency(code=CENTRE, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
                   short_name="TTPVHCC TP Hải Phòng", parent_code=CITY, level="tinh",
                   place_name="Hải Phòng", is_one_stop=True),
    DEPT: Agency(code=DEPT, name="Sở Xây dựng thành phố Hải Phòng", short_name="Sở Xây dựng",
                 parent_code=CITY, level="tinh", place_name="Hải Phòng", one_stop_code=CENTRE),
}

SPEC = ProcedureSpec.from_dict({
    "code": "1.013222",
    "name": "Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài",
    "field": "Hoạt động xây dựng", "level": "tinh", "effective_from": "2025-07-01",
    "time_limit": {"amount": 6, "unit": "calendar_days"},
    "components": [
        {"name": "Đơn đề nghị cấp giấy phép hoạt động xây dựng (Mẫu số 04 Phụ lục III "
                 "Nghị định 175/2024/NĐ-CP)", "originals": 1},
        {"name": "Bản sao có chứng thực kết quả đấu thầu hoặc quyết định chọn thầu hợp pháp",
         "copies": 1},
        {"name": "Biểu báo cáo kinh nghiệm và báo cáo kiểm toán tài chính 03 năm gần nhất",
         "originals": 1},
    ],
    "steps": [
        {"id": "receive", "name": "Tiếp nhận, kiểm tra hồ sơ", "role": "clerk",
         "unit": "one_stop", "budget": {"amount": 2, "unit": "working_hours"}},
        {"id": "appraise", "name": "Thẩm định hồ sơ", "role": "officer", "unit": "competent",
         "budget": {"amount": 20, "unit": "working_hours"}},
        {"id": "approve", "name": "Ký giấy phép", "role": "leader", "unit": "competent",
         "budget": {"amount": 6, "unit": "working_hours"}},
        {"id": "return", "name": "Trả kết quả", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 2, "unit": "working_hours"}},
    ],
    "result": {"type": "Giấy phép hoạt động xây dựng", "is_document": True},
})

STAFF = {"clerk1": "Phạm Thu Hà", "officer1": "Đỗ Quỳnh Như", "leader1": "Trần Văn Bình"}


def sample_options(base_url: str | None = None,
                   overrides: dict[str, AgencyOverride] | None = None,
                   form_set: str | None = None) -> PrintOptions:
    """Options with the sample's staff names and signers, unless real overrides are given;
    the QR and printed address at ``base_url`` (default: ``MOTCUA_PUBLIC_BASE_URL``)."""
    base_url = base_url or public_base_url()
    built_in = {
        CENTRE: AgencyOverride(code=CENTRE, staff=STAFF, hotline="0225 3 123 456",
                               signers={"stop_notice": {"title": "GIÁM ĐỐC",
                                                       "name": "Lê Thị Thu"}}),
        DEPT: AgencyOverride(code=DEPT, staff=STAFF, signers={
            "apology": {"prefix": "KT.", "title": "GIÁM ĐỐC", "position": "PHÓ GIÁM ĐỐC",
                        "name": "Trần Văn Bình"},
            "refusal": {"prefix": "KT.", "title": "GIÁM ĐỐC", "position": "PHÓ GIÁM ĐỐC",
                        "name": "Trần Văn Bình"}}),
    }
    for code, override in (overrides or {}).items():
        if override.source is not None:
            built_in[code] = override
    return PrintOptions(base_url=base_url, overrides=built_in, form_set=form_set)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN_TZ)


def sample_bundle(set_2018: bool = False, *, applicant: str = "Nguyễn Thị Ngọc Ánh",
                  number: int = 12) -> Bundle:
    """The sample dossier with its hand-offs and one document of every form."""
    shift = timedelta(days=-392 if set_2018 else 0)  # 2018: received on Thu 09/01/2025

    def t(text: str) -> datetime:
        return _at(text) + shift

    received = t("2026-02-05T09:15")
    day = received.date()
    dossier = Dossier(
        id=1, code=f"{CENTRE}-{day:%y%m%d}-{number:04d}", secret=SECRET,
        procedure_code=SPEC.code, procedure_version=SPEC.effective_from,
        procedure_name=SPEC.name, channel="counter", state="returned", status_code=10,
        receiving_agency=CENTRE, competent_agency=DEPT, returning_agency=CENTRE,
        applicant_name=applicant, applicant_id_number="031186001234",
        applicant_address="Số 12 đường Lạch Tray, phường Gia Viên, thành phố Hải Phòng",
        applicant_phone="0912 345 678", applicant_email="ngocanh@example.vn",
        components=[{"name": c.name, "originals": c.originals, "copies": c.copies}
                    for c in SPEC.components],
        sets_count=1, return_method="counter", received_at=received,
        clock_started_at=received, transfer_due_at=t("2026-02-05T17:00"),
        transferred_at=t("2026-02-05T14:30"), limit_amount=6, limit_unit="calendar_days",
        supplement_effect="restart", original_due_date=t("2026-02-11T17:00").date(),
        due_date=t("2026-02-11T17:00").date(), due_at=t("2026-02-11T17:00"),
        appointment_date=t("2026-03-09T17:00").date(), ended_at=t("2026-02-12T10:00"),
        end_kind="result_ready", returned_at=t("2026-02-12T15:20"), collected_by=applicant,
        apology_count=1, register_year=day.year, register_number=number,
        created_at=received, updated_at=received,
    )
    steps = [
        DossierStep(id=1, dossier_id=1, seq=1, step_id="receive", step_name=SPEC.steps[0].name,
                    unit=CENTRE, role="clerk", handed_by="clerk1", started_at=received,
                    due_at=t("2026-02-05T11:15"), finished_at=t("2026-02-05T14:30"),
                    finished_by="clerk1", outcome="transfer", classification="late"),
        DossierStep(id=2, dossier_id=1, seq=2, step_id="appraise", step_name=SPEC.steps[1].name,
                    unit=DEPT, role="officer", handed_by="clerk1", assignee="officer1",
                    started_at=t("2026-02-05T14:30"), due_at=t("2026-02-09T16:30"),
                    finished_at=t("2026-02-09T10:00"), finished_by="officer1",
                    outcome="forward", classification="on_time"),
        DossierStep(id=3, dossier_id=1, seq=3, step_id="approve", step_name=SPEC.steps[2].name,
                    unit=DEPT, role="leader", handed_by="officer1", assignee="leader1",
                    started_at=t("2026-02-09T10:00"), due_at=t("2026-02-10T08:30"),
                    finished_at=t("2026-02-12T10:00"), finished_by="leader1",
                    outcome="finish", classification="late"),
        DossierStep(id=4, dossier_id=1, seq=4, step_id="return", step_name=SPEC.steps[3].name,
                    unit=CENTRE, role="clerk", handed_by="leader1", assignee="clerk1",
                    started_at=t("2026-02-12T10:00"), due_at=t("2026-03-09T17:00"),
                    finished_at=t("2026-02-12T15:20"), finished_by="clerk1",
                    outcome="return_result", classification="early"),
    ]
    form_set = "2018" if set_2018 else "2025"

    def doc(id_: int, form: str, number_: str, at: str, by: str, **payload) -> IssuedDocument:
        return IssuedDocument(id=id_, dossier_id=1, form=form, form_set=form_set,
                              number=number_, issued_at=t(at), issued_by=by, payload=payload)

    documents = [
        doc(1, "receipt", f"{number:02d}/TNHS", "2026-02-05T09:15", "clerk1",
            copies=["Lưu", "Giao khách hàng"]),
        doc(2, "supplement_request", "03/HDHS", "2026-02-06T10:30", "officer1",
            missing=[{"name": "Bản sao có chứng thực hợp đồng liên danh với nhà thầu Việt Nam",
                      "copies": 1},
                     {"name": "Giấy ủy quyền của người đại diện theo pháp luật", "originals": 1}],
            reason="Hồ sơ thiếu hợp đồng liên danh và giấy ủy quyền cho người nộp hồ sơ"),
        doc(3, "refusal", "04/TCHS", "2026-02-09T15:00", "leader1",
            reason="Nhà thầu chưa có quyết định trúng thầu hợp pháp theo quy định của Luật Đấu "
                   "thầu", at_reception=False),
        doc(4, "apology", "02/PXL", "2026-02-10T16:00", "leader1",
            reason="Cần lấy ý kiến của Bộ Xây dựng về năng lực của nhà thầu",
            previous_appointment=str(t("2026-02-11T17:00").date()),
            new_due=str(t("2026-03-09T17:00").date())),
    ]
    if not set_2018:
        documents.append(doc(5, "stop_notice", "01/TBDG", "2026-02-10T09:40", "clerk1",
                             reason="Người nộp hồ sơ đề nghị dừng giải quyết để điều chỉnh "
                                    "phạm vi công việc"))
    return Bundle(dossier=dossier, agencies=AGENCIES, spec=SPEC, steps=steps,
                  documents=documents)


_FIRST = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
_MIDDLE = ["Thị Ngọc", "Văn", "Thu", "Quỳnh", "Đức", "Thị", "Minh", "Hữu"]
_LAST = ["Ánh", "Hưởng", "Dũng", "Hằng", "Khải", "Tuyết", "Nguyệt", "Lộc", "Thắm", "Quyết"]
_PROCEDURES = [
    ("1.013222", "Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài"),
    ("2.001610", "Cấp giấy chứng nhận đăng ký doanh nghiệp"),
    ("1.001193", "Đăng ký khai sinh"),
    ("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân"),
]
_STATES = ["returned", "result_ready", "in_processing", "returned", "awaiting_supplement"]


def sample_register(count: int = 40, *, first_day: date = date(2026, 2, 2)
                    ) -> tuple[list[Dossier], date, date]:
    """``count`` received dossiers of the centre, spread over working days from ``first_day``."""
    dossiers = []
    day = first_day
    for i in range(count):
        if i and i % 6 == 0:
            day += timedelta(days=3 if day.weekday() == 4 else 1)
        received = datetime.combine(day, datetime.min.time(), VN_TZ) + timedelta(
            hours=8, minutes=5 + (i % 6) * 47)
        code, name = _PROCEDURES[i % len(_PROCEDURES)]
        state = _STATES[i % len(_STATES)]
        due = received + timedelta(days=6)
        applicant = f"{_FIRST[i % 10]} {_MIDDLE[i % 8]} {_LAST[(i * 3) % 10]}"
        dossiers.append(Dossier(
            id=100 + i, code=f"{CENTRE}-{day:%y%m%d}-{i % 6 + 1:04d}", secret="x",
            procedure_code=code, procedure_version=date(2025, 7, 1), procedure_name=name,
            channel="counter", state=state, status_code=10, receiving_agency=CENTRE,
            competent_agency=DEPT, returning_agency=CENTRE, applicant_name=applicant,
            applicant_address=f"Số {i + 3} phố Trần Phú, phường Ngô Quyền, Hải Phòng",
            applicant_phone=f"09{i:02d} 456 789", components=[], sets_count=1 + i % 2,
            return_method="post" if i % 4 == 3 else "counter", received_at=received,
            transferred_at=received + timedelta(hours=3),
            limit_amount=6, limit_unit="calendar_days", supplement_effect="restart",
            due_date=due.date(), due_at=due.replace(hour=17, minute=0),
            ended_at=received + timedelta(days=4) if state in ("returned", "result_ready")
            else None,
            end_kind="result_ready" if state in ("returned", "result_ready") else None,
            returned_at=received + timedelta(days=5) if state == "returned" else None,
            collected_by=applicant if state == "returned" else None,
            register_year=day.year, register_number=i + 1, created_at=received,
            updated_at=received))
    return dossiers, first_day, day
