"""Property-based API testing with schemathesis against /openapi.json, authenticated (a clerk;
an admin for the calendar): no server error and no response outside the documented schema.
Every JSON route declares its response model (``service/api/schemas/``), so "the documented
schema" is the real shape, field by field; the second test checks real answers of every
route against it, on a dossier that went from the counter to the citizen.

Operations are driven one by one with hypothesis (bounded examples each) because
schemathesis' pytest fixture integration does not support this pytest version.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import login

EXAMPLES_PER_OPERATION = 12
EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
PERIOD = {"from": "2024-01-01", "to": "2028-06-30"}


def test_api_answers_without_server_errors_or_schema_violations(client, monkeypatch):
    # the portal's inbound route is open (else 503 "chưa cấu hình"); unsigned bodies get 401
    monkeypatch.setenv("MOTCUA_PORTAL_SECRET", "khoa-cong-thu-nghiem")
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    tokens = {role: login(client, role) for role in ("clerk", "admin")}
    # One dossier, so that the queue's items are checked too, not only an empty page.
    assert client.post("/api/v1/dossiers", json=EXAMPLE,
                       headers=tokens["clerk"]).status_code == 201
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        role = "admin" if operation.path.startswith("/api/v1/calendar") else "clerk"
        headers = {} if operation.path == "/api/v1/auth/token" else tokens[role]
        if operation.path == "/api/v1/auth/logout":  # revokes its token: not the shared one
            headers = login(client, role)
        exercise(operation, headers)


def exercise(operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=headers,
                               checks=[not_a_server_error, response_schema_conformance])

    check()


def test_every_route_answers_a_real_dossier_in_its_declared_shape(client, tmp_path,
                                                                   monkeypatch):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    clerk, officer, leader, auditor, admin = (
        login(client, u) for u in ("clerk", "officer", "leader", "auditor", "admin"))
    checked: set[tuple[str, str]] = set()

    def call(method: str, template: str, headers=None, *, path: str | None = None, **kw):
        response = client.request(method, path or template, headers=headers, **kw)
        assert response.status_code < 300, (method, path or template, response.text)
        schema[template][method].validate_response(response)  # raises when it does not fit
        checked.add((method, template))
        return response.json()

    received = call("POST", "/api/v1/dossiers", clerk, json=EXAMPLE)
    code = received["code"]
    one = f"/api/v1/dossiers/{code}"
    from engine.files.settings import blob_store, file_settings

    files = file_settings({"MOTCUA_FILES_DIR": str(tmp_path)})
    client.app.state.files = (files, blob_store(files))  # attachments: a folder of the test's
    call("POST", "/api/v1/dossiers/{code}/attachments", clerk, path=f"{one}/attachments",
         files={"file": ("scan.pdf", b"%PDF-1.7\n" + b"x" * 100)}, data={"kind": "scan"})
    call("GET", "/api/v1/dossiers/{code}/attachments", clerk, path=f"{one}/attachments")
    call("GET", "/api/v1/public/dossiers/{code}/attachments",
         path=f"/api/v1/public/dossiers/{code}/attachments", params={"secret": received["secret"]})
    for headers, action, body in [
        (clerk, "transfer", {}), (leader, "assign", {"payload": {"assignee": "officer"}}),
        (officer, "forward", {}), (leader, "finish", {}),
        (clerk, "return_result", {"payload": {"collected_by": "Nguyễn Thị Mai"}}),
    ]:
        call("POST", "/api/v1/dossiers/{code}/actions/{action}", headers,
             path=f"{one}/actions/{action}", json=body)
    call("GET", "/api/v1/dossiers/{code}", clerk, path=one)
    call("GET", "/api/v1/dossiers/{code}/assignees", leader, path=f"{one}/assignees")
    call("GET", "/api/v1/dossiers/{code}/consultable-agencies", officer,
         path=f"{one}/consultable-agencies")
    call("GET", "/api/v1/dossiers/{code}/appointment-moves", clerk,
         path=f"{one}/appointment-moves")
    call("GET", "/api/v1/counter/today", clerk)
    call("GET", "/api/v1/dossiers", clerk, params={"include_closed": True})
    call("POST", "/api/v1/dossiers/guidance", clerk, json={
        "procedure": "1.004873", "applicant_name": "Trần Văn Bình",
        "missing": [{"name": "Tờ khai", "originals": 1}], "reason": "Thiếu tờ khai"})
    call("POST", "/api/v1/dossiers/refusals", clerk, json={
        "procedure": "1.004873", "applicant": {"name": "Trần Văn Bình"},
        "reason": "Không thuộc thẩm quyền giải quyết của xã"})
    call("GET", "/api/v1/public/dossiers/{code}", path=f"/api/v1/public/dossiers/{code}",
         params={"secret": received["secret"]})
    call("GET", "/api/v1/procedures", clerk, params={"q": "khai sinh"})
    call("GET", "/api/v1/procedures/{code}", clerk, path="/api/v1/procedures/1.004873")
    call("GET", "/api/v1/auth/me", clerk)
    call("GET", "/api/v1/deadline", params={"received": "2026-04-28T10:00", "limit": 5})
    for template in ("/api/v1/reports", "/api/v1/reports/charts", "/api/v1/reports/anomalies",
                     "/api/v1/reports/processing-time", "/api/v1/reports/responsibility"):
        call("GET", template, auditor, params=PERIOD)
    call("GET", "/api/v1/reports", auditor, params={**PERIOD, "by": "agency"})
    call("GET", "/api/v1/reports/drill", auditor, params={**PERIOD, "figure": "received"})
    call("GET", "/api/v1/reports/scoring", auditor, params={**PERIOD, "dossiers": True})
    call("GET", "/api/v1/read-journal", auditor)
    due = received["due"]
    agency = {"agency": "000.00.31.H26"}
    call("PUT", "/api/v1/calendar/days/{day}", admin, path=f"/api/v1/calendar/days/{due}",
         params=agency, json={"kind": "local_off", "name": "Nghỉ do bão"})
    call("GET", "/api/v1/calendar/{year}", admin, path=f"/api/v1/calendar/{due[:4]}",
         params=agency)
    call("DELETE", "/api/v1/calendar/days/{day}", admin, path=f"/api/v1/calendar/days/{due}",
         params=agency)
    call("PUT", "/api/v1/calendar/office-hours", admin,
         json={"sessions": "07:30-11:30,13:30-17:00"})
    call("GET", "/api/v1/calendar/journal/entries", admin)
    call("GET", "/api/v1/admin/users", admin)
    call("POST", "/api/v1/admin/users", admin, json={
        "username": "kiemsoat2", "full_name": "Kiểm soát 2", "role": "auditor",
        "agency": "000.00.31.H26", "password": "mat-khau-dai-du", "granted_agencies": []})
    call("POST", "/api/v1/admin/users/{username}/active", admin,
         path="/api/v1/admin/users/kiemsoat2/active", params={"active": False})
    call("GET", "/api/v1/admin/users/{username}/sessions", admin,
         path="/api/v1/admin/users/clerk/sessions")
    catalogue = Path(__file__).parents[2] / "workflows" / "catalogue"
    upload = next(catalogue.glob("2.000815-*.yaml")).read_bytes()
    call("POST", "/api/v1/admin/catalogue", admin, files={"file": ("thu-tuc.yaml", upload)})
    call("POST", "/api/v1/admin/users/{username}/revoke-sessions", admin,
         path="/api/v1/admin/users/officer/revoke-sessions")
    call("POST", "/api/v1/auth/password", leader, json={
        "old_password": "mat-khau-thu-nghiem", "new_password": "mat-khau-moi-dai-hon"})
    call("POST", "/api/v1/auth/token",
         data={"username": "clerk", "password": "mat-khau-thu-nghiem"})
    # The bell (the finish above told the clerk in the app) and the failed deliveries.
    from .test_notifications import dead_letters, deliver_in_app

    deliver_in_app(client)
    mine = call("GET", "/api/v1/notifications", clerk)["items"][0]["id"]
    call("GET", "/api/v1/notifications/unread-count", clerk)
    call("POST", "/api/v1/notifications/{message_id}/read", clerk,
         path=f"/api/v1/notifications/{mine}/read")
    call("POST", "/api/v1/notifications/read-all", clerk)
    failed = dead_letters(client)[0]
    call("GET", "/api/v1/admin/deliveries", admin)
    call("POST", "/api/v1/admin/deliveries/{message_id}/retry", admin,
         path=f"/api/v1/admin/deliveries/{failed}/retry")

    # Issue 16: the citizen's side — rating the returned dossier, submitting online, a
    # supplement before receipt uploaded with the secret; the channel and satisfaction reports.
    call("GET", "/api/v1/public/rating-reasons")
    call("POST", "/api/v1/public/dossiers/{code}/rating",
         path=f"/api/v1/public/dossiers/{code}/rating",
         json={"secret": received["secret"], "score": 4, "reasons": ["time"]})
    monkeypatch.setenv("MOTCUA_POW_BITS", "4")
    from service import pow as hashcash

    call("GET", "/api/v1/public/procedures", params={"q": "khai sinh"})
    call("GET", "/api/v1/public/procedures/{code}", path="/api/v1/public/procedures/1.004873")
    issued = call("GET", "/api/v1/public/submissions/challenge")
    pdf = b"%PDF-1.4\n" + b"x" * 500
    online = call("POST", "/api/v1/public/submissions", headers={
        "X-PoW-Challenge": issued["challenge"],
        "X-PoW-Nonce": hashcash.solve(issued["challenge"], issued["bits"])},
        data={"submission": json.dumps({
            "procedure": "1.004873", "return_method": "counter",
            "competent_agency": "000.00.31.H26",
            "applicant": {"name": "Trần Văn Bình", "phone": "0912345678",
                          "id_number": "031095004321"}})},
        files={"file-1": ("to-khai.pdf", pdf, "application/pdf")})
    call("POST", "/api/v1/dossiers/{code}/actions/{action}", clerk,
         path=f"/api/v1/dossiers/{online['code']}/actions/request_supplement",
         json={"reason": "Tờ khai bị mờ", "payload": {"missing": [{"name": "Tờ khai"}]}})
    call("POST", "/api/v1/public/dossiers/{code}/supplements",
         path=f"/api/v1/public/dossiers/{online['code']}/supplements",
         headers={"X-Dossier-Secret": online["secret"]},
         files={"file-1": ("to-khai-ro.pdf", pdf + b"2", "application/pdf")})
    for template in ("/api/v1/reports/channel-targets", "/api/v1/reports/satisfaction",
                     "/api/v1/reports/sync"):  # issue 17: the sync rate
        call("GET", template, auditor, params=PERIOD)
    # Issue 17: a dossier submitted on the national portal, signed with the portal's secret.
    import base64
    import time

    from service.delivery.webhook import signature

    monkeypatch.setenv("MOTCUA_PORTAL_SECRET", "khoa-cong-thu-nghiem")
    national = json.dumps({
        "MaHoSo": "G22-250601-0001", "MaTTHC": "1.004873", "DonViXuLy": "000.00.31.H26",
        "ChuHoSo": "Trần Văn Bình", "SoDinhDanh": "031095004321", "SoDienThoai": "0912345678",
        "TaiLieuNop": [{"MaThanhPhanHoSo": "1", "TenTepDinhKem": "to-khai.pdf",
                        "NoiDungBase64": base64.b64encode(pdf).decode()}]}).encode()
    stamp = str(int(time.time()))
    call("POST", "/api/v1/sync/inbound", content=national, headers={
        "Content-Type": "application/json", "X-MotCua-Timestamp": stamp,
        "X-MotCua-Signature": signature("khoa-cong-thu-nghiem", stamp, national)})

    json_routes = {(op.method.upper(), op.path) for op in
                   (result.ok() for result in schema.get_all_operations())
                   if not op.path.endswith((".pdf", "/export.{fmt}", "/logout",
                                            "/attachments/{attachment_id}"))}
    assert json_routes - checked == set()


def test_an_answer_outside_its_declared_shape_is_caught(client):
    """The check above bites: a body missing a declared field does not pass."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    request = httpx.Request("GET", "http://testserver/api/v1/auth/me")
    wrong = httpx.Response(200, json={"username": "clerk"}, request=request)
    wrong.elapsed = timedelta(0)
    with pytest.raises(JsonSchemaError, match='"full_name" is a required property'):
        schema["/api/v1/auth/me"]["GET"].validate_response(wrong)
