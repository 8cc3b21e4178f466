"""Administration over the API: users and uploading procedure definitions."""

from __future__ import annotations

from pathlib import Path

from .conftest import login

CATALOGUE = Path(__file__).parents[2] / "workflows" / "catalogue"


def test_admin_creates_a_user_who_can_then_sign_in(client):
    admin = login(client, "admin")
    response = client.post("/api/v1/admin/users", headers=admin, json={
        "username": "clerk2", "full_name": "Võ Thị Hạnh", "role": "clerk",
        "agency": "000.01.32.H26", "password": "mat-khau-moi-123"})
    assert response.status_code == 201, response.text
    token = client.post("/api/v1/auth/token",
                        data={"username": "clerk2", "password": "mat-khau-moi-123"})
    assert token.status_code == 200
    assert client.post("/api/v1/admin/users", headers=admin, json={
        "username": "clerk2", "full_name": "x", "role": "clerk", "agency": "000.01.32.H26",
        "password": "mat-khau-moi-123"}).status_code == 409


def test_locked_user_cannot_sign_in(client):
    admin = login(client, "admin")
    assert client.post("/api/v1/admin/users/officer/active", params={"active": False},
                       headers=admin).status_code == 200
    token = client.post("/api/v1/auth/token", data={"username": "officer",
                                                    "password": "mat-khau-thu-nghiem"})
    assert token.status_code == 401


def test_only_admins_manage_users(client):
    assert client.get("/api/v1/admin/users", headers=login(client, "leader")).status_code == 403


def test_valid_procedure_file_is_loaded(client):
    path = next(CATALOGUE.glob("2.000815-*.yaml"))
    response = client.post("/api/v1/admin/catalogue", headers=login(client, "admin"),
                           files={"file": (path.name, path.read_bytes(), "application/yaml")})
    assert response.status_code == 200, response.text
    assert response.json()["code"] == "2.000815"


def test_invalid_procedure_file_reports_errors_with_line_numbers(client):
    bad = "code: \"1.999999\"\nname: \"Thử\"\nfield: \"Thử\"\nlevel: huyen\n"
    response = client.post("/api/v1/admin/catalogue", headers=login(client, "admin"),
                           files={"file": ("bad.yaml", bad.encode(), "application/yaml")})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert any(e["line"] == 4 and "01/07/2025" in e["message"] for e in errors), errors
