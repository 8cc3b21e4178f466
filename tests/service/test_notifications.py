"""The bell and the failed deliveries over HTTP: lifecycle actions through the API write their
messages; each person sees only their own delivered messages, marks them read; administrators
list dead deliveries (masked, without bodies) and send them again."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import Session, select

from engine.outbox import (
    Channel,
    DeliveryState,
    Draft,
    OutboxMessage,
    claim,
    delivered,
    enqueue,
)

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
CITIZEN_EMAIL = "mai.nguyen@example.vn"


def rows(client, **where) -> list[OutboxMessage]:
    with Session(client.app.state.engine) as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(session.exec(query).all())


def deliver_in_app(client) -> int:
    """What the delivery worker does with in-app messages: mark them delivered."""
    with Session(client.app.state.engine) as session:
        claimed = claim(session, worker="test", channels=[Channel.IN_APP], limit=500,
                        now=datetime.now(UTC) + timedelta(days=3650))
        for row in claimed:
            assert delivered(session, row.id, worker="test")
        session.commit()
        return len(claimed)


def notify(client, recipient: str, count: int = 1, kind: str = "due_soon") -> None:
    """Delivered in-app messages for ``recipient`` (as a sweep and a worker would leave them)."""
    drafts = [Draft(kind=kind, channel=Channel.IN_APP, recipient=recipient,
                    subject=f"Thông báo {i}", body=f"Nội dung {i}", dossier_code="X-1",
                    rung=f"r{i}", payload={"link": "/ho-so/X-1"}) for i in range(count)]
    with Session(client.app.state.engine) as session:
        enqueue(session, drafts)
        session.commit()
    deliver_in_app(client)


def to_result_ready(client) -> str:
    clerk, officer, leader = (login(client, u) for u in ("clerk", "officer", "leader"))
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "email": CITIZEN_EMAIL}}
    code = client.post("/api/v1/dossiers", json=body, headers=clerk).json()["code"]
    for headers, action, payload in [(clerk, "transfer", {}),
                                     (leader, "assign", {"payload": {"assignee": "officer"}}),
                                     (officer, "forward", {}), (leader, "finish", {})]:
        response = client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=payload,
                               headers=headers)
        assert response.status_code == 200, (action, response.text)
    return code


# ----- the lifecycle writes, the bell shows ---------------------------------------------------

def test_actions_through_the_api_write_messages_and_the_clerk_sees_the_result_ready(client):
    code = to_result_ready(client)
    written = [(r.kind, r.channel, r.recipient) for r in rows(client, dossier_code=code)]
    assert written == [("received", "email", CITIZEN_EMAIL),
                       ("result_ready", "email", CITIZEN_EMAIL),
                       ("result_ready", "in_app", "clerk")]
    clerk = login(client, "clerk")
    page = client.get("/api/v1/notifications", headers=clerk).json()
    assert page == {"items": [], "next": None, "unread": 0}  # not delivered yet
    assert deliver_in_app(client) == 1
    page = client.get("/api/v1/notifications", headers=clerk).json()
    [item] = page["items"]
    assert page["unread"] == 1 and item["kind"] == "result_ready"
    assert item["kind_label"] == "Đã có kết quả" and item["link"] == f"/ho-so/{code}"
    assert item["subject"] == f"Hồ sơ {code} đã có kết quả, chờ trả" and not item["read"]
    assert item["created_at"].endswith("+07:00")
    officer = login(client, "officer")
    assert client.get("/api/v1/notifications", headers=officer).json()["items"] == []


def test_a_replayed_receipt_writes_no_message_again(client):
    clerk = login(client, "clerk")
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "email": CITIZEN_EMAIL}}
    headers = {**clerk, "Idempotency-Key": "bell-replay-1"}
    first = client.post("/api/v1/dossiers", json=body, headers=headers)
    again = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert len(rows(client, kind="received")) == 1


def test_marking_read_one_then_all(client):
    notify(client, "officer", count=3)
    officer = login(client, "officer")
    assert client.get("/api/v1/notifications/unread-count",
                      headers=officer).json() == {"unread": 3}
    newest = client.get("/api/v1/notifications", headers=officer).json()["items"][0]
    read = client.post(f"/api/v1/notifications/{newest['id']}/read", headers=officer)
    assert read.status_code == 200 and read.json()["read"] and read.json()["read_at"]
    again = client.post(f"/api/v1/notifications/{newest['id']}/read", headers=officer)
    assert again.json()["read_at"] == read.json()["read_at"]  # the first reading counts
    unread = client.get("/api/v1/notifications?unread=true", headers=officer).json()
    assert [i["subject"] for i in unread["items"]] == ["Thông báo 1", "Thông báo 0"]
    done = client.post("/api/v1/notifications/read-all", headers=officer)
    assert done.json() == {"marked": 2, "unread": 0}


def test_someone_elses_message_is_not_found(client):
    notify(client, "officer")
    [row] = rows(client, recipient="officer")
    clerk = login(client, "clerk")
    response = client.post(f"/api/v1/notifications/{row.id}/read", headers=clerk)
    assert response.status_code == 404
    assert response.json()["type"].endswith("/notification-not-found")
    assert client.post("/api/v1/notifications/999999/read", headers=clerk).status_code == 404
    assert rows(client, recipient="officer")[0].read_at is None


def test_the_list_pages_newest_first_with_a_cursor(client):
    notify(client, "leader", count=5)
    leader = login(client, "leader")
    first = client.get("/api/v1/notifications?limit=2", headers=leader).json()
    second = client.get(f"/api/v1/notifications?limit=2&before={first['next']}",
                        headers=leader).json()
    last = client.get(f"/api/v1/notifications?limit=2&before={second['next']}",
                      headers=leader).json()
    subjects = [i["subject"] for page in (first, second, last) for i in page["items"]]
    assert subjects == [f"Thông báo {i}" for i in (4, 3, 2, 1, 0)]
    assert last["next"] is None and first["unread"] == 5


def test_the_bell_needs_a_signed_in_user(client):
    assert client.get("/api/v1/notifications").status_code == 401
    assert client.post("/api/v1/notifications/read-all").status_code == 401


# ----- administrators: the failed deliveries --------------------------------------------------

def dead_letters(client) -> list[int]:
    """Two messages to a citizen that gave up (e-mail, SMS), newest first."""
    drafts = [Draft(kind="received", channel=Channel.EMAIL, recipient=CITIZEN_EMAIL,
                    subject="Hồ sơ X-1 đã được tiếp nhận", body="Kính gửi: Nguyễn Thị Mai",
                    dossier_code="X-1", rung="event-1"),
              Draft(kind="received", channel=Channel.WEBHOOK, recipient="sms:0912345678",
                    subject="Hồ sơ X-1 đã được tiếp nhận", body="Ho so X-1",
                    dossier_code="X-1", rung="event-1")]
    with Session(client.app.state.engine) as session:
        enqueue(session, drafts)
        table = OutboxMessage.__table__
        session.connection().execute(
            update(table).where(table.c.key.in_([d.key for d in drafts]))
            .values(state=DeliveryState.DEAD.value, attempts=8, last_error="HTTP 500"))
        session.commit()
    return [r.id for r in rows(client, state="dead")][::-1]


def test_administrators_list_dead_deliveries_masked_and_without_bodies(client):
    dead_letters(client)
    admin = login(client, "admin")
    page = client.get("/api/v1/admin/deliveries?state=dead", headers=admin).json()
    assert [(d["channel"], d["recipient"]) for d in page["items"]] == [
        ("webhook", "sms:0912***678"), ("email", "m***@example.vn")]
    first = page["items"][0]
    assert "body" not in first and first["state_label"] == "Gửi thất bại"
    assert first["kind_label"] == "Đã tiếp nhận hồ sơ" and first["last_error"] == "HTTP 500"
    assert CITIZEN_EMAIL not in json.dumps(page, ensure_ascii=False)
    assert client.get("/api/v1/admin/deliveries?state=pending",
                      headers=admin).json()["items"] == []


def test_only_administrators_see_deliveries(client):
    clerk = login(client, "clerk")
    assert client.get("/api/v1/admin/deliveries", headers=clerk).status_code == 403
    [newest, _] = dead_letters(client)
    assert client.post(f"/api/v1/admin/deliveries/{newest}/retry",
                       headers=clerk).status_code == 403


def test_retrying_a_dead_delivery_queues_it_again_once(client):
    newest, _ = dead_letters(client)
    admin = login(client, "admin")
    response = client.post(f"/api/v1/admin/deliveries/{newest}/retry", headers=admin)
    assert response.status_code == 200
    assert (response.json()["state"], response.json()["attempts"]) == ("pending", 0)
    again = client.post(f"/api/v1/admin/deliveries/{newest}/retry", headers=admin)
    assert again.status_code == 409 and again.json()["type"].endswith("/delivery-not-dead")
    missing = client.post("/api/v1/admin/deliveries/999999/retry", headers=admin)
    assert missing.status_code == 404


# ----- the pages ------------------------------------------------------------------------------

def sign_in(client, username: str) -> None:
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/dang-nhap").text).group(1)
    response = client.post("/dang-nhap", data={"username": username, "password": PASSWORD,
                                                "csrf": token}, follow_redirects=False)
    assert response.status_code == 303


@pytest.mark.parametrize("username,page", [("clerk", "/quay"), ("officer", "/hop-thu"),
                                           ("auditor", "/kiem-soat"), ("admin", "/quan-tri")])
def test_every_staff_page_has_the_bell_with_my_unread_count(client, username, page):
    notify(client, username, count=2)
    sign_in(client, username)
    html = client.get(page).text
    assert 'id="bell-button"' in html and 'aria-label="Thông báo: 2 chưa đọc"' in html
    assert re.search(r'id="bell-count"\s*>2<', html)


def test_the_public_pages_have_no_bell(client):
    assert 'id="bell"' not in client.get("/").text


def test_the_admin_page_of_failed_deliveries(client):
    sign_in(client, "admin")
    html = client.get("/quan-tri").text
    assert 'href="/quan-tri/thong-bao"' in html
    page = client.get("/quan-tri/thong-bao")
    assert page.status_code == 200 and "Thông báo gửi lỗi" in page.text
    assert '<option value="dead" selected>Gửi thất bại</option>' in page.text
    client.cookies.clear()
    sign_in(client, "clerk")
    assert client.get("/quan-tri/thong-bao").status_code == 403
