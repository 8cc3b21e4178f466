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


SATURDAY = datetime(2026, 11, 28, 10, 0, tzinfo=VN_TZ)
ONE_DAY_PROCEDURES = ("1.000656", "1.000894", "2.000635")  # same-day (trong ngày) procedures


def receive_at(client, procedure: str, at: datetime) -> str:
    """A dossier received by the demo clerk at ``at`` (the engine's own receive: the API
    takes the server's clock)."""
    from sqlmodel import Session

    from engine.lifecycle import Actor, Applicant, receive
    from engine.procedures import version_in_force

    actor = Actor(id="clerk", role="clerk", agency="000.01.31.H26", name="Nguyễn Thị Lan")
    with Session(client.app.state.engine) as session:
        spec = version_in_force(session, code=procedure, on=at.date())
        components = [{"name": c.name, "originals": c.originals, "copies": c.copies}
                      for c in spec.components]
        result = receive(session, actor=actor, procedure_code=procedure, components=components,
                         applicant=Applicant(name="Trần Văn Bình"), at=at)
        session.commit()
        return result.dossier.code


def test_one_day_dossiers_received_out_of_hours_are_not_a_wall_of_apology_badges(
        client, monkeypatch):
    # Received on Saturday 28/11/2026: same-day procedures are due on Monday 30/11, and
    # the last day for Mẫu 04 (the working day before, Friday 27/11) came before them.
    weekend = [receive_at(client, p, SATURDAY) for p in ONE_DAY_PROCEDURES]
    # Received on Friday after the cut-off (due Monday): the last apology day was Friday.
    friday = receive_at(client, "1.000656", datetime(2026, 11, 27, 16, 0, tzinfo=VN_TZ))
    # Three working days received on Wednesday 25/11: due Monday 30/11, last apology Friday.
    wednesday = receive_at(client, "1.004873", datetime(2026, 11, 25, 9, 0, tzinfo=VN_TZ))
    monkeypatch.setattr("service.api.dossiers.now_local", lambda: SATURDAY)
    clerk = login(client, "clerk")

    page = client.get("/api/v1/dossiers", headers=clerk).json()
    badges = {i["code"]: i["urgency"] for i in page["items"]}
    assert {c: badges[c] for c in weekend} == dict.fromkeys(weekend)
    assert badges[friday] == badges[wednesday] == "apology_due"
    assert page["total"] == 5

    monkeypatch.setattr("service.api.dossiers.now_local",
                        lambda: datetime(2026, 11, 30, 8, 0, tzinfo=VN_TZ))
    monday = client.get("/api/v1/dossiers", headers=clerk).json()["items"]
    assert {i["code"]: i["urgency"] for i in monday} == dict.fromkeys(
        [*weekend, friday, wednesday], "due_today")


def test_the_queue_gives_the_total_of_every_page(client):
    clerk = login(client, "clerk")
    for _ in range(3):
        assert client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).status_code == 201
    first = client.get("/api/v1/dossiers", params={"limit": 2}, headers=clerk).json()
    assert (len(first["items"]), first["total"]) == (2, 3)
    rest = client.get("/api/v1/dossiers", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=clerk).json()
    assert (len(rest["items"]), rest["total"]) == (1, 3)
    found = client.get("/api/v1/dossiers", params={"q": "khong co ai", "limit": 2},
                       headers=clerk).json()
    assert found == {"items": [], "next_cursor": None, "total": 0, "total_is_estimate": False,
                     "total_estimate": None}
