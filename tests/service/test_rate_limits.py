"""Login and lookup limits: one spelling of the username, the client address decided by
``service.clientip`` (not by uvicorn), counts in the database shared by every instance, and a
growing delay per username across addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from engine.access import AuthSession, RateLimitHit
from service.app import create_app
from service.ratelimit import (
    LOGIN_FIRST_DELAY,
    LOGIN_MAX_DELAY,
    DbFailureDelay,
    DbRateLimiter,
)

from .conftest import PASSWORD
from .web.test_login_and_lookup_pages import csrf_of


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(client) -> Clock:
    clock = Clock()
    client.app.state.clock = clock
    return clock


def token_attempt(client, username: str, password: str = "sai", **headers: str):
    return client.post("/api/v1/auth/token", data={"username": username, "password": password},
                       headers=headers)


def web_attempt(client, username: str, password: str = "sai"):
    token = csrf_of(client.get("/dang-nhap").text)
    return client.post("/dang-nhap", data={"username": username, "password": password,
                                           "csrf": token}, follow_redirects=False)


def behind(client, peer: str) -> TestClient:
    """The same app seen from another direct peer (e.g. a reverse proxy on 127.0.0.1)."""
    return TestClient(client.app, client=(peer, 50000))


# ----- one spelling of the username -------------------------------------------------------

def test_web_login_throttles_the_username_it_authenticates(client, clock):
    """Regression: "auditor   " was throttled apart from "auditor" but authenticated as it."""
    for spelling in ("auditor", "auditor   ", " Auditor", "AUDITOR\t", "auditor "):
        assert web_attempt(client, spelling).status_code == 401
    refused = web_attempt(client, "auditor      ", PASSWORD)
    assert refused.status_code == 429 and "thử lại sau" in refused.text
    assert "Retry-After" in refused.headers


def test_api_login_normalises_the_username_before_throttling(client, clock):
    for spelling in ("Clerk", "clerk ", "CLERK", " clerk", "clerk"):
        assert token_attempt(client, spelling).status_code == 401
    refused = token_attempt(client, "  clerk", PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/too-many-logins")


def test_a_differently_spelled_username_still_signs_in(client, clock):
    assert token_attempt(client, " Officer ", PASSWORD).status_code == 200


# ----- the client's address -----------------------------------------------------------------

def test_rotating_forwarded_for_from_an_untrusted_peer_does_not_escape_the_login_limit(
        client, clock, monkeypatch):
    monkeypatch.delenv("MOTCUA_TRUSTED_PROXIES", raising=False)
    local = behind(client, "127.0.0.1")
    statuses = [token_attempt(local, "leader", **{"X-Forwarded-For": f"198.51.100.{i}"})
                .status_code for i in range(7)]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
    lookups = [local.get("/api/v1/public/dossiers/000.01.31.H26-990101-0001",
                         params={"secret": "x"}, headers={"X-Forwarded-For": f"203.0.113.{i}"})
               .status_code for i in range(31)]
    assert lookups[-1] == 429


def test_a_trusted_proxys_forwarded_address_is_the_client(client, clock, monkeypatch,
                                                          db_engine):
    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    proxy = behind(client, "127.0.0.1")
    url = "/api/v1/public/dossiers/000.01.31.H26-990101-{:04d}"
    first = [proxy.get(url.format(i), params={"secret": "x"},
                       headers={"X-Forwarded-For": "203.0.113.7, 10.1.2.3"}).status_code
             for i in range(101)]
    assert first[-1] == 429  # the per-address limit (service/ratelimit.py)
    other = proxy.get(url.format(1), params={"secret": "x"},
                      headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 404  # another citizen behind the same proxy is not limited
    assert token_attempt(proxy, "clerk", PASSWORD,
                         **{"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    with Session(db_engine) as session:
        recorded = session.exec(select(AuthSession.client_address)).all()
    assert recorded == ["203.0.113.9"]


def test_serve_stops_uvicorn_from_rewriting_the_client_address(monkeypatch, tmp_path):
    import uvicorn
    from typer.testing import CliRunner

    from service.cli import app as cli

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("MOTCUA_DEMO_PASSWORD", PASSWORD)
    monkeypatch.setenv("MOTCUA_SERVE_SCHEDULER", "off")  # `serve` sets it: removed afterwards
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["proxy_headers"] is False


# ----- per username, from any address -----------------------------------------------------

def test_failures_from_many_addresses_delay_the_username_increasingly(client, clock,
                                                                     monkeypatch):
    monkeypatch.setenv("MOTCUA_TRUSTED_PROXIES", "127.0.0.1")
    proxy = behind(client, "127.0.0.1")

    def attempt(i: int, password: str = "sai"):
        return token_attempt(proxy, "clerk", password, **{"X-Forwarded-For": f"198.51.100.{i}"})

    assert [attempt(i).status_code for i in range(5)] == [401] * 5
    waits = []
    for i in range(5, 8):
        refused = attempt(100 + i, PASSWORD)
        assert refused.status_code == 429
        assert refused.json()["type"].endswith("/too-many-logins")
        waits.append(int(refused.headers["Retry-After"]))
        clock.advance(seconds=waits[-1])
        assert attempt(i).status_code == 401  # the delay passed: one more guess, and wrong
    assert waits[0] >= LOGIN_FIRST_DELAY.total_seconds() and waits[0] < waits[1] < waits[2]
    clock.advance(seconds=int(attempt(200, PASSWORD).headers["Retry-After"]))
    assert attempt(201, PASSWORD).status_code == 200  # a delay, not a lock


def test_a_successful_login_resets_only_its_address_bucket(client, clock):
    limits = client.app.state.limits
    for _ in range(4):
        assert token_attempt(client, "officer").status_code == 401
    assert token_attempt(client, "officer", PASSWORD).status_code == 200
    assert limits.login_address.count("officer|testclient") == 0
    assert limits.login_user.count("officer") == 4


def test_the_failure_delay_doubles_and_is_capped(db_engine):
    clock = Clock()
    delay = DbFailureDelay(db_engine, "t", free=5, window=timedelta(minutes=15),
                           first_delay=LOGIN_FIRST_DELAY, max_delay=LOGIN_MAX_DELAY, clock=clock)
    assert [delay.delay_after(n) for n in (0, 4)] == [timedelta(0)] * 2
    assert delay.delay_after(5) == LOGIN_FIRST_DELAY
    assert delay.delay_after(6) == 2 * LOGIN_FIRST_DELAY
    assert delay.delay_after(40) == LOGIN_MAX_DELAY
    for _ in range(5):
        delay.fail("x")
    assert delay.wait("x") == LOGIN_FIRST_DELAY.total_seconds()
    clock.advance(minutes=16)  # the failures left the window
    assert delay.wait("x") == 0


# ----- counts in the database ---------------------------------------------------------------

def test_two_instances_on_one_database_share_the_login_limit(client, database_url, clock):
    other = create_app(database_url)
    try:
        second = TestClient(other)
        for target in (client, second, client, second, client):
            response = token_attempt(target, "leader")
            assert response.status_code == 401, response.text
        assert token_attempt(second, "leader", PASSWORD).status_code == 429
        restarted = TestClient(create_app(database_url))  # a restart forgets nothing either
        assert token_attempt(restarted, "leader", PASSWORD).status_code == 429
        restarted.app.state.engine.dispose()
    finally:
        other.state.engine.dispose()


def test_the_sliding_window_counts_only_recent_hits_and_deletes_old_ones(db_engine):
    clock = Clock()
    limiter = DbRateLimiter(db_engine, "t", limit=3, window=timedelta(minutes=1), clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.hit("a") == 60  # refused, and not counted
    assert limiter.hit("b") == 0  # other keys are other buckets
    clock.advance(seconds=30)
    assert limiter.hit("a") == 30
    clock.advance(seconds=31)
    assert limiter.hit("a") == 0
    with Session(db_engine) as session:
        rows = session.exec(select(func.count()).select_from(RateLimitHit)
                            .where(RateLimitHit.bucket == "t:a")).one()
    assert rows == 1  # the three expired hits were deleted on the way
    limiter.hit("b")
    limiter.reset("a")
    assert limiter.count("a") == 0 and limiter.count("b") == 1


def test_hits_on_several_keys_count_together_or_not_at_all(db_engine):
    """An applicant's phone and e-mail in one transaction: allowed only if both are, and a
    refusal records neither (so the other key is not used up by a refused submission)."""
    clock = Clock()
    limiter = DbRateLimiter(db_engine, "c", limit=2, window=timedelta(days=1), clock=clock)
    assert limiter.hit_all(["0912", "an@x.vn"]) == 0
    assert limiter.hit("0912") == 0  # the phone is now at its limit
    assert limiter.hit_all(["an@x.vn", "0912"]) > 0
    assert (limiter.count("0912"), limiter.count("an@x.vn")) == (2, 1)
    assert limiter.hit_all([]) == 0


def test_concurrent_hits_on_one_bucket_pass_exactly_up_to_the_limit(db_engine):
    """Eight callers at once (as from several workers) on a limit of three: three pass, the
    others wait, and only the three are recorded — the count and the insert take turns."""
    from concurrent.futures import ThreadPoolExecutor

    clock = Clock()
    limiter = DbRateLimiter(db_engine, "race", limit=3, window=timedelta(hours=1), clock=clock)
    with ThreadPoolExecutor(max_workers=8) as pool:
        waits = list(pool.map(lambda _: limiter.hit_all(["0912", "an@x.vn"]), range(8)))
    assert sorted(w == 0 for w in waits) == [False] * 5 + [True] * 3
    assert all(w >= 3599 for w in waits if w)
    assert (limiter.count("0912"), limiter.count("an@x.vn")) == (3, 3)
