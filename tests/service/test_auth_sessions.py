"""Server-side sessions: a cookie or token names an ``auth_session`` row, so logout, a password
change and an administrator end it at once; idle timeout, absolute lifetime, Secure cookie."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from engine.access import AuthSession
from service.app import create_app
from service.sessions import SessionSettings

from .conftest import PASSWORD, login
from .test_rate_limits import Clock
from .web.test_login_and_lookup_pages import csrf_of, sign_in

COOKIE = "motcua_session"


@pytest.fixture
def clock(client) -> Clock:
    clock = Clock()
    client.app.state.clock = clock
    return clock


def signed_in(client, username: str = "clerk") -> str:
    """Sign in on the web page; the cookie's value (what a thief would copy)."""
    assert sign_in(client, username).status_code == 303
    return client.cookies[COOKIE]


def log_out(client) -> None:
    token = csrf_of(client.get("/tinh-han").text)
    assert client.post("/dang-xuat", data={"csrf": token},
                       follow_redirects=False).status_code == 303


def me(client, headers=None) -> int:
    return client.get("/api/v1/auth/me", headers=headers).status_code


# ----- revocation ---------------------------------------------------------------------------

def test_a_cookie_captured_before_logout_is_refused_after_it(client, clock):
    captured = signed_in(client)
    assert me(client) == 200
    log_out(client)
    client.cookies.clear()
    client.cookies.set(COOKIE, captured)
    assert me(client) == 401
    page = client.get("/quay", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/dang-nhap")


def test_the_cookie_holds_only_a_session_id(client, clock, db_engine):
    signed_in(client)
    with Session(db_engine) as session:
        row = session.exec(select(AuthSession)).one()
    assert row.kind == "web" and row.username == "clerk" and row.client_address == "testclient"
    assert row.expires_at - row.created_at == timedelta(hours=12)


def test_a_token_is_refused_after_logout(client, clock):
    headers = login(client, "officer")
    other = login(client, "officer")
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert me(client, headers) == 401
    assert me(client, other) == 200  # only the token that logged out


def test_a_token_is_refused_after_a_password_change(client, clock):
    headers, other = login(client, "officer"), login(client, "officer")
    wrong = client.post("/api/v1/auth/password", headers=headers,
                        json={"old_password": "sai", "new_password": "mat-khau-moi-456"})
    assert wrong.status_code == 422 and me(client, headers) == 200
    changed = client.post("/api/v1/auth/password", headers=headers,
                          json={"old_password": PASSWORD, "new_password": "mat-khau-moi-456"})
    assert changed.status_code == 200 and changed.json() == {"revoked_sessions": 2}
    assert me(client, headers) == 401 and me(client, other) == 401
    assert client.post("/api/v1/auth/token", data={"username": "officer", "password": PASSWORD}
                       ).status_code == 401
    fresh = client.post("/api/v1/auth/token",
                        data={"username": "officer", "password": "mat-khau-moi-456"})
    assert fresh.status_code == 200


def test_an_administrator_lists_and_revokes_a_users_sessions(client, clock):
    victim = login(client, "leader")
    signed_in(client, "leader")
    admin = login(client, "admin")
    listed = client.get("/api/v1/admin/users/leader/sessions", headers=admin)
    assert listed.status_code == 200
    assert sorted(s["kind"] for s in listed.json()) == ["api", "web"]
    assert all(len(s["ref"]) == 8 and "id" not in s for s in listed.json())
    revoked = client.post("/api/v1/admin/users/leader/revoke-sessions", headers=admin)
    assert revoked.json() == {"revoked_sessions": 2}
    assert me(client, victim) == 401
    assert me(client) == 401  # the browser's cookie session too
    assert client.get("/api/v1/admin/users/leader/sessions", headers=admin).json() == []
    assert client.post("/api/v1/admin/users/nobody/revoke-sessions",
                       headers=admin).status_code == 404
    assert client.post("/api/v1/admin/users/leader/revoke-sessions",
                       headers=victim).status_code == 401


def test_only_administrators_see_sessions(client, clock):
    assert client.get("/api/v1/admin/users/clerk/sessions",
                      headers=login(client, "leader")).status_code == 403


def test_a_token_without_a_session_id_is_refused(client, clock):
    """Tokens signed before sessions were recorded could never be revoked."""
    now = datetime.now(UTC)
    old_style = jwt.encode({"sub": "clerk", "iat": now, "exp": now + timedelta(hours=1)},
                           client.app.state.signing_key, algorithm="HS256")
    assert me(client, {"Authorization": f"Bearer {old_style}"}) == 401


# ----- time -----------------------------------------------------------------------------------

def test_an_idle_web_session_ends_and_a_used_one_lives_on(client, clock):
    signed_in(client)
    clock.advance(minutes=29)
    assert me(client) == 200
    clock.advance(minutes=29)
    assert me(client) == 200  # used 29 minutes ago
    clock.advance(minutes=31)
    assert me(client) == 401
    assert client.get("/quay", follow_redirects=False).status_code == 303


def test_a_session_ends_after_its_absolute_lifetime_however_busy(client, clock):
    signed_in(client)
    token = login(client, "clerk")
    for _ in range(11 * 3):
        clock.advance(minutes=20)
        assert me(client) == 200 and me(client, token) == 200
    clock.advance(hours=1, seconds=1)
    assert me(client) == 401 and me(client, token) == 401


def test_last_seen_is_written_at_most_once_a_minute(client, clock, db_engine):
    headers = login(client, "clerk")

    def last_seen() -> datetime:
        with Session(db_engine) as session:
            return session.exec(select(AuthSession.last_seen_at)).one()

    opened = last_seen()
    clock.advance(seconds=59)
    assert me(client, headers) == 200 and last_seen() == opened
    clock.advance(seconds=2)
    assert me(client, headers) == 200 and last_seen() == clock.now


# ----- settings and the cookie ----------------------------------------------------------------

def login_cookie(client) -> str:
    """The Set-Cookie header of a successful web sign-in."""
    token = csrf_of(client.get("/dang-nhap").text)
    response = client.post("/dang-nhap", data={"username": "clerk", "password": PASSWORD,
                                               "csrf": token}, follow_redirects=False)
    assert response.status_code == 303
    return next(h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE))


def test_the_cookie_is_secure_with_an_https_public_address(database_url, client, monkeypatch):
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", "https://dvc.haiphong.gov.vn")
    app = create_app(database_url)
    try:
        cookie = login_cookie(TestClient(app, base_url="https://testserver")).lower()
        assert "secure" in cookie.split("; ") and "max-age=43200" in cookie
    finally:
        app.state.engine.dispose()


def test_the_cookie_is_not_secure_on_a_plain_http_address(client):
    assert "secure" not in login_cookie(client).lower().split("; ")


def test_session_settings_come_from_the_environment():
    assert SessionSettings.from_env({}) == SessionSettings(
        idle=timedelta(minutes=30), max_age=timedelta(hours=12), secure_cookie=False)
    custom = SessionSettings.from_env({"MOTCUA_SESSION_IDLE_MINUTES": "10",
                                       "MOTCUA_SESSION_MAX_HOURS": "8",
                                       "MOTCUA_PUBLIC_BASE_URL": "HTTPS://dvc.example.vn"})
    assert custom == SessionSettings(idle=timedelta(minutes=10), max_age=timedelta(hours=8),
                                     secure_cookie=True)
    with pytest.raises(ValueError, match="MOTCUA_SESSION_IDLE_MINUTES"):
        SessionSettings.from_env({"MOTCUA_SESSION_IDLE_MINUTES": "0"})
