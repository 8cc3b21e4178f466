"""The bell in a browser: a result finished by the leader reaches the returning counter's clerk
(written with the action, delivered by the server's own scheduler), who opens the bell, reads
the message and marks it read."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from playwright.sync_api import expect

from .conftest import sign_in, token

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def unread(server: str, headers: dict[str, str], at_least: int, within: float = 30) -> int:
    """The clerk's unread count once the server's delivery job has run (every few seconds)."""
    deadline = time.monotonic() + within
    while True:
        count = httpx.get(f"{server}/api/v1/notifications/unread-count",
                          headers=headers).json()["unread"]
        if count >= at_least or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


def test_the_clerk_reads_a_result_ready_message_in_the_bell(server, page):
    clerk, officer, leader = (token(server, u) for u in ("clerk", "officer", "leader"))
    code = httpx.post(f"{server}/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
    for headers, action, body in [(clerk, "transfer", {}),
                                  (leader, "assign", {"payload": {"assignee": "officer"}}),
                                  (officer, "forward", {}), (leader, "finish", {})]:
        response = httpx.post(f"{server}/api/v1/dossiers/{code}/actions/{action}", json=body,
                              headers=headers)
        assert response.status_code == 200, response.text
    count = unread(server, clerk, at_least=1)
    assert count >= 1, "the in-app message was not delivered"

    sign_in(page, server, "clerk", "/quay")
    badge = page.locator("#bell-count")
    expect(badge).to_have_text(str(count))
    page.locator("#bell-button").click()
    message = page.locator("#bell-list li.unread", has_text=f"Hồ sơ {code} đã có kết quả")
    expect(message).to_be_visible()
    expect(message.locator("a")).to_have_attribute("href", f"/ho-so/{code}")
    message.get_by_role("button", name="Đã đọc").click()
    expect(page.locator("#bell-list li.read", has_text=code)).to_be_visible()
    if count == 1:
        expect(badge).to_be_hidden()
    page.locator("#bell-read-all").click()
    expect(badge).to_be_hidden()
    expect(page.locator("#bell-button")).to_have_attribute("aria-label", "Thông báo")
    page.keyboard.press("Escape")
    expect(page.locator("#bell-panel")).to_be_hidden()
