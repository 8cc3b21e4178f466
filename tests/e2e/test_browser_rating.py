"""The citizen rates the service on a phone after the result was returned (issue 16), and the
auditor's dashboard shows the rating, QĐ 766 5.4 and the channel targets."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, sign_in, token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def returned_dossier(base: str) -> dict:
    clerk, officer, leader = (token(base, u) for u in ("clerk", "officer", "leader"))
    body = httpx.post(f"{base}/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()
    for headers, action, payload in [(clerk, "transfer", {}),
                                     (leader, "assign", {"assignee": "officer"}),
                                     (officer, "forward", {}), (leader, "finish", {}),
                                     (clerk, "return_result", {})]:
        response = httpx.post(f"{base}/api/v1/dossiers/{body['code']}/actions/{action}",
                              json={"payload": payload}, headers=headers)
        assert response.status_code == 200, response.text
    return body


@pytest.fixture
def phone(chromium):
    context = chromium.new_context(viewport={"width": 390, "height": 844}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh", is_mobile=True,
                                   has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "rating-on-phone.png"), full_page=True)
    context.close()


def test_the_citizen_rates_on_the_lookup_page_after_return(server, phone, page):
    d = returned_dossier(server)
    phone.goto(f"{server}/tra-cuu?ma={d['code']}&k={d['secret']}#danh-gia")
    form = phone.locator("#rating-form")
    expect(form).to_be_visible()
    assert "k=" not in phone.url  # the secret left the address bar, the form still holds it
    expect(phone.locator("#rating-reasons input[value=time]")).to_be_attached()
    phone.get_by_label("2 — Không hài lòng").check()
    phone.locator("#rating-reasons input[value=time]").check()
    phone.fill("#rating-comment", "Phải chờ lâu")
    phone.click("#rating-submit")
    expect(phone.locator("#rating-done")).to_contain_text("2/5 — Không hài lòng")
    expect(form).to_be_hidden()
    # looked up again: the rating, not the form
    phone.goto(f"{server}/tra-cuu?ma={d['code']}&k={d['secret']}")
    expect(phone.locator("#danh-gia")).to_contain_text("Phải chờ lâu")
    expect(phone.locator("#rating-form")).to_have_count(0)

    sign_in(page, server, "auditor", "/kiem-soat")
    expect(page.locator("#satisfaction-kpi")).to_contain_text("Số đánh giá trong kỳ")
    expect(page.locator("#satisfaction-kpi a").first).to_contain_text("1")
    expect(page.locator("#satisfaction-groups tbody")).to_contain_text("Thời gian giải quyết")
    page.locator("#satisfaction-kpi a", has_text="QĐ 766 (5.4)").click()
    expect(page.locator("#drill-list")).to_contain_text(d["code"])
    expect(page.locator("#channel-kpi")).to_contain_text("Trả kết quả trực tuyến")
