"""The real server, started as a user would (``motcua serve``), on a free port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

PASSWORD = "mat-khau-e2e"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """Base URL of a running ``motcua serve`` (migrated and seeded by itself), one per test
    module and database: starting a server costs seconds, and these tests create their own
    data, so they share it within a module."""
    from tests.conftest import drop_schema, new_schema

    folder = tmp_path_factory.mktemp("server")
    schema = None
    if request.param == "sqlite":
        database_url = f"sqlite:///{folder / 'motcua.db'}"
    else:
        admin = request.getfixturevalue("postgres_admin")
        schema, database_url = new_schema(admin)
    exe = shutil.which("motcua", path=str(Path(sys.executable).parent))
    port = free_port()
    env = {**os.environ, "MOTCUA_DATABASE_URL": database_url, "MOTCUA_DEMO_PASSWORD": PASSWORD,
           "MOTCUA_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
           # one worker: the browser tests need one process, and several workers are
           # tested on their own (tests/service/test_workers.py)
           "MOTCUA_WORKERS": "1"}
    log = (folder / "server.log").open("w")
    process = subprocess.Popen([exe, "serve", "--port", str(port)], env=env, stdout=log,
                               stderr=subprocess.STDOUT, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((folder / "server.log").read_text())
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        if schema:
            drop_schema(request.getfixturevalue("postgres_admin"), schema)


def token(base: str, username: str) -> dict[str, str]:
    response = httpx.post(f"{base}/api/v1/auth/token",
                          data={"username": username, "password": PASSWORD})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--lang=vi"]
SCREENSHOTS = Path(os.environ.get("MOTCUA_SCREENSHOTS", "/tmp/motcua-screenshots"))


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright (no browser download: the package's binary)."""
    if not Path(CHROMIUM).exists():
        reason = "Debian package 'chromium' is not installed: browser tests skipped"
        if os.environ.get("MOTCUA_REQUIRE_BROWSER") == "1":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, request):
    """A fresh browser context at a counter screen's size; a screenshot is kept per test."""
    context = chromium.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN",
                                   timezone_id="Asia/Ho_Chi_Minh")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    try:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    finally:
        context.close()


def sign_in(page, base: str, username: str, next_path: str = "/") -> None:
    page.goto(f"{base}/dang-nhap?next={next_path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/dang-nhap" not in url)  # the redirect after signing in
    page.wait_for_load_state("networkidle")
