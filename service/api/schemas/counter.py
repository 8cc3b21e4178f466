"""What ``service/api/counter.py`` answers: the counter's work of the day."""

from __future__ import annotations

from service.api.schemas.common import Day, Instant, Public


class CounterLine(Public):
    """One piece of work at the counter today, newest first."""

    at: Instant
    kind: str
    label: str
    code: str
    applicant: str
    procedure: str
    by: str
    by_name: str


class CounterCounts(Public):
    received: int
    returned: int
    supplements: int
    refused: int


class CounterToday(Public):
    """The clerk's unit's counter work on ``day`` (Asia/Ho_Chi_Minh, by the server's clock):
    receipts, results returned, supplements received and refusals. ``counts`` covers the whole
    day; ``items`` the latest ``limit`` lines."""

    day: Day
    agency: str
    counts: CounterCounts
    total: int
    items: list[CounterLine]
