"""Browser scenarios (Playwright + Debian Chromium) against the real server."""

from __future__ import annotations

import json
import re
from pathlib import Path

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


def ready_for_return(base: str, *, apology: bool = False, supplement: bool = False) -> dict:
    """A dossier received, processed and finished through the API (result at the counter);
    with ``apology``, the leader apologised first (Mẫu 04) with a new appointment; with
    ``supplement``, the officer asked for a supplement instead of finishing."""
    from datetime import date, timedelta

    example = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                         .read_text(encoding="utf-8"))
    clerk, officer, leader = (token(base, u) for u in ("clerk", "officer", "leader"))
    with httpx.Client(base_url=base, timeout=30) as http:
        received = http.post("/api/v1/dossiers", json=example, headers=clerk).json()
        code = received["code"]
        steps = [(clerk, "transfer", {}), (officer, "forward", {})]
        if supplement:
            steps[1:] = [(officer, "request_supplement", {
                "reason": "Thiếu giấy tờ", "payload": {"missing": [{"name": "Bản sao CCCD"}]}})]
        if apology:
            new_due = (date.fromisoformat(received["appointment"]) + timedelta(days=7))
            steps.append((leader, "apologise", {"reason": "Chờ xác minh nơi cư trú",
                                                "payload": {"new_due": new_due.isoformat()}}))
        if not supplement:
            steps.append((leader, "finish", {}))
        for headers, action, body in steps:
            response = http.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                                 headers=headers)
            assert response.status_code == 200, (action, response.text)
        return response.json()


def test_the_clerk_returns_a_result_from_the_list_by_its_appointment(server, page):
    apologised = ready_for_return(server, apology=True)
    other = ready_for_return(server)
    waiting = ready_for_return(server, supplement=True)["code"]
    code, due, appointment = (apologised[k] for k in ("code", "due", "appointment"))
    assert appointment != due
    sign_in(page, server, "clerk", "/tra-ket-qua")
    row = page.locator("#queue tbody tr", has_text=code)
    # the date the applicant was told, and the legal due date beside it
    expect(row).to_contain_text(fmt(appointment))
    expect(row).to_contain_text(f"hạn luật định {fmt(due)}")
    expect(page.locator("#count")).to_contain_text(re.compile(r"Tổng số: \d+ hồ sơ · trang 1/1"))

    row.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    expect(page.locator("#act-collector")).to_have_value("Nguyễn Thị Mai")
    page.fill("#act-collector", "Trần Văn Bình (nhận thay)")
    page.click("#act-go")
    expect(page.locator("#msg")).to_have_text(
        f"Đã trả kết quả hồ sơ {code} cho Trần Văn Bình (nhận thay).")
    expect(row).to_contain_text("Đã trả kết quả")
    expect(row.get_by_role("button")).to_have_count(0)
    detail = httpx.get(f"{server}/api/v1/dossiers/{code}", headers=token(server, "clerk")).json()
    assert (detail["state"], detail["collected_by"]) == ("returned",
                                                         "Trần Văn Bình (nhận thay)")

    # Someone else handed the other result back meanwhile: the line says why it cannot.
    httpx.post(f"{server}/api/v1/dossiers/{other['code']}/actions/return_result", json={},
               headers=token(server, "clerk")).raise_for_status()
    page.locator("#queue tbody tr", has_text=other["code"]).get_by_role("button").click()
    page.click("#act-go")
    expect(page.locator("#act-error")).to_contain_text("Không thực hiện được")
    expect(page.locator("#act-error")).to_contain_text("đã thay đổi")
    page.click("#act-reload")
    expect(page.locator("#queue tbody tr", has_text=other["code"])).to_have_count(0)

    # The supplement the applicant brings in is taken at the same list.
    page.get_by_role("button", name=f"Nhận bổ sung hồ sơ {waiting}").click()
    page.click("#act-go")
    expect(page.locator("#msg")).to_contain_text(f"Đã nhận bổ sung hồ sơ {waiting}")
    expect(page.locator("#queue tbody tr", has_text=waiting)).to_contain_text("Đang xử lý")


def fmt(day: str) -> str:
    return f"{day[8:10]}/{day[5:7]}/{day[:4]}"
