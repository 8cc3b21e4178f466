"""An HTTP client on a migrated database with the demo catalogue, agencies and users."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from engine.db import session_scope
from service.app import create_app
from service.auth import ensure_demo_users
from workflows.sync import load_into

PASSWORD = "mat-khau-thu-nghiem"


@pytest.fixture
def client(database_url, db_engine, tmp_path, monkeypatch):
    # attachments go to this test's folder, never ./motcua-files of the checkout
    monkeypatch.setenv("MOTCUA_FILES_DIR", str(tmp_path / "files"))
    with session_scope(db_engine) as session:
        load_into(session)
    with session_scope(db_engine) as session:
        ensure_demo_users(session, password=PASSWORD)
    app = create_app(database_url)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def login(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token",
                           data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}
