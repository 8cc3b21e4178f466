"""The busiest routes write their JSON themselves (``service/answers.py``): what they send
must be exactly their declared model, as FastAPI would have written it, and the API's schema
must still name that model."""

from __future__ import annotations

import json

from service.api.schemas.dossiers import DossierView, QueuePage, Received

from .conftest import login
from .test_api_dossier_flow import receive


def _as_declared(model, response) -> None:
    """The body parses as ``model`` and says nothing the model would not (same keys, same
    values: an alias or a field left out would show here)."""
    assert response.headers["content-type"] == "application/json"
    body = json.loads(response.content)
    parsed = model.model_validate_json(response.content)
    assert parsed.model_dump(mode="json", by_alias=True) == body


def test_receipt_inbox_and_dossier_page_answer_exactly_their_declared_models(client):
    clerk, officer = login(client, "clerk"), login(client, "officer")
    received = receive(client, clerk, **{"Idempotency-Key": "answers-1"})
    assert received.status_code == 201
    assert received.headers["Location"] == f"/api/v1/dossiers/{received.json()['code']}"
    _as_declared(Received, received)
    assert "register" in received.json()["dossier"]  # the alias, as the schema says
    again = receive(client, clerk, **{"Idempotency-Key": "answers-1"})
    assert again.status_code == 200 and again.json()["replayed"] is True
    _as_declared(Received, again)
    code = received.json()["code"]
    client.post(f"/api/v1/dossiers/{code}/actions/transfer", json={}, headers=clerk)
    inbox = client.get("/api/v1/dossiers", headers=officer)
    assert inbox.status_code == 200 and code in [i["code"] for i in inbox.json()["items"]]
    _as_declared(QueuePage, inbox)
    page = client.get(f"/api/v1/dossiers/{code}", headers=officer)
    assert page.status_code == 200
    _as_declared(DossierView, page)


def test_the_api_schema_still_names_the_models_of_routes_that_write_their_own_json(client):
    paths = client.get("/openapi.json").json()["paths"]

    def answer(path, method, status):
        content = paths[path][method]["responses"][status]["content"]["application/json"]
        return content["schema"]["$ref"].rsplit("/", 1)[-1]

    assert answer("/api/v1/dossiers", "get", "200") == "QueuePage"
    assert answer("/api/v1/dossiers", "post", "201") == "Received"
    assert answer("/api/v1/dossiers/{code}", "get", "200") == "DossierView"
