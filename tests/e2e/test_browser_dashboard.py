"""The auditor's dashboard in a browser: figures that lead to the dossiers behind them."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import expect

from .conftest import sign_in, token

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
    group = page.locator("#groups tbody tr").first
    group_name = group.locator("td").first.inner_text().strip()
    group.locator("a").first.click()
    # The list is replaced, not appended to: wait for the group's answer before following it.
    expect(page.locator("#drill-title")).to_have_text(f"{group_name}: 3 hồ sơ")
    expect(page.locator("#drill")).to_have_attribute("aria-busy", "false")
    page.locator("#drill-list a").first.click()
    expect(page.locator("h1")).to_contain_text(codes[0])
