"""What ``/api/v1/procedures`` answers: the catalogue (``engine.procedures.ProcedureSpec``)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from service.api.schemas.common import Day, Limit, Public


class ProcedureFound(Public):
    """One search hit: the version in force today."""

    code: str
    name: str
    field: str
    level: str
    effective_from: Day
    time_limit: Limit
    recent: bool = Field(False, description="Người gọi đã tiếp nhận thủ tục này gần đây")


class ComponentRule(Public):
    """A document the applicant hands in (*thành phần hồ sơ*)."""

    name: str
    originals: int
    copies: int
    required: bool


class StepRule(Public):
    """A processing step: who acts, in which unit, within which budget, with which actions."""

    id: str
    name: str
    role: str
    unit: str
    budget: Limit
    actions: list[str]


class ResultRule(Public):
    type: str
    is_document: bool


class ProcedureDetail(Public):
    """One version of a procedure (``ProcedureSpec.to_dict``) with labels for people."""

    code: str
    name: str
    field: str
    level: str
    effective_from: Day
    time_limit: Limit
    supplement_effect: str
    pause_reasons: list[str]
    components: list[ComponentRule]
    steps: list[StepRule]
    result: ResultRule
    fees: list[dict[str, Any]]
    time_limit_label: str
    required_components: list[str]
