"""What the counter is told after a receipt (issue 15): a receipt outside office hours is
taken with a Vietnamese warning naming the instant the clock uses; a calendar edit that moves
the appointment shows on the dossier's moves and on the citizen's lookup."""

from __future__ import annotations

import json
from datetime import time, timedelta
from pathlib import Path

from engine.timezone import local_instant, now_local

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_a_receipt_at_night_is_taken_with_a_warning_naming_the_clocks_instant(client,
                                                                              monkeypatch):
    monkeypatch.setenv("MOTCUA_BACKDATE_ROLES", "clerk")
    night = local_instant((now_local() - timedelta(days=1)).date(), time(22, 8))
    body = {**EXAMPLE, "received_at": night.isoformat(),
            "backdate_reason": "Nhập lại hồ sơ nhận ngoài giờ"}
    response = client.post("/api/v1/dossiers", json=body, headers=login(client, "clerk"))
    assert response.status_code == 201, response.text  # never blocked
    answer = response.json()
    warning = answer["office_hours_warning"]
    assert warning.startswith("Cảnh báo: tiếp nhận lúc 22:08 ")
    assert f"{night:%d/%m/%Y}" in warning
    assert "thời hạn giải quyết tính theo thời điểm" in warning
    assert answer["explanation"]["received_at"] == night.isoformat()
    assert answer["explanation"]["limit"]["label"] in answer["explanation"]["text"]


def test_a_moved_appointment_shows_on_the_dossier_and_on_the_citizens_lookup(client):
    clerk, admin = login(client, "clerk"), login(client, "admin")
    received = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()
    code, due = received["code"], received["due"]
    agency = received["dossier"]["competent_agency"]
    assert client.get(f"/api/v1/dossiers/{code}/appointment-moves",
                      headers=clerk).json() == []
    changed = client.put(f"/api/v1/calendar/days/{due}?agency={agency}", headers=admin,
                         json={"kind": "local_off", "name": "Nghỉ đột xuất"})
    assert changed.status_code == 200, changed.text
    [move] = client.get(f"/api/v1/dossiers/{code}/appointment-moves", headers=clerk).json()
    assert move["old_appointment"] == due and move["new_appointment"] > due
    assert move["reason"] == f"ngày nghỉ {due[8:10]}/{due[5:7]}/{due[:4]}: Nghỉ đột xuất"
    public = client.get(f"/api/v1/public/dossiers/{code}",
                        params={"secret": received["secret"]}).json()
    assert [(m["old_appointment"], m["new_appointment"]) for m in public["appointment_moves"]] \
        == [(due, move["new_appointment"])]
    page = client.get("/tra-cuu", params={"ma": code, "k": received["secret"]})
    old = f"{due[8:10]}/{due[5:7]}/{due[:4]}"
    assert f"Ngày hẹn trả kết quả đã đổi từ {old}" in page.text
