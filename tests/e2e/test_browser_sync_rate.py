"""The dashboard's sync section (issue 17): without portal sync configured it says so rather
than showing a 0 % sync rate."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import expect

from .conftest import sign_in, token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_the_sync_section_says_not_synchronised_when_the_portal_is_not_configured(server,
                                                                                  page):
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    clerk = token(server, "clerk")
    answer = httpx.post(f"{server}/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert answer.status_code == 201, answer.text
    sign_in(page, server, "auditor", "/kiem-soat")
    kpi = page.locator("#sync-kpi")
    expect(kpi).to_contain_text("Tỷ lệ đồng bộ QĐ 766 (1.4)")
    expect(kpi).to_contain_text("chưa đồng bộ")
    expect(kpi.locator("a").first).to_contain_text("1")  # received in the period
    expect(page.locator("#sync-groups tbody tr").first).to_contain_text("chưa đồng bộ")
    expect(page.locator("#sync-definition")).to_contain_text("Chưa cấu hình đồng bộ")
    assert "0,0 %" not in kpi.inner_text()
    assert errors == []
