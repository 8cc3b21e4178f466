"""The counter's two searches through the API (issue 15): the procedure a keyboard clerk gets on
Enter, and dossiers found by phone, CCCD, name or code across dates, within the clerk's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.db import session_scope
from engine.users import User
from service.api.procedures import recent_days
from service.auth import hash_password

from .conftest import PASSWORD, login

EXAMPLE = {
    "procedure": "1.004873",
    "applicant": {"name": "Nguyễn Thị Mai", "id_number": "031195004321",
                  "phone": "0912 345 678"},
    "components": [{"name": "Tờ khai cấp Giấy xác nhận tình trạng hôn nhân theo mẫu hoặc mẫu "
                            "điện tử tương tác", "originals": 1, "copies": 0}],
}


def search(client, headers, q: str = "") -> list[dict]:
    response = client.get("/api/v1/procedures", params={"q": q}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def receive_complete(client, headers, code: str) -> str:
    """Receive a dossier for ``code`` with every component the procedure asks for."""
    spec = client.get(f"/api/v1/procedures/{code}", headers=headers).json()
    body = {"procedure": code, "applicant": {"name": "Lê Văn Tâm"},
            "components": [{"name": c["name"], "originals": c["originals"],
                            "copies": c["copies"]} for c in spec["components"]]}
    response = client.post("/api/v1/dossiers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["code"]


def test_the_first_hit_is_the_procedure_named_not_a_longer_one_containing_it(client):
    clerk = login(client, "clerk")
    assert search(client, clerk, "dang ky khai sinh")[0]["name"] == "Đăng ký khai sinh"
    assert search(client, clerk, "Đăng ký khai sinh")[0]["code"] == "1.001193"
    assert search(client, clerk, "giay phep xay dung")[0]["code"] == "1.013225"
    assert search(client, clerk, "1.013222")[0]["code"] == "1.013222"


def test_the_clerks_recent_procedures_come_first_among_equal_matches(client):
    clerk = login(client, "clerk")
    assert search(client, clerk, "khai sinh")[0]["code"] == "1.001193"
    receive_complete(client, clerk, "2.000635")  # Cấp bản sao Trích lục hộ tịch, …
    hits = search(client, clerk, "khai sinh")
    assert hits[0]["code"] == "2.000635" and hits[0]["recent"] is True
    assert [h["recent"] for h in hits[1:]] == [False] * (len(hits) - 1)
    assert search(client, clerk, "dang ky khai sinh")[0]["code"] == "1.001193"  # exact wins
    empty = search(client, clerk)
    assert empty[0]["code"] == "2.000635" and empty[0]["recent"] and not empty[1]["recent"]
    officer = login(client, "officer")  # another user's receipts are not theirs
    assert search(client, officer, "khai sinh")[0]["code"] == "1.001193"


def test_recent_days_setting_defaults_to_30_and_refuses_nonsense():
    assert recent_days({}) == 30 and recent_days({"MOTCUA_RECENT_PROCEDURE_DAYS": "7"}) == 7
    try:
        recent_days({"MOTCUA_RECENT_PROCEDURE_DAYS": "0"})
    except ValueError as exc:
        assert "MOTCUA_RECENT_PROCEDURE_DAYS" in str(exc)
    else:
        raise AssertionError("0 days accepted")


def dossiers(client, headers, q: str, **params) -> dict:
    response = client.get("/api/v1/dossiers", headers=headers,
                          params={"q": q, "include_closed": "true", "sort": "newest", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_counter_search_finds_dossiers_by_phone_cccd_name_or_code_across_dates(
        client, monkeypatch):
    monkeypatch.setenv("MOTCUA_BACKDATE_ROLES", "clerk,leader")
    clerk = login(client, "clerk")
    earlier = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    old = client.post("/api/v1/dossiers", headers=clerk, json={
        **EXAMPLE, "received_at": earlier, "backdate_reason": "Hồ sơ giấy nhận khi mất điện"})
    assert old.status_code == 201, old.text
    old_code = old.json()["code"]
    refused = client.post("/api/v1/dossiers/refusals", headers=clerk, json={
        "procedure": "1.004873", "applicant": EXAMPLE["applicant"], "reason": "Sai thẩm quyền"})
    assert refused.status_code == 201, refused.text
    new_code = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
    newest_first = [new_code, refused.json()["code"], old_code]
    for q in ("+84 912 345 678", "0912.345.678", "0912345678", "0311 9500 4321",
              "nguyen thi mai", "NGUYỄN THỊ MAI"):
        assert [d["code"] for d in dossiers(client, clerk, q)["items"]] == newest_first, q
    assert [d["code"] for d in dossiers(client, clerk, old_code.lower())["items"]] == [old_code]
    first = dossiers(client, clerk, "0912345678", limit=2)
    rest = dossiers(client, clerk, "0912345678", limit=2, cursor=first["next_cursor"])
    assert [d["code"] for d in first["items"] + rest["items"]] == newest_first
    assert rest["next_cursor"] is None
    item = first["items"][0]
    assert item["procedure"]["name"] and item["status"] and item["appointment"]


def test_counter_search_stays_within_the_clerks_unit(client, db_engine):
    clerk = login(client, "clerk")
    code = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
    with session_scope(db_engine) as session:
        session.add(User(username="clerk_hb", full_name="clerk_hb", role="clerk",
                         agency_code="000.01.32.H26", password_hash=hash_password(PASSWORD)))
    other = login(client, "clerk_hb")
    for q in ("0912345678", "031195004321", "nguyen thi mai", code):
        assert dossiers(client, other, q)["items"] == [], q
        assert [d["code"] for d in dossiers(client, clerk, q)["items"]] == [code]


def test_a_refusal_stores_the_cccd_as_a_receipt_does_so_the_counter_finds_it(client):
    """A CCCD typed with spaces at a refusal (Mẫu 03) is kept in its 12-digit spelling, as at
    a receipt; an impossible one is refused in Vietnamese like at a receipt."""
    clerk = login(client, "clerk")
    spaced = {**EXAMPLE["applicant"], "id_number": "0311 9500 4321"}
    refused = client.post("/api/v1/dossiers/refusals", headers=clerk, json={
        "procedure": "1.004873", "applicant": spaced, "reason": "Sai thẩm quyền"})
    assert refused.status_code == 201, refused.text
    found = dossiers(client, clerk, "031195004321")["items"]
    assert refused.json()["code"] in [d["code"] for d in found]
    bad = client.post("/api/v1/dossiers/refusals", headers=clerk, json={
        "procedure": "1.004873", "applicant": {**spaced, "id_number": "12"},
        "reason": "Sai thẩm quyền"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "applicant.id_number"
