"""The whole citizen journey of issue 16 as one story, across the real server and a real
browser: a citizen on a phone (390×844) submits online with two attachments and asks for the
result by post; the clerk accepts it on /quay without asking for anything; the officer and the
leader process it on the dossier page; the clerk hands the result to the post office from
/tra-ket-qua; the citizen looks it up on the phone and rates it; the auditor's dashboard counts
the rating. Each hop asserts what the person there sees."""

from __future__ import annotations

import os
import re
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import expect

from engine.timezone import now_local

from .conftest import SCREENSHOTS, sign_in, token
from .test_browser_online_submission import fill_applicant, pdf_file, png_file

PROCEDURE = "Cấp Giấy xác nhận tình trạng hôn nhân"
APPLICANT = "Hoàng Thị Lan"
ADDRESS = "Số 12 Nguyễn Trãi, xã An Lão, thành phố Hải Phòng"
TRACKING = "EB987654321VN"
DATE = re.compile(r"\d{2}/\d{2}/\d{4}")


@pytest.fixture(scope="module")
def easy_proof_of_work():
    """A low proof-of-work difficulty for the server this module starts (the browser still
    solves it; the default difficulty only costs time)."""
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
    """The citizen's phone: its own browser context, never signed in."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    shot(page, "last-phone")
    context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{name}.png"), full_page=True)


def as_user(page, base: str, username: str, path: str) -> None:
    """The desktop context changes hands: the previous person signs out (cookies cleared)."""
    page.context.clear_cookies()
    sign_in(page, base, username, path)


def act(page, label: str) -> None:
    """One action from the dossier page's buttons, confirmed, and the page's success flash."""
    page.get_by_role("button", name=label, exact=True).click()
    page.click("#action-go")
    expect(page.locator("#msg.flash.ok")).to_contain_text(f"Đã thực hiện: {label}")


def submit_on_phone(phone, base: str, tmp_path) -> tuple[str, str]:
    """The citizen's online submission (/nop-ho-so): procedure found without accents, two
    files, the result by post to an address; the code and the secret shown."""
    phone.goto(f"{base}/nop-ho-so")
    phone.locator("#proc-search").press_sequentially("xac nhan tinh trang hon nhan", delay=5)
    expect(phone.locator("#proc-list [role=option]").first).to_contain_text(PROCEDURE)
    phone.locator("#proc-search").press("ArrowDown")
    phone.locator("#proc-search").press("Enter")
    expect(phone.locator("#proc-detail")).to_be_visible()
    expect(phone.locator("#proc-limit")).to_contain_text("03 ngày làm việc")
    fill_applicant(phone, APPLICANT, "0912345671")
    phone.set_input_files("#file-1", pdf_file(tmp_path, "to-khai.pdf", "To khai"))
    phone.set_input_files("#file-3", png_file(tmp_path, "uy-quyen.png"))
    phone.check("input[name=return_method][value=post]")
    phone.fill("#recipient-address", ADDRESS)
    phone.click("#btn-submit")
    expect(phone.locator("#done")).to_be_visible()
    expect(phone.locator("#done-procedure")).to_contain_text(PROCEDURE)
    expect(phone.locator("#done-status")).to_contain_text("Mới đăng ký")
    expect(phone.locator("#done-files li")).to_have_count(2)
    expect(phone.locator("#done-files")).to_contain_text("to-khai.pdf")
    expect(phone.locator("#done-files")).to_contain_text("uy-quyen.png")
    code = phone.locator("#done-code").inner_text().strip()
    secret = phone.locator("#done-secret").inner_text().replace(" ", "").strip()
    assert code.startswith("000.01.31.H26-") and len(secret) >= 8
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "1-submitted-phone")
    return code, secret


def accept_at_counter(page, base: str, code: str) -> str:
    """The clerk's online review block on /quay: the dossier with its two files, accepted as
    it is (no supplement asked); the appointment (dd/mm/yyyy) shown."""
    sign_in(page, base, "clerk", "/quay")
    item = page.locator(f"#online-list article[data-code='{code}']")
    expect(item).to_contain_text(APPLICANT)
    expect(item).to_contain_text(PROCEDURE)
    expect(item).to_contain_text("nhận kết quả: Qua")  # by post, as the citizen chose
    files = item.locator("ul.files a")
    expect(files).to_have_count(2)
    expect(files.nth(0)).to_have_text("to-khai.pdf")
    expect(files.nth(1)).to_have_text("uy-quyen.png")
    item.locator(".act-receive").click()
    done = item.locator(".item-done")
    expect(done).to_contain_text(f"Đã tiếp nhận hồ sơ {code}")
    expect(done).to_contain_text("Hẹn trả kết quả")
    appointment = DATE.search(done.inner_text()).group(0)
    shot(page, "2-accepted-desktop")
    return appointment


def process_on_dossier_page(page, base: str, code: str, appointment: str) -> None:
    """The procedure's steps (1.004873: receive → appraise → approve) from /ho-so/{code}:
    the clerk transfers, the officer forwards, the leader finishes."""
    page.goto(f"{base}/ho-so/{code}")
    expect(page.locator("#state")).to_have_text("Được tiếp nhận")
    expect(page.locator("#clock")).to_contain_text(appointment)
    expect(page.locator("#clock")).to_contain_text(ADDRESS)  # the result goes to this address
    expect(page.locator("#attachments tbody tr")).to_have_count(2)
    act(page, "Chuyển cơ quan giải quyết")
    expect(page.locator("#state")).to_have_text("Đang xử lý")

    as_user(page, base, "officer", f"/ho-so/{code}")
    expect(page.locator("#state")).to_have_text("Đang xử lý")
    expect(page.locator("#attachments tbody tr")).to_have_count(2)  # the officer sees the files
    act(page, "Chuyển bước tiếp theo")

    as_user(page, base, "leader", f"/ho-so/{code}")
    act(page, "Hoàn thành, chuyển trả kết quả")
    expect(page.locator("#state")).to_have_text("Đã xử lý xong")
    shot(page, "3-result-ready-desktop")


def return_by_post(page, base: str, code: str) -> None:
    """The clerk hands the result to the post office from /tra-ket-qua (the dialog proposes
    the post and the citizen's address)."""
    as_user(page, base, "clerk", "/tra-ket-qua")
    row = page.locator("#queue tbody tr", has_text=code)
    row.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    expect(page.locator("#act-method")).to_have_value("post")
    expect(page.locator("#act-address")).to_have_value(ADDRESS)
    page.fill("#act-tracking", TRACKING.lower())
    page.click("#act-go")
    expect(page.locator("#msg")).to_have_text(
        f"Đã giao kết quả hồ sơ {code} cho bưu điện, số hiệu {TRACKING}.")
    page.goto(f"{base}/ho-so/{code}")
    expect(page.locator("#state")).to_have_text("Đã trả kết quả")
    expect(page.locator("#clock")).to_contain_text(f"số hiệu {TRACKING}")


def rate_on_phone(phone, base: str, code: str, secret: str) -> None:
    """The citizen's lookup after return: returned, then a rating of 5 with a reason."""
    phone.goto(f"{base}/tra-cuu?ma={code}&k={secret}")
    result = phone.locator("#ket-qua")
    expect(result).to_contain_text("Đã trả kết quả")
    expect(result).to_contain_text("Kết quả đã được trả")
    # The lookup page does not show the postal tracking number (the 'returned' notice and the
    # dossier page carry it), so it is not asserted here.
    form = phone.locator("#rating-form")
    expect(form).to_be_visible()
    expect(phone.locator("#rating-reasons input[value=guidance]")).to_be_attached()
    phone.get_by_label("5 — Rất hài lòng").check()
    phone.locator("#rating-reasons input[value=guidance]").check()
    phone.fill("#rating-comment", "Nộp trên điện thoại, nhận qua bưu điện, rất tiện")
    phone.click("#rating-submit")
    expect(phone.locator("#rating-done")).to_contain_text("5/5 — Rất hài lòng")
    expect(form).to_be_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "4-rated-phone")


def test_a_citizen_submits_online_gets_the_result_by_post_and_rates_it(server, phone, page,
                                                                        tmp_path):
    code, secret = submit_on_phone(phone, server, tmp_path)
    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    expect(phone.locator("#ket-qua")).to_contain_text("Mới đăng ký")
    expect(phone.locator("#ket-qua")).to_contain_text("đang chờ Bộ phận Một cửa kiểm tra")

    appointment = accept_at_counter(page, server, code)
    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    expect(phone.locator("#ket-qua")).to_contain_text("Được tiếp nhận")
    expect(phone.locator("#ket-qua")).to_contain_text(f"Ngày hẹn trả kết quả: {appointment}")

    process_on_dossier_page(page, server, code, appointment)
    phone.goto(f"{server}/tra-cuu?ma={code}&k={secret}")
    expect(phone.locator("#ket-qua")).to_contain_text("Đã xử lý xong")

    return_by_post(page, server, code)
    rate_on_phone(phone, server, code, secret)

    as_user(page, server, "auditor", "/kiem-soat")
    rated = page.locator("#satisfaction-kpi a", has_text="Số đánh giá trong kỳ")
    expect(rated.locator(".value")).to_have_text("1")
    average = page.locator("#satisfaction-kpi a", has_text="Điểm hài lòng trung bình")
    expect(average.locator(".value")).to_have_text(re.compile(r"^5([,.]0+)?$"))
    expect(page.locator("#satisfaction-groups tbody tr")).to_have_count(1)
    expect(page.locator("#satisfaction-groups tbody")).to_contain_text("Hướng dẫn của công chức")
    shot(page, "5-dashboard-desktop")
    today = now_local().date()
    satisfaction = httpx.get(f"{server}/api/v1/reports/satisfaction",
                             params={"from": (today - timedelta(days=1)).isoformat(),
                                     "to": today.isoformat()},
                             headers=token(server, "auditor")).json()
    assert satisfaction["totals"]["count"] == 1
    assert satisfaction["totals"]["average"] == 5
