"""The postal channel over the JSON API: received by post with the day the post office
delivered it (a warning when that day is before the receipt), returned by post with a tracking
number, the delivery recorded afterwards; bad input is a Vietnamese 422 and changes nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from engine.timezone import now_local

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def day(offset: int = 0) -> str:
    return (now_local().date() + timedelta(days=offset)).isoformat()


def by_post(client, clerk, **extra):
    body = {**EXAMPLE, "channel": "postal", "return_method": "post", **extra}
    return client.post("/api/v1/dossiers", json=body, headers=clerk)


def act(client, headers, code, action, payload=None):
    return client.post(f"/api/v1/dossiers/{code}/actions/{action}",
                       json={"payload": payload or {}}, headers=headers)


def to_result(client, code):
    clerk, leader, officer = (login(client, u) for u in ("clerk", "leader", "officer"))
    assert act(client, clerk, code, "transfer").status_code == 200
    assert act(client, leader, code, "assign", {"assignee": "officer"}).status_code == 200
    assert act(client, officer, code, "forward").status_code == 200
    assert act(client, leader, code, "finish").status_code == 200


def test_received_by_post_then_returned_by_post_and_delivered(client):
    clerk = login(client, "clerk")
    response = by_post(client, clerk, postal_delivered_on=day(-1))
    assert response.status_code == 201, response.text
    body = response.json()
    assert any("Bưu điện giao hồ sơ ngày" in w and "ghi lùi" in w for w in body["warnings"])
    dossier = body["dossier"]
    assert (dossier["channel"], dossier["return_method"]) == ("postal", "post")
    assert dossier["postal"]["dossier_delivered_on"] == day(-1)
    assert dossier["received_at"].startswith(day())  # the clock starts at the receipt
    code = body["code"]
    to_result(client, code)

    missing = act(client, clerk, code, "return_result")
    assert missing.status_code == 422
    assert "nhập số hiệu bưu gửi" in missing.json()["detail"]
    returned = act(client, clerk, code, "return_result",
                   {"tracking_number": "eb123456789vn", "collected_by": "Nguyễn Thị Mai"})
    assert returned.status_code == 200, returned.text
    postal = returned.json()["postal"]
    assert postal["tracking_number"] == "EB123456789VN"
    assert postal["recipient_address"] == EXAMPLE["applicant"]["address"]
    assert postal["handed_over_at"] == returned.json()["returned_at"]
    assert "record_postal_delivery" in client.get(f"/api/v1/dossiers/{code}",
                                                  headers=clerk).json()["allowed_actions"]

    for bad, message in [(day(1), "không được ở tương lai"),
                         (day(-1), "không được trước ngày giao bưu điện"),
                         (None, "nhập ngày bưu điện phát kết quả")]:
        refused = act(client, clerk, code, "record_postal_delivery",
                      {"delivered_on": bad} if bad else {})
        assert refused.status_code == 422 and message in refused.json()["detail"]
    delivered = act(client, clerk, code, "record_postal_delivery", {"delivered_on": day()})
    assert delivered.status_code == 200, delivered.text
    dossier = client.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
    assert dossier["postal"]["result_delivered_on"] == day()
    assert [e["action"] for e in dossier["events"]][-2:] == ["return_result",
                                                              "record_postal_delivery"]
    assert "record_postal_delivery" not in dossier["allowed_actions"]


def test_bad_delivery_day_at_receipt_is_a_vietnamese_422_and_stores_nothing(client):
    clerk = login(client, "clerk")
    before = client.get("/api/v1/dossiers?include_closed=true", headers=clerk).json()["total"]
    for extra, message in [({}, "nhập ngày bưu điện giao hồ sơ"),
                           ({"postal_delivered_on": day(1)}, "không được sau ngày tiếp nhận"),
                           ({"channel": "counter", "postal_delivered_on": day()},
                            "chỉ nhập ngày bưu điện giao hồ sơ khi hồ sơ nộp qua bưu chính")]:
        response = by_post(client, clerk, **extra)
        assert response.status_code == 422, response.text
        assert message in response.json()["detail"]
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/dossiers?include_closed=true",
                      headers=clerk).json()["total"] == before


def test_a_counter_dossier_has_no_postal_facts(client):
    clerk = login(client, "clerk")
    dossier = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["dossier"]
    assert (dossier["return_method"], dossier["postal"]) == ("counter", None)
