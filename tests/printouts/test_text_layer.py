"""Every label and every value of each form, in both sets, is in the PDF's text layer."""

from __future__ import annotations

import pytest

from printouts.sample import sample_bundle

from .conftest import CASES, needs_poppler, pages_text, pdf_text

pytestmark = needs_poppler

COMMON_HEADER = ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
TITLES = {
    ("2018", "receipt"): ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
    ("2025", "receipt"): ("01", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"),
    ("2018", "supplement_request"): ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
    ("2025", "supplement_request"): ("02", "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
    ("2018", "refusal"): ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
    ("2025", "refusal"): ("03", "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
    ("2018", "apology"): ("04", "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
    ("2025", "apology"): ("04", "VĂN BẢN XIN LỖI VÀ ĐỀ NGHỊ GIA HẠN THỜI GIAN GIẢI QUYẾT"),
    ("2025", "stop_notice"): ("05", "THÔNG BÁO DỪNG GIẢI QUYẾT HỒ SƠ"),
    ("2018", "control"): ("05", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
    ("2025", "control"): ("06", "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"),
    ("2018", "register"): ("06", "SỔ THEO DÕI HỒ SƠ"),
    ("2025", "register"): ("07", "SỔ THEO DÕI HỒ SƠ"),
}
CIRCULAR = {"2018": "Thông tư số 01/2018/TT-VPCP", "2025": "Thông tư số 03/2025/TT-VPCP"}

APPLICANT = ["Nguyễn Thị Ngọc Ánh", "Số 12 đường Lạch Tray, phường Gia Viên, thành phố Hải Phòng",
             "0912 345 678", "ngocanh@example.vn"]
PROCEDURE = "Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài"


def code(form_set: str) -> str:
    return "000.00.01.H26-250109-0012" if form_set == "2018" else "000.00.01.H26-260205-0012"


def expected(form: str, form_set: str) -> list[str]:
    y18 = form_set == "2018"
    received = ("09 giờ 15 phút, ngày 09 tháng 01 năm 2025" if y18
                else "09 giờ 15 phút, ngày 05 tháng 02 năm 2026")
    due = ("17 giờ 00 phút, ngày 15 tháng 01 năm 2025" if y18
           else "17 giờ 00 phút, ngày 11 tháng 02 năm 2026")
    unit_label = ("Bộ phận tiếp nhận và trả kết quả:" if y18 else
                  "Trung tâm Phục vụ hành chính công/Bộ phận Tiếp nhận và Trả kết quả:")
    centre = "Trung tâm Phục vụ hành chính công thành phố Hải Phòng"
    # A5 header: the parent shortened to "UBND …", the unit without the parent's place (ND 30)
    header = ["UBND THÀNH PHỐ HẢI PHÒNG TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG CỘNG HÒA"]
    dept_header = ["UBND THÀNH PHỐ HẢI PHÒNG SỞ XÂY DỰNG CỘNG HÒA"]
    id_line = "Số định danh cá nhân/tổ chức: 031186001234"
    if form == "receipt":
        return [*header, "Số: 12/TNHS",
                "Hải Phòng, ngày 09 tháng 01 năm 2025" if y18 else
                "Hải Phòng, ngày 05 tháng 02 năm 2026",
                "(Liên: Lưu)", "(Liên: Giao khách hàng)", f"Mã hồ sơ: {code(form_set)}",
                f"{unit_label} {centre}",
                "Tiếp nhận hồ sơ của:" if y18 else "Tiếp nhận hồ sơ của Ông (Bà)/Tổ chức:",
                *APPLICANT, id_line, f"Nội dung yêu cầu giải quyết: {PROCEDURE}",
                "1. Thành phần hồ sơ nộp gồm:", "Tên giấy tờ", "Bản chính", "Bản sao",
                "Bản sao có chứng thực kết quả đấu thầu hoặc quyết định chọn thầu hợp pháp",
                "2. Số lượng hồ sơ: 01 (bộ)",
                "3. Thời gian giải quyết hồ sơ theo quy định là: 06 ngày",
                f"4. Thời gian nhận hồ sơ: {received}",
                f"5. Thời gian trả kết quả giải quyết hồ sơ: {due}",
                f"6. Đăng ký nhận kết quả tại: Trực tiếp tại {centre}",
                f"Vào Sổ theo dõi hồ sơ, Quyển số: {2025 if y18 else 2026}, Số thứ tự: 12",
                "NGƯỜI NỘP HỒ SƠ", "NGƯỜI TIẾP NHẬN HỒ SƠ", "(Ký và ghi rõ họ tên)",
                "Phạm Thu Hà", "Ghi chú:", "được lập thành 02 liên",
                "http://127.0.0.1:8000/tra-cuu"]
    if form == "supplement_request":
        return [*header, "Số: 03/HDHS", f"Mã hồ sơ: {code(form_set)}", f"{unit_label} {centre}",
                "Tiếp nhận hồ sơ của:" if y18 else "Hồ sơ của:", *APPLICANT,
                f"Nội dung yêu cầu giải quyết: {PROCEDURE}",
                "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:",
                "Bản sao có chứng thực hợp đồng liên danh với nhà thầu Việt Nam",
                "Giấy ủy quyền của người đại diện theo pháp luật",
                "Lý do: Hồ sơ thiếu hợp đồng liên danh và giấy ủy quyền cho người nộp hồ sơ",
                "Ông/Bà liên hệ với Đỗ Quỳnh Như số điện thoại 0225 3 123 456 để được hướng dẫn./.",
                "NGƯỜI HƯỚNG DẪN", "Đỗ Quỳnh Như"]
    if form == "refusal":
        return [*dept_header, "Số: 04/TCHS", f"Mã hồ sơ{'' if y18 else ' (nếu có)'}: "
                f"{code(form_set)}", *APPLICANT, id_line,
                f"Nội dung yêu cầu giải quyết: {PROCEDURE}",
                "Qua xem xét, Sở Xây dựng thành phố Hải Phòng thông báo không tiếp nhận, giải "
                "quyết hồ sơ này với lý do cụ thể như sau:",
                "Nhà thầu chưa có quyết định trúng thầu hợp pháp theo quy định của Luật Đấu thầu",
                "Xin thông báo cho Ông/Bà được biết và thực hiện./.",
                "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Bình"]
    if form == "apology":
        new = "ngày 10 tháng 02 năm 2025" if y18 else "ngày 09 tháng 3 năm 2026"
        return [*dept_header, "Số: 02/PXL", "Kính gửi: Nguyễn Thị Ngọc Ánh",
                f"Vào ngày {'09 tháng 01 năm 2025' if y18 else '05 tháng 02 năm 2026'}, {centre}"
                " tiếp nhận hồ sơ", PROCEDURE, f"mã hồ sơ: {code(form_set)}",
                f"được giải quyết và trả kết quả vào {due}",
                "chưa trả kết quả giải quyết hồ sơ của Ông/Bà đúng hẹn",
                "Lý do: Cần lấy ý kiến của Bộ Xây dựng về năng lực của nhà thầu",
                "xin lỗi Ông/Bà", f"sẽ trả kết quả giải quyết hồ sơ cho Ông/Bà vào {new}",
                "hẹn lại" if y18 else "đề nghị gia hạn thời gian giải quyết",
                "Nơi nhận:", "- Như trên;", f"- {centre};", "- Lưu: VT, hồ sơ.",
                "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Trần Văn Bình"]
    if form == "stop_notice":
        return [*header, "Số: 01/TBDG", f"Mã hồ sơ: {code(form_set)}",
                "Kính gửi: Nguyễn Thị Ngọc Ánh", id_line, f"Địa chỉ: {APPLICANT[1]}",
                f"Nội dung yêu cầu giải quyết: {PROCEDURE}",
                "Thời gian tiếp nhận hồ sơ: ngày 05 tháng 02 năm 2026",
                "Thời gian đề nghị dừng giải quyết: ngày 10 tháng 02 năm 2026",
                "Bước giải quyết đang thực hiện: Trả kết quả",
                "Lý do: Người nộp hồ sơ đề nghị dừng giải quyết để điều chỉnh phạm vi công việc",
                f"{centre} thông báo dừng giải quyết hồ sơ nêu trên kể từ 09 giờ 40 phút, "
                "ngày 10 tháng 02 năm 2026", "Nơi nhận:", "GIÁM ĐỐC", "Lê Thị Thu"]
    if form == "control":
        return [*header, f"Mã hồ sơ: {code(form_set)}",
                "(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả số: 12/TNHS)",
                "Cơ quan (bộ phận) giải quyết hồ sơ: Sở Xây dựng thành phố Hải Phòng",
                "Cơ quan phối hợp giải quyết hồ sơ: Không", f"Ngày nhận: {received}",
                f"Hẹn trả kết quả vào: {due}", "TÊN CƠ QUAN", "THỜI GIAN GIAO, NHẬN HỒ SƠ",
                "KẾT QUẢ GIẢI QUYẾT HỒ SƠ", "GHI CHÚ",
                "1. Giao: TTPVHCC TP Hải Phòng (Tiếp nhận, kiểm tra hồ sơ)",
                "1. Nhận: Sở Xây dựng (Thẩm định hồ sơ)", "2. Giao: Sở Xây dựng (Thẩm định hồ sơ)",
                "2. Nhận: Sở Xây dựng (Ký giấy phép)",
                "4. Nhận: Tổ chức, cá nhân: Nguyễn Thị Ngọc Ánh",
                "Người giao: Phạm Thu Hà", "Người nhận: Đỗ Quỳnh Như",
                "Quá hạn", "Đúng hạn", "Trước hạn", "Chuyển hồ sơ", "Trả kết quả"]
    if form == "register":
        cols18 = ["TT", "Mã hồ sơ", "Tên thủ tục hành chính", "Số lượng hồ sơ (bộ)",
                  "Tên cá nhân, tổ chức", "Địa chỉ, số điện thoại", "Cơ quan chủ trì giải quyết",
                  "Ngày, tháng, năm", "Nhận hồ sơ", "Hẹn trả kết quả",
                  "Chuyển hồ sơ đến cơ quan giải quyết", "Nhận kết quả từ cơ quan giải quyết",
                  "Trả kết quả cho cá nhân, tổ chức", "Ký nhận", "Ghi chú"]
        cols25 = ["STT", "Mã hồ sơ", "Tên TTHC", "Tên tổ chức, cá nhân", "Địa chỉ/SĐT",
                  "Cơ quan chủ trì giải quyết", "Nhận và trả kết quả", "Nhận hồ sơ",
                  "Hẹn trả kết quả", "Trả kết quả", "Phương thức nhận kết quả", "Ký nhận"]
        return ["ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
                "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG THÀNH PHỐ HẢI PHÒNG",
                *(cols18 if y18 else cols25), "Nguyễn Thị Ngọc Ánh",
                "Cấp giấy phép hoạt động xây dựng cho nhà thầu nước ngoài",
                "Sở Xây dựng thành phố Hải Phòng", "Tổng số: 40 hồ sơ."]
    raise AssertionError(form)


@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_every_label_and_value_is_in_the_text_layer(sample_pdf, form_set, form):
    text = pdf_text(sample_pdf(form, form_set))
    number, title = TITLES[(form_set, form)]
    wanted = [*COMMON_HEADER, title, f"Mẫu số {number} ({CIRCULAR[form_set]})",
              *expected(form, form_set)]
    missing = [w for w in wanted if " ".join(w.split()) not in text]
    assert not missing, f"missing from {form} {form_set}: {missing}\n--- text ---\n{text}"


def test_2018_dates_keep_leading_zeros_for_day_and_january(sample_pdf):
    assert "Hải Phòng, ngày 09 tháng 01 năm 2025" in pdf_text(sample_pdf("receipt", "2018"))


def test_march_is_written_without_a_leading_zero(sample_pdf):
    text = pdf_text(sample_pdf("apology", "2025"))
    assert "ngày 09 tháng 3 năm 2026" in text and "tháng 03" not in text


def test_receipt_prints_two_copies_as_pages_of_one_pdf(sample_pdf):
    pages = pages_text(sample_pdf("receipt", "2025"))
    first = next(i for i, p in enumerate(pages) if "(Liên: Giao khách hàng)" in p)
    assert "(Liên: Lưu)" in pages[0]
    assert all("(Liên: Lưu)" not in p for p in pages[first:])
    # each copy is complete: both start with the title and end with the signatures
    for start in (0, first):
        assert "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ" in pages[start]
    assert sum("NGƯỜI TIẾP NHẬN HỒ SƠ" in p for p in pages) == 2


def test_sample_dossier_code_matches_the_engine_format():
    assert sample_bundle().dossier.code == "000.00.01.H26-260205-0012"
