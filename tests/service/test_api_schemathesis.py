"""Property-based API testing with schemathesis against /openapi.json, authenticated (a clerk;
an admin for the calendar): no server error and no response outside the documented schema.

Operations are driven one by one with hypothesis (bounded examples each) because
schemathesis' pytest fixture integration does not support this pytest version.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from .conftest import login

EXAMPLES_PER_OPERATION = 12


def test_api_answers_without_server_errors_or_schema_violations(client):
    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    tokens = {role: login(client, role) for role in ("clerk", "admin")}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15

    for operation in operations:
        role = "admin" if operation.path.startswith("/api/v1/calendar") else "clerk"
        headers = {} if operation.path == "/api/v1/auth/token" else tokens[role]
        if operation.path == "/api/v1/auth/logout":  # revokes its token: not the shared one
            headers = login(client, role)
        exercise(operation, headers)


def exercise(operation, headers: dict[str, str]) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case):
        case.call_and_validate(headers=headers,
                               checks=[not_a_server_error, response_schema_conformance])

    check()
