"""Journal of calendar edits: who changed which day, and which open deadlines moved."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel


class CalendarJournal(SQLModel, table=True):
    __tablename__ = "calendar_journal"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    actor_id: str = Field(max_length=64)
    agency_code: str = Field(max_length=64)  # '' = national
    change: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    reprojected: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
