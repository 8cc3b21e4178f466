"""The leader assigns a dossier by choosing a person from the competent agency's list, not by
typing a username (issue 15); the page then names people by their full names."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from playwright.sync_api import expect

from .conftest import sign_in, token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_the_leader_assigns_an_officer_chosen_from_the_list(server, page):
    admin, clerk = token(server, "admin"), token(server, "clerk")
    created = httpx.post(f"{server}/api/v1/admin/users", headers=admin, json={
        "username": "officer2", "full_name": "Vũ Thị Thu", "role": "officer",
        "agency": "000.00.31.H26", "password": "mat-khau-dai-du", "granted_agencies": []})
    assert created.status_code == 201, created.text
    code = httpx.post(f"{server}/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
    moved = httpx.post(f"{server}/api/v1/dossiers/{code}/actions/transfer", json={},
                       headers=clerk)
    assert moved.status_code == 200, moved.text

    sign_in(page, server, "leader", f"/ho-so/{code}")
    page.get_by_role("button", name="Phân công xử lý", exact=True).click()
    choice = page.locator("select#f-assignee")
    expect(choice).to_be_focused()
    options = choice.locator("option")
    expect(options).to_have_text(["— Chọn —", "Lê Văn Hùng (leader) — Lãnh đạo",
                                  "Trần Văn Minh (officer) — Chuyên viên xử lý",
                                  "Vũ Thị Thu (officer2) — Chuyên viên xử lý"])
    page.click("#action-go")  # nothing chosen: the page asks, nothing is sent
    expect(page.locator("#msg.error")).to_have_text("Chọn cán bộ được phân công trong danh sách.")
    choice.select_option(label="Vũ Thị Thu (officer2) — Chuyên viên xử lý")
    page.click("#action-go")
    expect(page.locator("#msg.flash.ok")).to_contain_text("Phân công xử lý")
    expect(page.locator("#steps tbody tr").last).to_contain_text("Vũ Thị Thu")
    journal = page.locator("#events li").first  # newest first: the assignment
    expect(journal).to_contain_text("Phân công xử lý")
    expect(journal).to_contain_text("Lê Văn Hùng (leader)")
