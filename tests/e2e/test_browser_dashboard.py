"""The auditor's dashboard in a browser: figures that lead to the dossiers behind them."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import httpx
from playwright.sync_api import expect

from .conftest import SCREENSHOTS, sign_in, token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_every_dashboard_number_leads_to_its_dossiers(server, page):
    clerk = token(server, "clerk")
    codes = [httpx.post(f"{server}/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
             for _ in range(3)]
    sign_in(page, server, "auditor", "/kiem-soat")
    # the stylesheet applied (it was once served as a 500 and the site looked unstyled)
    expect(page.locator("header.top")).to_have_css("display", "flex")
    received = page.locator("#kpi a").first
    expect(received).to_contain_text("3")
    received.click()
    expect(page.locator("#drill-title")).to_contain_text("3 hồ sơ")
    for code in codes:
        expect(page.locator("#drill-list")).to_contain_text(code)
    # each line names the applicant and the procedure, with dates and the verdict in words
    line = page.locator("#drill-list tbody tr").first
    expect(line).to_contain_text(EXAMPLE["applicant"]["name"])
    expect(line).to_contain_text("Cấp Giấy xác nhận tình trạng hôn nhân")
    expect(line).to_contain_text("Đang giải quyết – trong hạn")
    expect(line.locator("td").nth(3)).to_have_text(re.compile(r"^\d\d:\d\d \d\d/\d\d/\d{4}$"))
    group = page.locator("#groups tbody tr").first
    group_name = group.locator("td").first.inner_text().strip()
    group.locator("a").first.click()
    # The list is replaced, not appended to: wait for the group's answer before following it.
    expect(page.locator("#drill-title")).to_have_text(f"{group_name}: 3 hồ sơ")
    expect(page.locator("#drill")).to_have_attribute("aria-busy", "false")
    page.locator("#drill-list a").first.click()
    expect(page.locator("h1")).to_contain_text(codes[0])


def test_quarter_preset_shows_dd_mm_yyyy_in_any_browser_language_and_downloads_it(
        server, chromium):
    from openpyxl import load_workbook

    from engine.timezone import now_local

    # An English browser: the page still reads and writes dd/mm/yyyy.
    context = chromium.new_context(locale="en-US", timezone_id="America/New_York")
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        sign_in(page, server, "auditor", "/kiem-soat")
        today = now_local().date()
        last = min(date(today.year, 3, 31), today)
        page.get_by_role("button", name="Quý I", exact=True).click()
        expect(page.locator("#from")).to_have_value(f"01/01/{today.year}")
        expect(page.locator("#to")).to_have_value(f"{last:%d/%m/%Y}")
        # the period shown, and when its figures were read (the cache may serve them again)
        expect(page.locator("#shown-period")).to_have_text(re.compile(
            re.escape(f"Kỳ đang xem: 01/01/{today.year} – {last:%d/%m/%Y}.")
            + r" Số liệu tính lúc \d\d:\d\d:\d\d \d\d/\d\d/\d{4}\.$"))
        href = page.locator("#export-xlsx").get_attribute("href")
        assert f"from={today.year}-01-01" in href and f"to={last.isoformat()}" in href
        answer = page.request.get(server + href)  # with the page's session cookie
        assert answer.status == 200
        book = load_workbook(io.BytesIO(answer.body()))
        assert "Biểu II.06a" in book.sheetnames
        csv_text = page.request.get(server + page.locator("#export-csv").get_attribute(
            "href")).text()
        assert csv_text.lstrip("\ufeff").startswith("Mã nhóm,Nhóm,Tiếp nhận mới")
        # a date typed wrongly is refused in Vietnamese, the figures stay those shown
        page.fill("#from", "31/02/2026")
        page.get_by_role("button", name="Xem", exact=True).click()
        expect(page.locator("#period-error")).to_contain_text("dd/mm/yyyy")
        assert page.locator("#export-xlsx").get_attribute("href") == href
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "dashboard-quarter-en-US.png"), full_page=True)
        context.close()
