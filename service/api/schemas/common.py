"""What every response model shares: the base class and the ISO 8601 string types."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, WithJsonSchema


class Public(BaseModel):
    """A JSON answer (the FastAPI template's "…Public" models). Unknown keys are refused, so
    a field built by a route but not declared here fails loudly in the tests instead of
    vanishing from the answer. A field whose JSON name is taken in Python (``from``,
    ``register``) has an alias, used both ways."""

    model_config = ConfigDict(extra="forbid", validate_by_name=True, validate_by_alias=True,
                              serialize_by_alias=True)


#: An instant as ISO 8601 with its offset, kept as the string the server wrote (Vietnam time,
#: ``+07:00``, for dossiers; pydantic would rewrite a UTC offset as ``Z``).
Instant = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
#: A calendar day, ``YYYY-MM-DD``.
Day = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]


class Limit(Public):
    """A time limit (*thời hạn*): an amount in a unit (``working_days``, ``calendar_days``,
    ``working_hours``…)."""

    amount: float
    unit: str
