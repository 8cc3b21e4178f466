"""The work queue and the dossier page show the "apology due" badge on the competent
agency's own calendar: with a day off of its own just before the due date, the badge comes a
working day earlier than the national calendar would say."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

from engine.calendar import national_calendar
from engine.timezone import VN_TZ

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def test_the_queue_shows_the_apology_badge_on_the_agencys_calendar(client, monkeypatch):
    clerk, admin = login(client, "clerk"), login(client, "admin")
    received = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()
    code, agency = received["code"], received["dossier"]["competent_agency"]
    first_due = date.fromisoformat(received["due"])
    # The agency closes on the day the dossier was due: the due date moves one working day.
    closed = client.put(f"/api/v1/calendar/days/{first_due}", params={"agency": agency},
                        headers=admin, json={"kind": "local_off", "name": "Nghỉ do bão"})
    assert [m["code"] for m in closed.json()["reprojected"]] == [code]
    due = date.fromisoformat(closed.json()["reprojected"][0]["new_due"])
    # The last working day before the new due date: for the agency, the one before its day
    # off; for the nation, the day off itself.
    day = national_calendar().previous_working_day(first_due)
    assert national_calendar().previous_working_day(due) == first_due > day
    monkeypatch.setattr("service.api.dossiers.now_local",
                        lambda: datetime.combine(day, time(10), tzinfo=VN_TZ))

    queue = client.get("/api/v1/dossiers", headers=clerk).json()["items"]
    assert [(i["code"], i["urgency"]) for i in queue] == [(code, "apology_due")]
    detail = client.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
    assert detail["urgency"] == "apology_due"
