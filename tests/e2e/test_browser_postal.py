"""The postal channel in the browser: received by post at /quay with the day the post office
delivered it, the result handed to the post office from /tra-ket-qua with its tracking number,
the delivery recorded on the dossier page."""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import expect

from engine.timezone import now_local

from .conftest import sign_in, token


def test_received_by_post_returned_by_post_and_delivered(server, page):
    yesterday = now_local().date() - timedelta(days=1)
    sign_in(page, server, "clerk", "/quay")
    page.fill("#proc-search", "xac nhan tinh trang hon nhan")
    page.wait_for_selector("#proc-list button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receive-form:not([hidden])")
    page.fill("#a-name", "Nguyễn Thị Mai")
    page.fill("#a-address", "Thôn Đông, xã Vĩnh Bảo, thành phố Hải Phòng")
    page.select_option("#channel", "postal")
    expect(page.locator("#postal-delivered")).to_be_visible()
    page.fill("#postal-delivered", yesterday.isoformat())
    page.select_option("#return-method", "post")
    page.click("#btn-receive")
    page.wait_for_selector("#new-code")
    code = page.inner_text("#new-code")
    expect(page.locator("#outcome-body")).to_contain_text(
        f"Bưu điện giao hồ sơ ngày {yesterday:%d/%m/%Y}")

    clerk, officer, leader = (token(server, u) for u in ("clerk", "officer", "leader"))
    with httpx.Client(base_url=server, timeout=30) as http:
        for headers, action in ((clerk, "transfer"), (officer, "forward"), (leader, "finish")):
            http.post(f"/api/v1/dossiers/{code}/actions/{action}", json={},
                      headers=headers).raise_for_status()

    page.goto(f"{server}/tra-ket-qua")
    row = page.locator("#queue tbody tr", has_text=code)
    row.get_by_role("button", name=f"Trả kết quả hồ sơ {code}").click()
    expect(page.locator("#act-method")).to_have_value("post")
    expect(page.locator("#act-address")).to_have_value(
        "Thôn Đông, xã Vĩnh Bảo, thành phố Hải Phòng")
    page.click("#act-go")
    expect(page.locator("#act-error")).to_contain_text("Nhập số hiệu bưu gửi")
    page.fill("#act-tracking", "eb123456789vn")
    page.click("#act-go")
    expect(page.locator("#msg")).to_have_text(
        f"Đã giao kết quả hồ sơ {code} cho bưu điện, số hiệu EB123456789VN.")

    page.goto(f"{server}/ho-so/{code}")
    expect(page.locator("#clock")).to_contain_text("số hiệu EB123456789VN")
    expect(page.locator("#clock")).to_contain_text(f"bưu điện giao {yesterday:%d/%m/%Y}")
    page.get_by_role("button", name="Ghi nhận bưu điện đã phát kết quả", exact=True).click()
    page.click("#action-go")
    page.wait_for_selector("#msg.flash.ok")
    expect(page.locator("#clock")).to_contain_text(f"{now_local():%d/%m/%Y}")
    detail = httpx.get(f"{server}/api/v1/dossiers/{code}", headers=clerk).json()
    assert detail["postal"]["result_delivered_on"] == now_local().date().isoformat()
