"""The busiest routes (the officer's inbox, the dossier page, the receipt, an action)
authenticate in the thread that does their work (``deps.authenticate``): FastAPI runs each
sync dependency in a worker thread of its own, and under load every hop waits for the event
loop and the interpreter lock (issue 18: the dossier page went from 2.95× to 2.55×
``/healthz`` at c=8).
They must still refuse exactly as the ``CurrentUser`` dependency does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import fastapi.dependencies.utils
import fastapi.routing
import pytest
from starlette.concurrency import run_in_threadpool

from .conftest import login
from .test_queue_statements import receive_many

RECEIPT = {"procedure": "1.000656", "applicant": {"name": "Lê Văn Tâm"},
           "components": []}


@contextmanager
def thread_hops(monkeypatch) -> Iterator[list[str]]:
    """The names of the callables FastAPI sends to a worker thread inside the block."""
    hops: list[str] = []

    async def counted(func, *args, **kwargs):
        hops.append(getattr(func, "__name__", repr(func)))
        return await run_in_threadpool(func, *args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "run_in_threadpool", counted)
    monkeypatch.setattr(fastapi.dependencies.utils, "run_in_threadpool", counted)
    yield hops


def first_code(client, headers) -> str:
    return client.get("/api/v1/dossiers", headers=headers).json()["items"][0]["code"]


def test_the_inbox_and_the_dossier_page_take_one_thread_hop_each(client, monkeypatch):
    receive_many(client, 2)
    officer = login(client, "clerk")
    code = first_code(client, officer)
    with thread_hops(monkeypatch) as hops:
        assert client.get("/api/v1/dossiers", headers=officer).status_code == 200
        assert client.get(f"/api/v1/dossiers/{code}", headers=officer).status_code == 200
    assert len(hops) == 2 and "current_user" not in hops, hops  # the two routes' bodies


def test_the_receipt_and_an_action_take_one_thread_hop_each(client, monkeypatch):
    clerk = login(client, "clerk")
    spec = client.get("/api/v1/procedures/1.000656", headers=clerk).json()
    body = {**RECEIPT, "components": [
        {"name": c["name"], "originals": c["originals"], "copies": c["copies"]}
        for c in spec["components"]]}
    with thread_hops(monkeypatch) as hops:
        response = client.post("/api/v1/dossiers", json=body, headers=clerk)
    assert response.status_code == 201, response.text
    assert len(hops) == 1 and "current_user" not in hops, hops
    code = response.json()["code"]
    with thread_hops(monkeypatch) as hops:
        # refused by the lifecycle's policy (a clerk does not resume), inside the route's body
        response = client.post(f"/api/v1/dossiers/{code}/actions/resume", json={},
                               headers=clerk)
    assert response.status_code == 403, response.text
    assert len(hops) == 1 and "current_user" not in hops, hops


@pytest.mark.parametrize("route", ["inbox", "detail", "receipt"])
def test_the_routes_that_authenticate_themselves_refuse_as_the_others_do(client, route):
    """No token, a forged token, a revoked session: 401 with ``WWW-Authenticate``; a role
    without the right: 403; and nothing is written by a refused receipt."""
    receive_many(client, 1)
    clerk = login(client, "clerk")
    code = first_code(client, clerk)

    def call(headers):
        if route == "inbox":
            return client.get("/api/v1/dossiers", headers=headers)
        if route == "detail":
            return client.get(f"/api/v1/dossiers/{code}", headers=headers)
        return client.post("/api/v1/dossiers", json=RECEIPT, headers=headers)

    revoked = login(client, "clerk")
    assert client.post("/api/v1/auth/logout", headers=revoked).status_code in (200, 204)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, revoked):
        response = call(headers)
        assert response.status_code == 401, (headers, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["type"].endswith("unauthenticated")
    if route == "receipt":
        auditor = login(client, "auditor")
        assert call(auditor).status_code == 403
        assert client.get("/api/v1/dossiers", headers=clerk).json()["total"] == 1


def test_a_request_without_a_valid_token_is_refused_before_its_body_is_read(client):
    """As with the ``CurrentUser`` dependency, a missing or forged token is a 401 even when
    the body is nonsense: nobody unauthenticated learns what the route would refuse in it
    (``deps.bearer_token`` checks the token on the event loop, before the body)."""
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        for response in (
                client.post("/api/v1/dossiers", json={"nonsense": 1}, headers=headers),
                client.post("/api/v1/dossiers/X/actions/forward", json={"at": "hôm qua"},
                            headers=headers)):
            assert response.status_code == 401, response.text


def test_the_routes_still_declare_their_bearer_security_in_openapi(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path, method in (("/api/v1/dossiers", "get"), ("/api/v1/dossiers", "post"),
                         ("/api/v1/dossiers/{code}", "get")):
        assert paths[path][method].get("security"), (path, method)
