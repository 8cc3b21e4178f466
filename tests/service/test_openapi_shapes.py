"""/openapi.json shows what every JSON route answers: a named model with its fields, never
an open object (``{}`` or ``additionalProperties: true``) that a client cannot rely on."""

from __future__ import annotations

#: The routes that do not answer JSON: PDFs, the report files, and a 204 without a body.
NOT_JSON = {("get", "/api/v1/dossiers/{code}/documents/{form}.pdf"),
            ("get", "/api/v1/reports/export.{fmt}"),
            ("post", "/api/v1/auth/logout"),
            # a dossier's files: PDF, JPEG or PNG bytes (service/api/attachments.py)
            ("get", "/api/v1/dossiers/{code}/attachments/{attachment_id}"),
            ("get", "/api/v1/public/dossiers/{code}/attachments/{attachment_id}"),
            # the applicant's issued forms as PDF (service/api/public_documents.py)
            ("get", "/api/v1/public/dossiers/{code}/documents/{form}.pdf")}


def named_model(schema: dict, components: dict) -> dict | None:
    """The component a response schema names (directly, or as the items of a list)."""
    if schema.get("type") == "array":
        schema = schema.get("items", {})
    ref = schema.get("$ref", "")
    prefix = "#/components/schemas/"
    return components.get(ref[len(prefix):]) if ref.startswith(prefix) else None


def test_every_json_route_declares_a_named_response_model(client):
    spec = client.get("/openapi.json").json()
    components = spec["components"]["schemas"]
    operations = [(method, path, op) for path, ops in spec["paths"].items()
                  for method, op in ops.items()]
    assert len(operations) >= 30
    open_shapes = []
    for method, path, op in operations:
        if (method, path) in NOT_JSON:
            continue
        answers = {status: r for status, r in op["responses"].items() if status.startswith("2")}
        assert answers, (method, path)
        for status, answer in answers.items():
            schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
            model = named_model(schema, components)
            if model is None or not model.get("properties") \
                    or model.get("additionalProperties") is not False:
                open_shapes.append((method.upper(), path, status, schema))
    assert open_shapes == []


def test_instants_and_days_are_documented_as_such(client):
    components = client.get("/openapi.json").json()["components"]["schemas"]
    item = components["QueueItem"]["properties"]
    assert {"format": "date-time", "type": "string"} in item["received_at"]["anyOf"]
    assert {"format": "date", "type": "string"} in item["due"]["anyOf"]
    assert item["urgency"]["anyOf"][0] == {"$ref": "#/components/schemas/Urgency"}
    assert components["Urgency"]["enum"] == ["overdue", "due_today", "apology_due", "due_soon"]
