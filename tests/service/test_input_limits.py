"""Holes found by an outside probe (issue 12, low): body size, unknown fields, implausible
data, control characters, problem documents everywhere, /metrics and the API docs."""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.problems import RejectNul, max_body_bytes

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
CATALOGUE = Path(__file__).parents[2] / "workflows" / "catalogue"
PROBLEM = "application/problem+json"


def applicant(**fields):
    return {**EXAMPLE, "applicant": {**EXAMPLE["applicant"], **fields}}


def fields_of(response) -> set[str]:
    return {e["field"] for e in response.json().get("errors", [])}


# ----- body size ---------------------------------------------------------------------------

def _run_middleware(max_body: int, headers, chunks):
    """Drive ``RejectNul`` by hand: what the app saw, what was sent, how many chunks read."""
    read = []
    seen = []
    sent = []

    async def receive():
        chunk = chunks[len(read)]
        read.append(chunk)
        return {"type": "http.request", "body": chunk, "more_body": len(read) < len(chunks)}

    async def send(message):
        sent.append(message)

    async def app(scope, receive_, send_):
        seen.append(scope["path"])

    scope = {"type": "http", "method": "POST", "path": "/api/v1/dossiers", "raw_path": b"/",
             "query_string": b"", "headers": headers}
    # In a thread of its own: a browser test on the same worker may leave an event loop
    # running in this one, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, RejectNul(app, max_body=max_body)(scope, receive, send)
                    ).result()
    return seen, sent, read


def test_declared_oversized_body_is_refused_before_reading_a_byte():
    seen, sent, read = _run_middleware(1000, [(b"content-length", b"10485760")], [b"x"])
    assert seen == [] and read == []
    assert sent[0]["status"] == 413
    assert (b"content-type", PROBLEM.encode()) in sent[0]["headers"]


def test_streamed_body_is_cut_off_as_soon_as_it_passes_the_limit():
    chunks = [b"a" * 400] * 10  # 4000 bytes, no Content-Length
    seen, sent, read = _run_middleware(1000, [], chunks)
    assert seen == [] and len(read) == 3  # stopped at 1200 bytes, not after all ten chunks
    assert sent[0]["status"] == 413


def test_body_within_the_limit_reaches_the_app():
    seen, sent, _ = _run_middleware(1000, [(b"content-length", b"800")], [b"a" * 800])
    assert seen == ["/api/v1/dossiers"] and sent == []


def test_body_limit_setting():
    assert max_body_bytes({}) == 1024 * 1024
    assert max_body_bytes({"MOTCUA_MAX_BODY_BYTES": "2048"}) == 2048
    with pytest.raises(ValueError):
        max_body_bytes({"MOTCUA_MAX_BODY_BYTES": "0"})


def test_ten_megabyte_body_is_a_413_problem(client):
    body = json.dumps({**EXAMPLE, "padding": "x" * (10 * 1024 * 1024)})
    response = client.post("/api/v1/dossiers", content=body, headers={
        **login(client, "clerk"), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/too-large")


def test_chunked_oversized_body_is_a_413_problem(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536  # 2.5 MiB, sent without a Content-Length

    response = client.post("/api/v1/dossiers", content=chunks(), headers={
        **login(client, "clerk"), "Content-Type": "application/json"})
    assert response.status_code == 413


def test_catalogue_upload_keeps_its_own_256_kib_limit(client):
    admin = login(client, "admin")
    path = next(CATALOGUE.glob("2.000815-*.yaml"))
    ok = client.post("/api/v1/admin/catalogue", headers=admin,
                     files={"file": (path.name, path.read_bytes(), "application/yaml")})
    assert ok.status_code == 200, ok.text
    big = client.post("/api/v1/admin/catalogue", headers=admin,
                      files={"file": ("big.yaml", b"#" * (300 * 1024), "application/yaml")})
    assert big.status_code == 413 and "256 KB" in big.json()["detail"]


# ----- unknown fields ----------------------------------------------------------------------

def test_unknown_fields_are_refused_naming_the_field(client):
    clerk = login(client, "clerk")
    response = client.post("/api/v1/dossiers", headers=clerk,
                           json={**applicant(nickname="Mai"), "priority": "vip"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    assert {"applicant.nickname", "priority"} <= fields_of(response)
    code = client.post("/api/v1/dossiers", headers=clerk, json=EXAMPLE).json()["code"]
    typo = client.post(f"/api/v1/dossiers/{code}/actions/transfer", headers=clerk,
                       json={"expected_versoin": 1})
    assert typo.status_code == 422 and fields_of(typo) == {"expected_versoin"}


def test_admin_and_calendar_write_bodies_refuse_unknown_fields(client):
    admin = login(client, "admin")
    user = client.post("/api/v1/admin/users", headers=admin, json={
        "username": "clerk9", "full_name": "Võ Thị Hạnh", "role": "clerk",
        "agency": "000.01.32.H26", "password": "mat-khau-moi-123", "is_superuser": True})
    assert user.status_code == 422 and fields_of(user) == {"is_superuser"}
    day = client.put("/api/v1/calendar/days/2026-09-03", headers=admin,
                     json={"kind": "holiday", "name": "Nghỉ", "moved": True})
    assert day.status_code == 422 and fields_of(day) == {"moved"}


# ----- implausible data --------------------------------------------------------------------

@pytest.mark.parametrize("birth", ["9999-12-31", "1899-12-31"])
def test_implausible_birth_date_is_refused(client, birth):
    response = client.post("/api/v1/dossiers", headers=login(client, "clerk"),
                           json=applicant(birth_date=birth))
    assert response.status_code == 422 and fields_of(response) == {"applicant.birth_date"}


def test_plausible_birth_date_is_accepted(client):
    response = client.post("/api/v1/dossiers", headers=login(client, "clerk"),
                           json=applicant(birth_date="1995-04-30"))
    assert response.status_code == 201, response.text


def test_id_number_with_neither_province_nor_country_code_is_refused(client):
    clerk = login(client, "clerk")
    response = client.post("/api/v1/dossiers", headers=clerk,
                           json=applicant(id_number="999195004321"))
    assert response.status_code == 422 and fields_of(response) == {"applicant.id_number"}
    abroad = client.post("/api/v1/dossiers", headers=clerk,
                         json=applicant(id_number="840195004321"))
    assert abroad.status_code == 201
    assert any("mã quốc gia" in w for w in abroad.json()["warnings"])


# ----- control and bidirectional characters ------------------------------------------------

@pytest.mark.parametrize(("where", "value"), [
    ("name", "Nguyễn \x1b[2JThị Mai"),
    ("name", "Nguyễn\nThị Mai"),
    ("address", "Thôn \u202eĐông"),
    ("name", "Nguyễn\u200fMai"),
])
def test_control_or_bidi_characters_in_a_name_are_refused(client, where, value):
    response = client.post("/api/v1/dossiers", headers=login(client, "clerk"),
                           json=applicant(**{where: value}))
    assert response.status_code == 422
    assert fields_of(response) == {f"applicant.{where}"}
    assert "U+" in response.json()["errors"][0]["message"]


def test_reason_may_span_lines_but_not_hold_escapes(client):
    clerk = login(client, "clerk")
    body = {"procedure": "1.004873", "applicant": {"name": "Trần Văn Bình"},
            "reason": "Không thuộc thẩm quyền:\n\t- hộ khẩu ở xã khác"}
    assert client.post("/api/v1/dossiers/refusals", headers=clerk, json=body).status_code == 201
    bad = client.post("/api/v1/dossiers/refusals", headers=clerk,
                      json={**body, "reason": "Không\x1b thuộc"})
    assert bad.status_code == 422 and fields_of(bad) == {"reason"}


def test_payload_and_calendar_text_refuse_control_characters(client):
    clerk = login(client, "clerk")
    code = client.post("/api/v1/dossiers", headers=clerk, json=EXAMPLE).json()["code"]
    act = client.post(f"/api/v1/dossiers/{code}/actions/transfer", headers=clerk,
                      json={"payload": {"note": "a\x07b"}})
    assert act.status_code == 422 and fields_of(act) == {"payload"}
    day = client.put("/api/v1/calendar/days/2026-09-03", headers=login(client, "admin"),
                     json={"kind": "holiday", "name": "Nghỉ\u202e lễ"})
    assert day.status_code == 422 and fields_of(day) == {"name"}


# ----- problem documents everywhere --------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/khong-co", "/khong-co", "/api/v1/dossiers/a/b/c/d"])
def test_unknown_routes_are_404_problems(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/http-404") and response.json()["detail"]


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM)
    assert "GET" in response.headers["allow"]


def test_malformed_json_is_a_400_problem(client):
    response = client.post("/api/v1/dossiers", content=b'{"procedure": ',
                           headers={**login(client, "clerk"), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.json()["type"].endswith("/malformed-json")


# ----- /metrics and the API documentation --------------------------------------------------

def test_metrics_are_refused_to_an_address_not_allowed(client):
    response = client.get("/metrics")  # the test client's address is "testclient"
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM)


def test_metrics_answer_the_local_machine_by_default(client, monkeypatch):
    monkeypatch.delenv("MOTCUA_METRICS_ALLOW", raising=False)
    local = TestClient(client.app, client=("127.0.0.1", 40000))
    assert local.get("/metrics").status_code == 200
    monkeypatch.setenv("MOTCUA_METRICS_ALLOW", "")
    assert local.get("/metrics").status_code == 403
    monkeypatch.setenv("MOTCUA_METRICS_ALLOW", "10.0.0.0/8")
    assert TestClient(client.app, client=("10.1.2.3", 40000)).get("/metrics").status_code == 200


def test_metrics_answer_the_bearer_token_from_anywhere(client, monkeypatch):
    monkeypatch.setenv("MOTCUA_METRICS_TOKEN", "bi-mat-giam-sat")
    assert client.get("/metrics", headers={"Authorization": "Bearer bi-mat-giam-sat"}
                      ).status_code == 200
    wrong = client.get("/metrics", headers={"Authorization": "Bearer sai"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"


def test_api_docs_are_served_by_default(client):
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 200, path


def test_api_docs_can_be_hidden(database_url, db_engine, monkeypatch):
    monkeypatch.setenv("MOTCUA_API_DOCS", "0")
    app = create_app(database_url)
    try:
        hidden = TestClient(app)
        for path in ("/docs", "/redoc", "/openapi.json"):
            response = hidden.get(path)
            assert response.status_code == 404, path
            assert response.headers["content-type"].startswith(PROBLEM)
    finally:
        app.state.engine.dispose()
