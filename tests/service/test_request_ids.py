"""Every answer carries X-Request-ID: the client's (cut to 64 characters) or a new one, and
the same id is written into the event the request caused (service/request_ids.py)."""

from __future__ import annotations

from .conftest import login


def test_a_new_id_is_given_when_the_client_sends_none(client) -> None:
    first = client.get("/healthz").headers["x-request-id"]
    second = client.get("/healthz").headers["x-request-id"]
    assert len(first) == 32 and first != second


def test_the_clients_id_is_kept_and_cut_to_64_characters(client) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "quay-3"}).headers[
        "x-request-id"] == "quay-3"
    assert client.get("/healthz", headers={"X-Request-ID": "x" * 100}).headers[
        "x-request-id"] == "x" * 64


def test_error_answers_carry_the_id_in_header_and_body(client) -> None:
    response = client.get("/api/v1/dossiers/KHONG-CO", headers={
        **login(client, "clerk"), "X-Request-ID": "tim-ho-so"})
    assert response.status_code == 404
    assert response.headers["x-request-id"] == "tim-ho-so"
    assert response.json()["request_id"] == "tim-ho-so"
