"""What a command takes: who acts (:class:`Actor`), for whom (:class:`Applicant`), and when.

Text is NFC-normalised and trimmed by the command that receives it (``engine.text.nfc``);
the instant is the server's clock unless a caller allowed an earlier one
(``engine.lifecycle.backdating``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.lifecycle.errors import InvalidInput
from engine.lifecycle.models import utcnow
from engine.procedures import ProcedureSpec
from engine.text import nfc


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user id, a role (``engine.users.Role``) and an agency."""

    id: str
    role: str
    agency: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class Applicant:
    """The applicant (*chủ hồ sơ / người nộp hồ sơ*)."""

    name: str
    id_number: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None


def checked_instant(at: datetime | None) -> datetime:
    """The instant of an action: now, or the one given, which must carry its time zone."""
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise InvalidInput("thời điểm phải có múi giờ (ISO 8601 với +07:00)", field="at")
    return at


def missing_components(spec: ProcedureSpec, submitted: Iterable[Mapping[str, Any]]) -> list[str]:
    """Required components not handed in with enough originals and copies."""
    given = {nfc(c["name"], strip=True): c for c in submitted}
    missing = []
    for component in spec.components:
        if not component.required:
            continue
        got = given.get(component.name)
        if got is None or int(got.get("originals", 0)) < component.originals \
                or int(got.get("copies", 0)) < component.copies:
            missing.append(component.name)
    return missing
