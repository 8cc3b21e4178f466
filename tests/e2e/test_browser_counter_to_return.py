"""Browser scenarios (Playwright + Debian Chromium) against the real server."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect

from .conftest import sign_in, token


def receive_at_counter(page, base: str, name: str = "Nguyễn Thị Mai") -> str:
    sign_in(page, base, "clerk", "/quay")
    page.fill("#proc-search", "xac nhan tinh trang hon nhan")
    page.wait_for_selector("#proc-list button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receive-form:not([hidden])")
    page.fill("#a-name", name)
    page.fill("#a-id", "031195004321")
    page.click("#btn-receive")
    page.wait_for_selector("#new-code")
    return page.inner_text("#new-code")


def act(page, label: str, fill: dict[str, str] | None = None) -> None:
    page.get_by_role("button", name=label, exact=True).click()
    for selector, value in (fill or {}).items():
        page.fill(selector, value)
    page.click("#action-go")
    page.wait_for_selector("#msg.flash.ok")


def test_counter_to_return_scenario(server, page):
    code = receive_at_counter(page, server)
    assert re.fullmatch(r"000\.01\.31\.H26-\d{6}-\d{4}", code)
    assert page.inner_text("#appointment")
    assert "Không tính ngày tiếp nhận" in page.inner_text("#outcome")
    assert page.get_attribute("#print-receipt", "href").endswith(f"{code}/documents/receipt.pdf")
    page.goto(f"{server}/ho-so/{code}")
    page.wait_for_selector("#actions button")
    act(page, "Chuyển cơ quan giải quyết")
    page.context.clear_cookies()
    sign_in(page, server, "officer", f"/ho-so/{code}")
    page.wait_for_selector("#actions button")
    act(page, "Chuyển bước tiếp theo")
    page.context.clear_cookies()
    sign_in(page, server, "leader", f"/ho-so/{code}")
    page.wait_for_selector("#actions button")
    act(page, "Hoàn thành, chuyển trả kết quả")
    page.context.clear_cookies()
    sign_in(page, server, "clerk", "/tra-ket-qua")
    page.wait_for_selector(f"text={code}")
    page.goto(f"{server}/ho-so/{code}")
    page.wait_for_selector("#actions button")
    act(page, "Trả kết quả", {"#f-collector": "Nguyễn Thị Mai"})
    expect(page.locator("#state")).to_have_text("Đã trả kết quả")
    expect(page.locator("#steps tbody tr")).to_have_count(4)


def test_officer_apology_flow_proposes_a_new_date(server, page):
    clerk = token(server, "clerk")
    body = {"procedure": "1.004873", "applicant": {"name": "Trần Văn Bình"},
            "components": [{"name": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu "
                                     "hoặc mẫu điện tử tương tác", "originals": 1}]}
    code = httpx.post(f"{server}/api/v1/dossiers", json=body, headers=clerk).json()["code"]
    httpx.post(f"{server}/api/v1/dossiers/{code}/actions/transfer", json={}, headers=clerk)
    sign_in(page, server, "leader", f"/ho-so/{code}")
    page.wait_for_selector("#actions button")
    page.get_by_role("button", name="Xin lỗi và hẹn lại ngày trả", exact=True).click()
    proposed = page.input_value("#f-new-due")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", proposed)
    page.fill("#f-reason", "Cần xác minh thêm thông tin tại nơi cư trú trước đây")
    page.click("#action-go")
    page.wait_for_selector("#msg.flash.ok")
    assert "Phiếu xin lỗi" in page.inner_text("#msg")
    expect(page.locator("#clock")).to_contain_text(
        f"{proposed[8:10]}/{proposed[5:7]}/{proposed[:4]}")
    detail = httpx.get(f"{server}/api/v1/dossiers/{code}", headers=token(server, "leader"))
    assert detail.json()["appointment"] == proposed and detail.json()["apologies"] == 1


def test_citizen_looks_up_a_dossier_on_a_phone(server, chromium):
    clerk = token(server, "clerk")
    body = {"procedure": "1.004873", "applicant": {"name": "Lê Thị Cúc"},
            "components": [{"name": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu "
                                     "hoặc mẫu điện tử tương tác", "originals": 1}]}
    received = httpx.post(f"{server}/api/v1/dossiers", json=body, headers=clerk).json()
    phone = chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                 is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{server}/")
    page.fill("#ma", received["code"])
    page.fill("#k", received["secret"])
    page.keyboard.press("Enter")
    page.wait_for_selector("#ket-qua")
    text = page.inner_text("#ket-qua")
    assert "Được tiếp nhận" in text and "Ngày hẹn trả kết quả" in text
    assert "Lê Thị Cúc" not in page.content()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no horizontal scrolling on a phone"
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "citizen-phone.png"), full_page=True)
    phone.close()


def test_keyboard_only_receipt(server, page):
    sign_in(page, server, "clerk", "/quay")
    assert page.evaluate("document.activeElement.id") == "proc-search"
    page.keyboard.type("xac nhan tinh trang")
    page.wait_for_selector("#proc-list button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receive-form:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "a-name"
    page.keyboard.type("Phạm Văn Dũng")
    page.keyboard.press("Tab")
    page.keyboard.type("031090001234")
    page.keyboard.press("Enter")
    page.wait_for_selector("#new-code")
    assert page.evaluate("document.activeElement.id") == "print-receipt"


def test_clerk_cannot_open_another_agencys_dossier(server, page):
    other = token(server, "admin")
    httpx.post(f"{server}/api/v1/admin/users", headers=other, json={
        "username": "clerk_hb", "full_name": "Đặng Thu Trang", "role": "clerk",
        "agency": "000.01.32.H26", "password": "mat-khau-hong-bang"})
    code = receive_at_counter(page, server)
    page.context.clear_cookies()
    page.goto(f"{server}/dang-nhap?next=/ho-so/{code}")
    page.fill("#username", "clerk_hb")
    page.fill("#password", "mat-khau-hong-bang")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/dang-nhap" not in url)
    page.wait_for_selector("#msg.error")
    assert "Không tìm thấy hồ sơ" in page.inner_text("#msg")
    assert page.locator("#actions button").count() == 0
