"""Through the service: with ``MOTCUA_PORTAL_URL`` set, an action over the API writes its portal
record (a replayed request writes none again); the portal's rejection reaches the
administrators' failed deliveries with the portal's reason; without the setting, nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from engine.outbox import Channel, OutboxMessage
from service.delivery import Couriers, DeliverySettings, PortalSettings
from service.delivery.worker import deliver_due
from tests.service.conftest import login
from tests.service.sync.conftest import CLIENT_TIMEOUT, KEY_ID, REASON, SECRET

EXAMPLE = json.loads((Path(__file__).parents[3] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def portal_rows(client) -> list[OutboxMessage]:
    with Session(client.app.state.engine) as session:
        return list(session.exec(select(OutboxMessage).where(
            OutboxMessage.channel == Channel.PORTAL.value).order_by(OutboxMessage.id)).all())


@pytest.fixture
def portal_on(monkeypatch, portal):
    monkeypatch.setenv("MOTCUA_PORTAL_URL", portal.url)
    monkeypatch.setenv("MOTCUA_PORTAL_KEY_ID", KEY_ID)
    monkeypatch.setenv("MOTCUA_PORTAL_SECRET", SECRET)
    return portal


def test_a_rejected_record_is_shown_to_administrators_with_the_portals_reason(portal_on,
                                                                              client):
    clerk = login(client, "clerk")
    headers = {**clerk, "Idempotency-Key": "portal-1"}
    created = client.post("/api/v1/dossiers", json=EXAMPLE, headers=headers)
    again = client.post("/api/v1/dossiers", json=EXAMPLE, headers=headers)
    assert (created.status_code, again.status_code) == (201, 200)
    code = created.json()["code"]
    [row] = portal_rows(client)
    assert row.key == f"portal:{code}:1" and row.payload["MaHoSo"] == code

    portal_on.script(code, "reject")
    config = DeliverySettings(portal=PortalSettings(url=portal_on.url, key_id=KEY_ID,
                                                    secret=SECRET, timeout=CLIENT_TIMEOUT))
    couriers = Couriers(config)
    try:
        deliver_due(client.app.state.engine, worker="w1", couriers=couriers,
                    now=datetime.now(UTC) + timedelta(days=1))
    finally:
        couriers.close()

    admin = login(client, "admin")
    page = client.get("/api/v1/admin/deliveries?state=dead", headers=admin).json()
    [dead] = page["items"]
    assert (dead["channel"], dead["channel_label"], dead["dossier"]) == (
        "portal", "Cổng DVC quốc gia", code)
    assert REASON in dead["last_error"] and dead["state_label"] == "Gửi thất bại"
    retried = client.post(f"/api/v1/admin/deliveries/{dead['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.json()["state"] == "pending"


@pytest.fixture
def portal_off(monkeypatch):
    monkeypatch.delenv("MOTCUA_PORTAL_URL", raising=False)


def test_without_the_portal_setting_actions_write_no_record(portal_off, client):
    clerk = login(client, "clerk")
    created = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk)
    assert created.status_code == 201
    assert portal_rows(client) == []
