"""Answers serialised in the route's own worker thread.

FastAPI takes a sync route's returned model back to a worker thread to validate it against
the declared ``response_model`` and then serialises it on the event loop: one more thread hop
per request and the JSON encoding on the loop that every request shares. Under load each hop
is a wait for the interpreter lock (issue 18: the officer's inbox went through five). The
busiest routes build their model (validated when built), write its JSON where they run and
return a :class:`~fastapi.Response`, which FastAPI passes through as it is; they still declare
``response_model`` for the OpenAPI schema, and a test checks each answer against it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Response
from pydantic import BaseModel


def json_answer(model: BaseModel, *, status_code: int = 200,
                headers: Mapping[str, str] | None = None) -> Response:
    """``model`` as ``application/json`` (by alias, as FastAPI would write it)."""
    return Response(model.model_dump_json(by_alias=True), status_code=status_code,
                    headers=dict(headers or {}), media_type="application/json")
