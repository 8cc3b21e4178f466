"""Online submission in the browser (issue 16): a citizen on a phone (390×844) files a dossier
with attachments at /nop-ho-so, the clerk reviews it on /quay (accepts, or asks for a
supplement that the citizen uploads on the lookup page), and bad files or fields are shown
next to what they concern with nothing submitted."""

from __future__ import annotations

import os
import struct
import zlib

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, sign_in, token

PROCEDURE_QUERY = "xac nhan tinh trang hon nhan"  # typed without accents
CCCD = "031095004321"


@pytest.fixture(scope="module")
def easy_proof_of_work():
    """A low proof-of-work difficulty for the server this module starts (the browser still
    solves it with crypto.subtle; the default 16 bits only costs more time)."""
    before = os.environ.get("MOTCUA_POW_BITS")
    os.environ["MOTCUA_POW_BITS"] = "8"
    yield
    if before is None:
        os.environ.pop("MOTCUA_POW_BITS", None)
    else:
        os.environ["MOTCUA_POW_BITS"] = before


@pytest.fixture(scope="module")
def server(easy_proof_of_work, server):
    """The shared server fixture, started after the difficulty is set."""
    return server


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"online-{name}.png"), full_page=True)


def pdf_file(folder, name: str, text: str) -> str:
    """A small real PDF (one page with a line of text)."""
    stream = f"BT /F1 18 Tf 40 760 Td ({text}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    path = folder / name
    path.write_bytes(bytes(out))
    return str(path)


def png_file(folder, name: str) -> str:
    """A small real PNG (16×16, grey)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + b"\x80" * 16 for _ in range(16))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    path = folder / name
    path.write_bytes(data)
    return str(path)


def fill_applicant(phone, name: str, mobile: str, cccd: str = CCCD) -> None:
    phone.fill("#a-name", name)
    phone.fill("#a-id", cccd)
    phone.fill("#a-phone", mobile)
    phone.fill("#a-email", f"{mobile}@example.vn")


def choose_procedure(phone, server: str) -> None:
    phone.goto(f"{server}/nop-ho-so")
    phone.locator("#proc-search").press_sequentially(PROCEDURE_QUERY, delay=5)
    expect(phone.locator("#proc-list [role=option]").first).to_contain_text(
        "Cấp Giấy xác nhận tình trạng hôn nhân")
    phone.locator("#proc-search").press("ArrowDown")
    phone.locator("#proc-search").press("Enter")  # the keyboard takes the highlighted hit
    expect(phone.locator("#proc-detail")).to_be_visible()


def submitted_on_phone(phone, server: str, tmp_path, name: str, mobile: str,
                       files: dict[str, str]) -> tuple[str, str]:
    choose_procedure(phone, server)
    fill_applicant(phone, name, mobile)
    for field, path in files.items():
        phone.set_input_files(f"#{field}", path)
    phone.click("#btn-submit")
    expect(phone.locator("#done")).to_be_visible()
    code = phone.locator("#done-code").inner_text().strip()
    secret = phone.locator("#done-secret").inner_text().replace(" ", "").strip()
    return code, secret


def test_a_same_day_limit_is_said_once(server, phone):
    """"Trong ngày" is its own unit: not "Trong ngày (trong ngày)"."""
    phone.goto(f"{server}/nop-ho-so")
    phone.locator("#proc-search").press_sequentially("dang ky ket hon", delay=5)
    expect(phone.locator("#proc-list [role=option]").first).to_contain_text("Đăng ký kết hôn")
    phone.locator("#proc-search").press("Enter")
    expect(phone.locator("#proc-limit")).to_have_text(
        "Trong ngày, tính từ khi hồ sơ được tiếp nhận")


def test_a_citizen_submits_on_a_phone_and_the_clerk_accepts_it(server, phone, page, tmp_path):
    choose_procedure(phone, server)
    expect(phone.locator("#proc-limit")).to_contain_text("03 ngày làm việc")
    expect(phone.locator("#proc-components li.required")).to_have_count(1)
    expect(phone.locator("#agency option")).to_have_count(2)
    expect(phone.locator("#agency-hint")).to_contain_text("Trung tâm Phục vụ hành chính công")
    expect(phone.locator("#file-limits")).to_contain_text("20 MB mỗi tệp")
    expect(phone.locator("#file-1")).to_have_attribute("accept", ".pdf,.jpg,.jpeg,.png")
    expect(phone.locator("input[name=return_method][value=online]")).to_be_disabled()
    fill_applicant(phone, "Trần Văn Bình", "0912345601")
    phone.set_input_files("#file-1", pdf_file(tmp_path, "to-khai.pdf", "To khai"))
    phone.set_input_files("#file-3", png_file(tmp_path, "uy-quyen.png"))
    phone.check("input[name=return_method][value=post]")
    phone.fill("#recipient-address", "Số 1 Trần Phú, xã Vĩnh Bảo, Hải Phòng")
    shot(phone, "form-phone")
    phone.click("#btn-submit")
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done-notified")).to_contain_text("thư điện tử")
    expect(phone.locator("#done-files li")).to_have_count(2)
    code = phone.locator("#done-code").inner_text().strip()
    secret = phone.locator("#done-secret").inner_text().replace(" ", "")
    assert code.startswith("000.01.31.H26-") and len(secret) >= 8
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
    shot(phone, "done-phone")

    sign_in(page, server, "clerk", "/quay")
    item = page.locator(f"#online-list article[data-code='{code}']")
    expect(item).to_contain_text("Trần Văn Bình")
    expect(item).to_contain_text("Cấp Giấy xác nhận tình trạng hôn nhân")
    expect(item.locator("ul.files a")).to_have_count(2)
    expect(item.locator("ul.files a").first).to_have_attribute("target", "_blank")
    expect(item.locator(".submitted-at")).to_contain_text("nộp lúc")
    href = item.locator("ul.files a").first.get_attribute("href")
    with page.context.expect_page() as opened:  # the file opens in a new tab for the clerk
        item.locator("ul.files a").first.click()
    assert opened.value.url.endswith(href)
    opened.value.close()
    shot(page, "queue-desktop")
    item.locator(".act-receive").click()
    expect(item.locator(".item-done")).to_contain_text("Hẹn trả kết quả")
    expect(item.locator(".item-done a")).to_have_attribute(
        "href", f"/api/v1/dossiers/{code}/documents/receipt.pdf")

    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    expect(phone.locator("#ket-qua")).to_contain_text("Được tiếp nhận")
    expect(phone.locator("#ket-qua")).to_contain_text("Ngày hẹn trả kết quả")


def test_a_supplement_is_asked_uploaded_on_the_lookup_page_and_accepted(server, phone, page,
                                                                        tmp_path):
    code, secret = submitted_on_phone(phone, server, tmp_path, "Phạm Thị Hoa", "0912345602",
                                      {"file-1": pdf_file(tmp_path, "mo.pdf", "Mo")})
    sign_in(page, server, "clerk", "/quay")
    item = page.locator(f"#online-list article[data-code='{code}']")
    item.locator(".act-supplement").click()
    item.locator(".ticks input").first.check()
    item.locator(".sup-reason").fill("Tờ khai chụp bị mờ, không đọc được")
    item.locator(".act-supplement-confirm").click()
    expect(item.locator(".item-done")).to_contain_text("Đã gửi yêu cầu bổ sung")

    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    box = phone.locator("#bo-sung")
    expect(box).to_contain_text("Tờ khai chụp bị mờ")
    expect(box.locator("#supplement-items li")).to_have_count(1)
    expect(box.locator("input[type=file]")).to_have_count(1)  # one input per item asked for
    phone.click("#supplement-submit")  # nothing chosen: said so, nothing sent
    expect(phone.locator("#sup-err-file-1")).to_contain_text("Chưa chọn tệp")
    phone.set_input_files("#sup-file-1", pdf_file(tmp_path, "to-khai-ro.pdf", "Ro net"))
    shot(phone, "supplement-phone")
    phone.click("#supplement-submit")
    expect(phone.locator("#supplement-done")).to_contain_text("Mới đăng ký")

    page.goto(f"{server}/quay")
    item = page.locator(f"#online-list article[data-code='{code}']")
    expect(item.locator("ul.files a")).to_have_count(2)
    item.locator(".act-receive").click()
    expect(item.locator(".item-done")).to_contain_text("Đã tiếp nhận")
    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    expect(phone.locator("#ket-qua")).to_contain_text("Được tiếp nhận")
    expect(phone.locator("#bo-sung")).to_have_count(0)


def test_bad_files_and_fields_are_shown_where_they_are_and_nothing_is_submitted(
        server, phone, tmp_path):
    posted = []
    phone.on("request", lambda r: posted.append(r.url) if r.method == "POST"
             and r.url.endswith("/api/v1/public/submissions") else None)
    choose_procedure(phone, server)
    fill_applicant(phone, "Lê Thị Cúc", "0912345603")
    empty = tmp_path / "rong.pdf"
    empty.write_bytes(b"")
    exe = tmp_path / "uy-quyen.pdf"
    exe.write_bytes(b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 4000)  # a program named .pdf
    phone.set_input_files("#file-1", str(empty))
    phone.set_input_files("#file-3", str(exe))
    phone.click("#btn-submit")
    expect(phone.locator("#err-file-1")).to_contain_text("Tệp rỗng (0 byte)")
    expect(phone.locator("#err-file-3")).to_contain_text("không phải PDF, JPEG hoặc PNG")
    expect(phone.locator("#form-error")).to_contain_text("Hồ sơ chưa được gửi")
    shot(phone, "bad-files-phone")
    assert posted == []

    # A CCCD the server refuses: its Vietnamese message next to the field; nothing lost.
    phone.set_input_files("#file-1", pdf_file(tmp_path, "to-khai.pdf", "To khai"))
    phone.set_input_files("#file-3", [])
    phone.fill("#a-id", "12345")
    phone.click("#btn-submit")
    expect(phone.locator("#err-a-id")).to_contain_text("Số định danh cá nhân (CCCD)")
    assert len(posted) == 1
    assert phone.input_value("#a-name") == "Lê Thị Cúc"
    assert phone.evaluate("document.getElementById('file-1').files.length") == 1
    clerk = token(server, "clerk")
    found = httpx.get(f"{server}/api/v1/dossiers", params={"q": "le thi cuc"},
                      headers=clerk).json()
    assert found["total"] == 0  # nothing stored

    phone.fill("#a-id", CCCD)
    phone.click("#btn-submit")
    expect(phone.locator("#done")).to_be_visible()
    found = httpx.get(f"{server}/api/v1/dossiers", params={"q": "le thi cuc"},
                      headers=clerk).json()
    assert found["total"] == 1
