"""Work lists that fit the work (issue 15): the counter's day, the people a dossier may be
assigned to and the agencies it may be sent to for an opinion (chosen, not typed, and checked
by the server), and full names instead of logins on the dossier's journals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from engine.db import session_scope
from engine.users import User
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
COMMUNE, OTHER_COMMUNE, OTHER_CENTRE = "000.00.31.H26", "000.00.32.H26", "000.01.32.H26"


def receive(client, headers) -> str:
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["code"]


def act(client, headers, code, action, status=200, **body):
    response = client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                           headers=headers)
    assert response.status_code == status, (action, response.text)
    return response.json()


@pytest.fixture
def staff(client, db_engine):
    """Besides the demo users: a second officer, an inactive one and a clerk of the commune,
    an officer of another commune and a clerk of that commune's centre."""
    with session_scope(db_engine) as session:
        for username, name, role, agency, active in [
                ("officer2", "Vũ Thị Thu", "officer", COMMUNE, True),
                ("officer_old", "Hoàng Văn Cũ", "officer", COMMUNE, False),
                ("clerk_ub", "Ngô Thị Hoa", "clerk", COMMUNE, True),
                ("officer_hb", "Đặng Văn Nam", "officer", OTHER_COMMUNE, True),
                ("clerk_hb", "Bùi Thị Hằng", "clerk", OTHER_CENTRE, True)]:
            session.add(User(username=username, full_name=name, role=role, agency_code=agency,
                             active=active, password_hash=hash_password(PASSWORD)))
    return {u: login(client, u) for u in ("clerk", "officer", "leader", "officer_hb",
                                           "clerk_hb")}


@pytest.fixture
def in_processing(client, staff):
    code = receive(client, staff["clerk"])
    act(client, staff["clerk"], code, "transfer")
    return code


# ----- the counter's day ------------------------------------------------------------------

def test_the_counter_lists_todays_receipts_returns_supplements_and_refusals(client, staff):
    clerk, officer, leader = staff["clerk"], staff["officer"], staff["leader"]
    returned, supplemented, waiting = (receive(client, clerk) for _ in range(3))
    for code in (returned, supplemented):
        act(client, clerk, code, "transfer")
        act(client, leader, code, "assign", payload={"assignee": "officer"})
    act(client, officer, returned, "forward")
    act(client, leader, returned, "finish")
    act(client, clerk, returned, "return_result", payload={"collected_by": "Nguyễn Thị Mai"})
    act(client, officer, supplemented, "request_supplement", reason="Thiếu giấy tờ",
        payload={"missing": [{"name": "Bản sao CCCD"}]})
    act(client, clerk, supplemented, "receive_supplement")
    refused = client.post("/api/v1/dossiers/refusals", headers=clerk, json={
        "procedure": "1.004873", "applicant": {"name": "Trần Văn Bình"},
        "reason": "Không thuộc thẩm quyền"}).json()["code"]

    response = client.get("/api/v1/counter/today", headers=clerk)
    assert response.status_code == 200, response.text
    today = response.json()
    assert today["counts"] == {"received": 3, "returned": 1, "supplements": 1, "refused": 1}
    assert today["total"] == 6 and today["agency"] == "000.01.31.H26"
    lines = {(line["kind"], line["code"]) for line in today["items"]}
    assert lines == {("received", returned), ("received", supplemented),
                     ("received", waiting), ("returned", returned),
                     ("supplements", supplemented), ("refused", refused)}
    first = today["items"][0]  # newest first: the refusal
    assert (first["kind"], first["label"], first["applicant"]) == (
        "refused", "Từ chối tiếp nhận", "Trần Văn Bình")
    assert {line["by_name"] for line in today["items"]} == {"Nguyễn Thị Lan"}
    assert today["day"] == first["at"][:10]


def test_the_counter_day_is_the_clerks_own_unit_and_only_clerks_have_one(client, staff):
    receive(client, staff["clerk"])
    other = client.get("/api/v1/counter/today", headers=staff["clerk_hb"]).json()
    assert other["counts"] == {"received": 0, "returned": 0, "supplements": 0, "refused": 0}
    assert other["items"] == []
    response = client.get("/api/v1/counter/today", headers=staff["officer"])
    assert response.status_code == 403


def test_the_counter_page_reads_the_day_from_the_counter_list(client, staff):
    """The block used to list results waiting and supplements awaited (the queue) under
    "Hôm nay tại quầy", so receipts never showed."""
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/dang-nhap").text).group(1)
    client.post("/dang-nhap", data={"username": "clerk", "password": PASSWORD, "csrf": token})
    page = client.get("/quay").text
    assert "/api/v1/counter/today" in page and "state=result_ready&state=awaiting" not in page


# ----- whom to assign, whom to consult -----------------------------------------------------

def test_assignees_are_the_competent_agencys_active_processing_staff_by_name(client, staff,
                                                                             in_processing):
    response = client.get(f"/api/v1/dossiers/{in_processing}/assignees",
                          headers=staff["leader"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["agency"], body["step"]) == (COMMUNE, "appraise")
    assert [(p["username"], p["full_name"], p["role_label"]) for p in body["items"]] == [
        ("leader", "Lê Văn Hùng", "Lãnh đạo"), ("officer", "Trần Văn Minh", "Chuyên viên xử lý"),
        ("officer2", "Vũ Thị Thu", "Chuyên viên xử lý")]  # no clerk, no one inactive or afar


def test_only_the_competent_agencys_staff_list_assignees_and_agencies(client, staff,
                                                                       in_processing):
    for list_ in ("assignees", "consultable-agencies"):
        url = f"/api/v1/dossiers/{in_processing}/{list_}"
        clerk = client.get(url, headers=staff["clerk"])  # sees the dossier, does not assign
        assert clerk.status_code == 403 and "cơ quan giải quyết" in clerk.json()["detail"]
        afar = client.get(url, headers=staff["officer_hb"])  # does not even see it
        assert afar.status_code == 404
        assert client.get(url, headers=staff["officer"]).status_code == 200


def test_assigning_someone_off_the_list_is_refused_in_vietnamese(client, staff, in_processing):
    for outsider in ("officer_hb", "clerk_ub", "officer_old", "khong-co-ai"):
        problem = act(client, staff["leader"], in_processing, "assign", status=422,
                      payload={"assignee": outsider})
        assert problem["type"].endswith("/invalid-input")
        assert problem["detail"].startswith(f"Không thể phân công cho '{outsider}'")
        assert problem["errors"][0]["field"] == "payload.assignee"
        assert "officer2" in problem["allowed"]
    done = act(client, staff["leader"], in_processing, "assign",
               payload={"assignee": "officer2"})
    assert done["assignee"] == "officer2"


def test_consultable_agencies_are_the_others_but_no_one_stop_unit(client, staff,
                                                                  in_processing):
    body = client.get(f"/api/v1/dossiers/{in_processing}/consultable-agencies",
                      headers=staff["officer"]).json()
    codes = [a["code"] for a in body["items"]]
    assert COMMUNE not in codes and OTHER_CENTRE not in codes and "000.00.01.H26" not in codes
    assert {"000.00.11.H26", OTHER_COMMUNE, "000.00.00.H26"} <= set(codes)
    assert codes[0] == "000.00.00.H26"  # the city first (tỉnh before xã), then by code
    problem = act(client, staff["officer"], in_processing, "consult", status=422,
                  payload={"agency": "Sở Tư pháp", "reply_by": "2030-01-10"})
    assert problem["errors"][0]["field"] == "payload.agency"
    assert "Không có cơ quan được lấy ý kiến" in problem["detail"]
    act(client, staff["officer"], in_processing, "consult",
        payload={"agency": "000.00.11.H26", "reply_by": "2030-01-10"})


# ----- full names on the journals ---------------------------------------------------------

def test_the_dossier_names_the_people_of_its_journal_by_full_name(client, staff,
                                                                   in_processing):
    act(client, staff["leader"], in_processing, "assign", payload={"assignee": "officer2"})
    detail = client.get(f"/api/v1/dossiers/{in_processing}", headers=staff["officer"]).json()
    assert detail["people"] == {"clerk": "Nguyễn Thị Lan", "leader": "Lê Văn Hùng",
                                "officer2": "Vũ Thị Thu"}


def test_the_read_history_on_the_dossier_page_names_the_reader(client, staff, in_processing):
    client.get(f"/api/v1/dossiers/{in_processing}", headers=staff["officer"])
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      client.get("/dang-nhap").text).group(1)
    client.post("/dang-nhap", data={"username": "leader", "password": PASSWORD, "csrf": token})
    page = client.get(f"/ho-so/{in_processing}").text
    history = page[page.index('id="read-journal"'):]
    assert "Trần Văn Minh" in history and "(officer)" in history


def test_the_inbox_bulk_assign_offers_only_people_the_server_accepts(client, staff):
    """The leader's "giao cho" list on /hop-thu: active officers and leaders of the agency —
    not an inactive officer, whom an assign would now be refused."""
    from .web.test_login_and_lookup_pages import sign_in

    assert sign_in(client, "leader").status_code == 303
    page = client.get("/hop-thu").text
    offered = re.findall(r'<option value="([^"]+)">', page.split('id="assignee"')[1]
                         .split("</select>")[0])
    assert "officer2" in offered and "officer" in offered
    assert "officer_old" not in offered and "clerk_ub" not in offered
