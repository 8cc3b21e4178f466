"""The law's clock: every date computation happens on Asia/Ho_Chi_Minh local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def to_local(instant: datetime) -> datetime:
    """Convert an aware instant to Vietnam local time.

    Naive datetimes are refused: the database hands back UTC and a naive value would be read
    as the wrong day near midnight (stack-notes §7.1).
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"naive datetime not allowed here: {instant.isoformat()}")
    return instant.astimezone(VN_TZ)


def local_instant(day: date, at: time) -> datetime:
    """The aware instant of a local wall-clock time on a local date."""
    return datetime.combine(day, at, tzinfo=VN_TZ)


def assume_local(instant: datetime) -> datetime:
    """Interpret a naive datetime as Vietnam local time (for human input such as the CLI)."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=VN_TZ)
    return instant.astimezone(VN_TZ)


def now_local() -> datetime:
    return datetime.now(UTC).astimezone(VN_TZ)


def read_instant(value: object) -> object:
    """An instant read back through a ``UNION`` of differently typed columns, made an aware
    UTC datetime like a model's column: SQLite may hand back text, or a datetime without its
    zone (stored instants are UTC). Anything else (None) is returned as is."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
