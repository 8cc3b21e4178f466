"""Signing in with a session cookie and CSRF token; the citizen's lookup page."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[3] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def sign_in(client, username: str):
    token = csrf_of(client.get("/dang-nhap").text)
    return client.post("/dang-nhap", data={"username": username, "password": PASSWORD,
                                            "csrf": token}, follow_redirects=False)


def test_each_role_lands_on_its_home_page(client):
    homes = {"clerk": "/quay", "officer": "/hop-thu", "leader": "/hop-thu",
             "auditor": "/kiem-soat", "admin": "/quan-tri"}
    for username, home in homes.items():
        client.cookies.clear()
        response = sign_in(client, username)
        assert response.status_code == 303 and response.headers["location"] == home


def test_wrong_password_shows_a_vietnamese_error(client):
    token = csrf_of(client.get("/dang-nhap").text)
    response = client.post("/dang-nhap", data={"username": "clerk", "password": "sai",
                                               "csrf": token})
    assert response.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in response.text


def test_login_form_without_csrf_token_is_refused(client):
    client.get("/dang-nhap")
    response = client.post("/dang-nhap", data={"username": "clerk", "password": PASSWORD})
    assert response.status_code == 403


def test_cookie_session_writes_need_the_csrf_header(client):
    sign_in(client, "clerk")
    without = client.post("/api/v1/dossiers", json=EXAMPLE)
    assert without.status_code == 403 and without.json()["type"].endswith("/csrf")
    token = csrf_of(client.get("/tinh-han").text)
    with_token = client.post("/api/v1/dossiers", json=EXAMPLE, headers={"X-CSRF-Token": token})
    assert with_token.status_code == 201
    assert client.get("/api/v1/dossiers").status_code == 200  # reads need no token


def test_pages_redirect_to_login_when_signed_out(client):
    response = client.get("/quay", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/dang-nhap?next=/quay")


def test_citizen_page_shows_status_in_plain_vietnamese(client):
    received = client.post("/api/v1/dossiers", json=EXAMPLE,
                           headers=login(client, "clerk")).json()
    page = client.get("/tra-cuu", params={"ma": received["code"], "k": received["secret"]})
    assert page.status_code == 200
    assert "Được tiếp nhận" in page.text and "Ngày hẹn trả kết quả" in page.text
    assert "Nguyễn Thị Mai" not in page.text
    wrong = client.get("/tra-cuu", params={"ma": received["code"], "k": "sai"})
    assert wrong.status_code == 404 and "Không tìm thấy hồ sơ" in wrong.text


def test_the_stylesheet_is_served_through_every_middleware(client):
    """Regression: the NUL filter used to answer a second ``receive()`` with a disconnect, and
    Starlette's file responses listen for one, so every static file became a 500 (an
    unstyled site)."""
    response = client.get("/static/app.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert "body" in response.text
