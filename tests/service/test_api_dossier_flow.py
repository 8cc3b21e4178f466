"""Receiving and processing a dossier over the JSON API, and the errors a client meets."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def receive(client, headers, body=None, **extra_headers):
    return client.post("/api/v1/dossiers", json=body or EXAMPLE,
                       headers={**headers, **extra_headers})


def test_example_body_receives_a_dossier_with_code_appointment_and_secret(client):
    clerk = login(client, "clerk")
    response = receive(client, clerk)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"].startswith("000.01.31.H26-")
    assert body["secret"] and body["appointment"]
    assert body["dossier"]["state"] == "received"
    assert body["dossier"]["applicant"]["name"] == "Nguyễn Thị Mai"
    assert response.headers["Location"].endswith(body["code"])


def test_dossier_goes_from_counter_to_return_over_http(client):
    clerk, officer, leader = (login(client, u) for u in ("clerk", "officer", "leader"))
    code = receive(client, clerk).json()["code"]
    for headers, action, body in [
        (clerk, "transfer", {}),
        (leader, "assign", {"payload": {"assignee": "officer"}}),
        (officer, "forward", {}),
        (leader, "finish", {}),
        (clerk, "return_result", {"payload": {"collected_by": "Nguyễn Thị Mai"}}),
    ]:
        response = client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body,
                               headers=headers)
        assert response.status_code == 200, (action, response.text)
    dossier = client.get(f"/api/v1/dossiers/{code}", headers=clerk).json()
    assert dossier["state"] == "returned" and dossier["status_code"] == 10
    assert [e["action"] for e in dossier["events"]] == [
        "receive", "transfer", "assign", "forward", "finish", "return_result"]
    assert all(e["request_id"] for e in dossier["events"])
    assert dossier["events"][1]["actor"]["id"] == "clerk"


def test_illegal_action_is_a_409_problem_naming_state_and_allowed_actions(client):
    clerk = login(client, "clerk")
    code = receive(client, clerk).json()["code"]
    response = client.post(f"/api/v1/dossiers/{code}/actions/return_result", json={},
                           headers=clerk)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["type"].endswith("/illegal-action")
    assert problem["state"] == "received" and "transfer" in problem["allowed_actions"]
    assert "Traceback" not in response.text


def test_stale_expected_version_is_a_conflict(client):
    clerk = login(client, "clerk")
    code = receive(client, clerk).json()["code"]
    response = client.post(f"/api/v1/dossiers/{code}/actions/transfer",
                           json={"expected_version": 99}, headers=clerk)
    assert response.status_code == 409 and response.json()["type"].endswith("/conflict")


def test_idempotency_key_returns_the_first_result(client):
    clerk = login(client, "clerk")
    first = receive(client, clerk, **{"Idempotency-Key": "k-123"})
    again = receive(client, clerk, **{"Idempotency-Key": "k-123"})
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["code"] == again.json()["code"] and again.json()["replayed"]
    code = first.json()["code"]
    act1 = client.post(f"/api/v1/dossiers/{code}/actions/transfer", json={},
                       headers={**clerk, "Idempotency-Key": "t-1"})
    act2 = client.post(f"/api/v1/dossiers/{code}/actions/transfer", json={},
                       headers={**clerk, "Idempotency-Key": "t-1"})
    assert act1.status_code == act2.status_code == 200 and act2.json()["replayed"]
    assert len(act2.json()["events"]) == 2


def test_bad_input_gets_field_level_vietnamese_problem(client):
    clerk = login(client, "clerk")
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "id_number": "03119500432X",
                                     "phone": "12345"}}
    response = receive(client, clerk, body)
    assert response.status_code == 422
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert "applicant.phone" in fields
    assert problem["title"] == "Dữ liệu không hợp lệ"


def test_wrong_citizen_id_is_refused_and_odd_one_only_warned(client):
    clerk = login(client, "clerk")
    bad = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "id_number": "0311950043"}}
    response = receive(client, clerk, bad)
    assert response.status_code == 422 and "12 chữ số" in response.json()["detail"]
    # 840 is a country code (birth registered abroad): legitimate, only warned about.
    odd = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "id_number": "840 1 95 004321",
                                    "sex": "nam"}}
    response = receive(client, clerk, odd)
    assert response.status_code == 201
    warnings = response.json()["warnings"]
    assert any("mã tỉnh" in w for w in warnings) and any("giới tính" in w for w in warnings)


def test_nfd_input_is_stored_nfc(client):
    import unicodedata

    clerk = login(client, "clerk")
    name = unicodedata.normalize("NFD", "Nguyễn Thị Mai")
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "name": name}}
    stored = receive(client, clerk, body).json()["dossier"]["applicant"]["name"]
    assert stored == unicodedata.normalize("NFC", name) != name


def test_missing_components_point_the_clerk_to_guidance(client):
    clerk = login(client, "clerk")
    response = receive(client, clerk, {**EXAMPLE, "components": []})
    assert response.status_code == 422
    assert "Mẫu 02" in response.json()["detail"] and response.json()["missing"]


def test_guidance_and_refusal_at_the_counter(client):
    clerk = login(client, "clerk")
    guided = client.post("/api/v1/dossiers/guidance", headers=clerk, json={
        "procedure": "1.004873", "applicant_name": "Trần Văn Bình",
        "missing": [{"name": "Tờ khai", "originals": 1}], "reason": "Thiếu tờ khai"})
    assert guided.status_code == 201 and guided.json()["document"]["form"] == "supplement_request"
    refused = client.post("/api/v1/dossiers/refusals", headers=clerk, json={
        "procedure": "1.004873", "applicant": {"name": "Trần Văn Bình"},
        "reason": "Không thuộc thẩm quyền giải quyết của xã"})
    assert refused.status_code == 201 and refused.json()["state"] == "refused_at_reception"


def test_work_queue_is_ordered_by_urgency_and_paginates(client):
    clerk = login(client, "clerk")
    codes = [receive(client, clerk).json()["code"] for _ in range(3)]
    page = client.get("/api/v1/dossiers", params={"limit": 2}, headers=clerk).json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get("/api/v1/dossiers", params={"limit": 2, "cursor": page["next_cursor"]},
                      headers=clerk).json()
    assert [i["code"] for i in page["items"] + rest["items"]] == codes
    found = client.get("/api/v1/dossiers", params={"q": "nguyen thi mai"}, headers=clerk)
    assert len(found.json()["items"]) == 3
    bad = client.get("/api/v1/dossiers", params={"cursor": "@@@"}, headers=clerk)
    assert bad.status_code == 422


def test_procedure_search_ignores_diacritics(client):
    clerk = login(client, "clerk")
    found = client.get("/api/v1/procedures", params={"q": "dang ky khai sinh"},
                       headers=clerk).json()
    assert any(p["name"] == "Đăng ký khai sinh" for p in found)
    detail = client.get("/api/v1/procedures/1.004873", headers=clerk).json()
    assert detail["time_limit"]["unit"] == "working_days" and detail["required_components"]
    assert client.get("/api/v1/procedures/9.999999", headers=clerk).status_code == 404


def test_a_calendar_day_limit_is_shown_with_its_unit_at_the_counter(client):
    """Issue 15: "06 ngày" alone reads as working days; calendar days count the days off."""
    clerk = login(client, "clerk")
    detail = client.get("/api/v1/procedures/1.013222", headers=clerk).json()
    assert detail["time_limit_label"] == "06 ngày (ngày theo lịch, tính cả ngày nghỉ)"
    births = client.get("/api/v1/procedures/1.004873", headers=clerk).json()
    assert births["time_limit_label"].endswith("ngày làm việc")


def test_nul_characters_are_refused_not_a_server_error(client):
    clerk = login(client, "clerk")
    in_url = client.get("/api/v1/dossiers", params={"q": "a\x00b"}, headers=clerk)
    assert in_url.status_code == 422 and in_url.json()["type"].endswith("/invalid-data")
    body = {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], "name": "Nguyễn\x00Mai"}}
    in_body = client.post("/api/v1/dossiers", json=body, headers=clerk)
    assert in_body.status_code == 422


def test_the_receipt_explains_the_appointment_the_engine_stored(client):
    body = receive(client, login(client, "clerk")).json()
    explained = body["explanation"]
    assert explained["limit"]["unit"] == body["dossier"]["limit"]["unit"]
    assert explained["counted_from"] < body["appointment"] == body["due"]
    assert all(day["date"] <= body["due"] for day in explained["skipped"])
    assert explained["text"].startswith("Tiếp nhận lúc")


def test_a_receipts_answer_shows_the_journal_and_forms_the_dossier_page_reads(client):
    """The receipt's answer builds the new dossier's journal and forms from what it has just
    written (issue 18: not read back); they must be what the database holds."""
    clerk = login(client, "clerk")
    answer = receive(client, clerk).json()
    stored = client.get(f"/api/v1/dossiers/{answer['code']}", headers=clerk).json()
    for part in ("events", "documents", "steps", "agency_names"):
        assert answer["dossier"][part] == stored[part], part
    assert [e["action"] for e in answer["dossier"]["events"]] == ["receive"]
    assert answer["dossier"]["documents"] and answer["dossier"]["steps"]  # a real comparison
