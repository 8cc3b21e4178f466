"""The counter's searches in the browser, as a keyboard clerk uses them (issue 15)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import expect

from engine.timezone import to_local

from .conftest import sign_in, token


@pytest.fixture(scope="module", autouse=True)
def clerks_may_backdate():
    """The server of this module lets clerks record an earlier receipt (paper typed in later),
    so that a dossier of an earlier day exists; set before the module's server starts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTCUA_BACKDATE_ROLES", "clerk,leader")
        yield


def test_typing_without_accents_and_enter_selects_the_procedure_named(server, page):
    sign_in(page, server, "clerk", "/quay")
    page.click("#proc-search")
    page.keyboard.type("dang ky khai sinh")
    page.keyboard.press("Enter")  # at once, as a fast typist does: no waiting for the list
    page.wait_for_selector("#receive-form:not([hidden])")
    expect(page.locator("#proc-search")).to_have_value("Đăng ký khai sinh")
    expect(page.locator("#proc-info")).to_contain_text("Mã 1.001193")
    expect(page.locator("#a-name")).to_be_focused()


def test_counter_search_finds_a_dossier_of_an_earlier_day_by_phone(server, page):
    clerk = token(server, "clerk")
    spec = httpx.get(f"{server}/api/v1/procedures/1.004873", headers=clerk).json()
    body = {"procedure": "1.004873",
            "applicant": {"name": "Hoàng Văn Quý", "phone": "0987 654 321"},
            "components": [{"name": c["name"], "originals": c["originals"],
                            "copies": c["copies"]} for c in spec["components"]]}
    earlier = datetime.now(UTC) - timedelta(days=3)
    old = httpx.post(f"{server}/api/v1/dossiers", headers=clerk, json={
        **body, "received_at": earlier.isoformat(),
        "backdate_reason": "Hồ sơ giấy nhận khi mất điện"})
    assert old.status_code == 201, old.text
    code = old.json()["code"]
    other = {**body, "applicant": {"name": "Hoàng Văn Quý", "phone": "0987 000 111"}}
    assert httpx.post(f"{server}/api/v1/dossiers", headers=clerk, json=other).status_code == 201

    sign_in(page, server, "clerk", "/quay")
    page.click("#find-q")
    page.keyboard.type("+84 987.654.321")
    page.keyboard.press("Enter")
    rows = page.locator("#found tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    expect(cells.nth(0)).to_have_text(code)
    expect(cells.nth(1)).to_have_text("Hoàng Văn Quý")
    expect(cells.nth(3)).to_contain_text(f"{to_local(earlier):%d/%m/%Y}")
    expect(cells.nth(4)).not_to_be_empty()
    rows.first.get_by_role("link", name=code).click()
    page.wait_for_url(f"**/ho-so/{code}")
