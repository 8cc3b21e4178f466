"""Errors people can read (issue 15): an illegal action said in Vietnamese with what *this*
user may do, validation errors in Vietnamese naming the field by its Vietnamese name, and
the codes still there for programs."""

from __future__ import annotations

import json
import re
import typing
from pathlib import Path

import pytest
from pydantic_core.core_schema import ErrorType

from service.validation import (
    ERROR_MESSAGES,
    FIELD_NAMES,
    error_message,
    field_name,
)

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
PROBLEM = "application/problem+json"
#: Words of pydantic's English messages that must never reach a person.
ENGLISH = re.compile(r"Field required|Input should|String should|should be|valid|Value error"
                     r"|JSON decode|Extra inputs|List should|greater than|less than", re.I)


def act(client, headers, code, action, body=None):
    return client.post(f"/api/v1/dossiers/{code}/actions/{action}", json=body or {},
                       headers=headers)


# ----- an illegal action ------------------------------------------------------------------

def test_an_illegal_action_tells_the_clerk_what_the_clerk_may_do_in_vietnamese(client):
    """The clerk once read "…(in_processing); được phép: accept_transfer, apologise…"."""
    clerk = login(client, "clerk")
    code = client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).json()["code"]
    assert act(client, clerk, code, "transfer").status_code == 200
    response = act(client, clerk, code, "return_result")
    assert response.status_code == 409
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["type"].endswith("/illegal-action")
    assert (problem["state"], problem["action"]) == ("in_processing", "return_result")
    assert problem["allowed_actions"] == ["stop", "withdraw"]  # the clerk's, as codes
    assert problem["detail"] == ("Không thể “Trả kết quả” khi hồ sơ đang ở trạng thái "
                                 "“Đang xử lý”. Bạn có thể: “Dừng giải quyết”, “Rút hồ sơ”.")
    assert not re.search(r"[a-z]+_[a-z]+", problem["detail"] + problem["title"])


# ----- validation errors ------------------------------------------------------------------

def test_every_pydantic_error_type_has_a_vietnamese_sentence():
    assert set(typing.get_args(ErrorType)) == set(ERROR_MESSAGES)
    for kind in ERROR_MESSAGES:
        message = error_message({"type": kind, "loc": ("body", "applicant", "phone"),
                                 "msg": "Input should be something", "ctx": {}})
        assert message.startswith("Số điện thoại: ") and message.endswith("."), kind
        assert not ENGLISH.search(message) and "{" not in message, (kind, message)


def test_an_unknown_error_type_still_gets_a_vietnamese_sentence():
    message = error_message({"type": "brand_new_type", "loc": ("query", "limit"),
                             "msg": "Something went wrong"})
    assert message == "Số dòng tối đa: có giá trị không hợp lệ."
    ours = error_message({"type": "unsafe_characters", "loc": ("body", "reason"),
                          "msg": "chứa ký tự điều khiển (U+001B)"})
    assert ours == "Lý do: chứa ký tự điều khiển (U+001B)."


def test_context_values_are_filled_in():
    def says(kind, ctx, loc=("body", "sets_count")):
        return error_message({"type": kind, "loc": loc, "msg": "x", "ctx": ctx})

    assert says("less_than_equal", {"le": 100}) == "Số bộ hồ sơ: không được lớn hơn 100."
    assert says("greater_than", {"gt": 0.5}) == "Số bộ hồ sơ: phải lớn hơn 0,5."
    assert says("string_too_short", {"min_length": 1}, ("body", "reason")) == \
        "Lý do: không được để trống."
    assert says("literal_error", {"expected": "'nam' or 'nữ'"}, ("body", "applicant", "sex")) \
        == "Giới tính: phải là một trong các giá trị: 'nam' hoặc 'nữ'."
    assert says("string_pattern_mismatch", {"pattern": "^x$"}, ("body", "procedure")) == \
        "Mã thủ tục: không đúng định dạng (ví dụ 1.004873)."


def test_a_refused_body_is_explained_field_by_field_in_vietnamese(client):
    clerk = login(client, "clerk")
    body = {"procedure": "abc", "applicant": {"sex": "x", "birth_date": "14/03/1990"},
            "components": [{"name": "Tờ khai", "copies": -1}], "sets_count": "hai",
            "channel": "fax", "expected_versio": 1}
    response = client.post("/api/v1/dossiers", json=body, headers=clerk)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM)
    problem = response.json()
    assert problem["detail"] == f"Có {len(problem['errors'])} trường dữ liệu chưa hợp lệ."
    by_field = {e["field"]: e for e in problem["errors"]}
    assert by_field["applicant.name"]["message"] == "Họ và tên người nộp: bắt buộc phải có."
    assert by_field["applicant.name"]["type"] == "missing"
    assert by_field["applicant.name"]["loc"] == ["body", "applicant", "name"]
    assert by_field["applicant.name"]["label"] == "Họ và tên người nộp"
    assert by_field["procedure"]["message"].startswith("Mã thủ tục: không đúng định dạng")
    assert by_field["applicant.birth_date"]["message"].startswith("Ngày sinh: phải là một ngày")
    assert by_field["components.0.copies"]["message"] == "Số bản sao: phải từ 0 trở lên."
    assert by_field["sets_count"]["message"] == "Số bộ hồ sơ: phải là số nguyên."
    assert by_field["channel"]["message"].startswith("Kênh nộp hồ sơ: phải là một trong")
    assert by_field["expected_versio"]["message"] == \
        "Trường “expected_versio”: không có trong yêu cầu này (kiểm tra lại tên trường)."
    for error in problem["errors"]:
        assert not ENGLISH.search(error["message"]), error


def test_query_errors_and_a_missing_body_are_vietnamese_too(client):
    clerk = login(client, "clerk")
    queue = client.get("/api/v1/dossiers?limit=0&due_before=mai", headers=clerk).json()
    messages = {e["field"]: e["message"] for e in queue["errors"]}
    assert messages["query.limit"] == "Số dòng tối đa: phải từ 1 trở lên."
    assert messages["query.due_before"].startswith("Hạn giải quyết đến ngày: phải là một ngày")
    deadline = client.get("/api/v1/deadline?received=2025-03-03T09:00&limit=-1").json()
    assert deadline["errors"][0]["message"] == "Thời hạn giải quyết: phải từ 0 trở lên."
    empty = client.post("/api/v1/dossiers", headers=clerk)
    assert empty.json()["errors"][0]["message"] == "Nội dung yêu cầu: bắt buộc phải có."


def test_a_body_that_is_not_json_is_said_in_vietnamese(client):
    response = client.post("/api/v1/dossiers", content=b'{"procedure": ',
                           headers={**login(client, "clerk"),
                                    "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Nội dung gửi lên không phải JSON hợp lệ")


def request_fields(spec: dict) -> set[tuple[str, str]]:
    """(route, field key) of every parameter and every request-body field, nested ones as
    ``applicant.name``, found by walking /openapi.json."""
    components = spec["components"]["schemas"]
    found: set[tuple[str, str]] = set()

    def walk(schema: dict, route: str, prefix: str) -> None:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        for alternative in schema.get("anyOf", []) + schema.get("allOf", []):
            walk(alternative, route, prefix)
        if "items" in schema:
            walk(schema["items"], route, prefix)
        for name, sub in schema.get("properties", {}).items():
            key = f"{prefix}.{name}" if prefix else name
            found.add((route, key))
            walk(sub, route, key)

    for route, operations in spec["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                found.add((route, parameter["name"]))
            for content in operation.get("requestBody", {}).get("content", {}).values():
                walk(content["schema"], route, "")
    return found


def page_fields() -> set[tuple[str, str]]:
    """(route, field) of the pages' forms and queries (not in /openapi.json)."""
    from fastapi.routing import APIRoute

    from service.web import pages

    found: set[tuple[str, str]] = set()

    def walk(path: str, dependant) -> None:
        for param in (dependant.query_params + dependant.path_params + dependant.body_params
                      + dependant.header_params):
            found.add((path, param.alias))
        for sub in dependant.dependencies:
            walk(path, sub)

    for route in pages.router.routes:
        if isinstance(route, APIRoute):
            walk(route.path, route.dependant)
    return found


def test_every_request_field_has_a_vietnamese_name(client):
    fields = request_fields(client.get("/openapi.json").json()) | page_fields()
    assert len(fields) > 60 and ("/api/v1/dossiers", "applicant.name") in fields
    unnamed = sorted(f for f in fields if field_name(("body", *f[1].split(".")), f[0]) is None)
    assert unnamed == [], "add them to service.validation.FIELD_NAMES"
    assert all(name.strip() and not ENGLISH.search(name) for name in FIELD_NAMES.values())


@pytest.mark.parametrize("path", ["/api/v1/dossiers", "/api/v1/calendar/office-hours"])
def test_the_validation_answer_is_documented_as_a_problem(client, path):
    spec = client.get("/openapi.json").json()
    operations = spec["paths"][path]
    answer = next(op["responses"]["422"] for op in operations.values()
                  if "422" in op["responses"])
    schema = answer["content"][PROBLEM]["schema"]
    assert schema == {"$ref": "#/components/schemas/ValidationProblem"}
    problem = spec["components"]["schemas"]["ValidationProblem"]
    assert {"type", "title", "status"} <= set(problem["required"])
    assert "HTTPValidationError" not in spec["components"]["schemas"]


# ----- error pages for browsers, problem documents for programs ----------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def signed_in_page_client(client, username: str):
    """The test client signed in through the login form (the session cookie)."""
    from .web.test_login_and_lookup_pages import sign_in

    assert sign_in(client, username).status_code == 303
    return client


def test_a_browser_gets_a_vietnamese_page_for_an_unknown_address(client):
    response = client.get("/khong-co-trang-nay", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "<h1" in html and "Không tìm thấy" in html
    assert "Không có địa chỉ /khong-co-trang-nay." in html
    assert 'href="/tinh-han"' in html and "Về trang tra cứu hồ sơ" in html  # public navigation
    assert response.headers["x-request-id"] in html
    assert '{"detail"' not in html


def test_a_clerk_opening_the_dashboard_gets_a_403_page_with_the_clerks_navigation(client):
    signed_in_page_client(client, "clerk")
    response = client.get("/kiem-soat", headers=BROWSER)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "Không có quyền thực hiện" in html
    assert "Trang này không dành cho vai trò của bạn." in html
    assert 'href="/quay"' in html and "Cán bộ tiếp nhận" in html  # the clerk's menu and name
    assert "Về trang làm việc" in html


def test_programs_still_get_problem_documents(client):
    signed_in_page_client(client, "clerk")
    for path, status in [("/kiem-soat", 403), ("/khong-co", 404)]:
        for accept in ("application/json", "*/*", "application/problem+json, text/html;q=0.5"):
            response = client.get(path, headers={"Accept": accept})
            assert response.status_code == status
            assert response.headers["content-type"].startswith(PROBLEM), (path, accept)
    api = client.get("/api/v1/khong-co", headers=BROWSER)  # /api/ is for programs
    assert api.status_code == 404 and api.headers["content-type"].startswith(PROBLEM)


def test_a_wrong_method_and_a_bad_query_are_pages_for_a_browser(client):
    wrong = client.get("/dang-xuat", headers=BROWSER)
    assert wrong.status_code == 405 and "POST" in wrong.headers["allow"]
    assert "Phương thức không được hỗ trợ" in wrong.text
    bad = client.get("/tra-cuu?ma=" + "x" * 300 + "&k=1", headers=BROWSER)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    assert "Dữ liệu không hợp lệ" in bad.text
    assert "<li>Mã hồ sơ: không được dài quá 64 ký tự.</li>" in bad.text


def test_a_server_error_is_a_page_for_a_browser_and_a_problem_for_a_program(client):
    from fastapi.testclient import TestClient

    @client.app.get("/hong-thu")
    def broken():
        raise RuntimeError("thử lỗi")

    quiet = TestClient(client.app, raise_server_exceptions=False)
    page = quiet.get("/hong-thu", headers=BROWSER)
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "Lỗi hệ thống" in page.text and "thử lỗi" not in page.text
    problem = quiet.get("/hong-thu")
    assert problem.status_code == 500 and problem.headers["content-type"].startswith(PROBLEM)


# ----- the API documentation offline --------------------------------------------------------

ADDRESS = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|(?:url|Url)\s*:\s*["']([^"']+)["']""")


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_documentation_needs_no_other_host(client, path):
    """Swagger UI and ReDoc came from a CDN: offline, /docs was a blank page."""
    html = client.get(path).text
    assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), html
    addresses = [a or b for a, b in ADDRESS.findall(html)]
    assets = [a for a in addresses if a.endswith((".js", ".css", ".png"))]
    assert len(assets) >= 2, addresses
    for address in assets:
        asset = client.get(address)
        assert asset.status_code == 200 and len(asset.content) > 1000, address
    assert client.get("/openapi.json").status_code == 200


def test_hidden_documentation_hides_its_assets_too(database_url, db_engine, monkeypatch):
    from fastapi.testclient import TestClient

    from service.app import create_app

    monkeypatch.setenv("MOTCUA_API_DOCS", "0")
    app = create_app(database_url)
    try:
        hidden = TestClient(app)
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect",
                     "/static/api-docs/swagger-ui-bundle.js"):
            assert hidden.get(path).status_code == 404, path
        assert hidden.get("/static/app.css").status_code == 200
    finally:
        app.state.engine.dispose()


def test_redoc_asks_no_other_host_for_its_logo(client):
    script = client.get("/static/api-docs/redoc.standalone.js")
    assert script.status_code == 200 and b"Redoc" in script.content
    assert b"cdn.redoc.ly" not in script.content


def test_a_role_refusal_names_the_roles_in_vietnamese(client):
    """A clerk calling an auditor's route is told who may, by the roles' names, not codes."""
    refused = client.get("/api/v1/reports/charts", headers=login(client, "clerk"))
    assert refused.status_code == 403, refused.text
    detail = refused.json()["detail"]
    assert "Kiểm soát viên" in detail and "auditor" not in detail, detail
