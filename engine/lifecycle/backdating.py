"""Recording an earlier instant (*ghi lùi thời điểm*): a separate, journaled permission.

The server's clock decides when an action happened. An outside probe sent
``{"at": "2039-12-30T08:00+07:00"}`` with a transfer and jammed the dossier (every later action
was "before the previous one"), and dated a ``finish`` before it happened. So the API and the
pages never take an instant from the client, except in one case the law's practice needs:
paper dossiers received or handled during an outage and typed in later. That case is

- a permission of named roles (``MOTCUA_BACKDATE_ROLES``, default ``leader``: the head of
  unit vouches for the paper record) [I: the law names no role; configurable];
- within a window (``MOTCUA_BACKDATE_MAX_DAYS`` calendar days before now, default 5) [I];
- never in the future, never before the dossier's previous event (the lifecycle checks that);
- with a reason, and journaled: the event keeps ``payload.backdated`` (the reason; the event
  row's ``recorded_at`` is the server's instant), the dossier gets the ``backdated`` flag, the
  control sheet marks the step and the reports' anomalies list it.

These are pure functions: the caller passes ``now`` (the server's clock).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.lifecycle.errors import Forbidden, InvalidInput
from engine.lifecycle.states import LifecycleFlag
from engine.timezone import to_local

FLAG = LifecycleFlag.BACKDATED
DEFAULT_ROLES = frozenset({"leader"})
DEFAULT_MAX_DAYS = 5


@dataclass(frozen=True, slots=True)
class BackdatePolicy:
    """Who may record an earlier instant, and how far back."""

    roles: frozenset[str] = DEFAULT_ROLES
    max_days: int = DEFAULT_MAX_DAYS

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> BackdatePolicy:
        roles = env.get("MOTCUA_BACKDATE_ROLES", "").strip()
        days = env.get("MOTCUA_BACKDATE_MAX_DAYS", "").strip()
        return cls(roles=frozenset(r.strip() for r in roles.split(",") if r.strip())
                   if roles else DEFAULT_ROLES,
                   max_days=int(days) if days else DEFAULT_MAX_DAYS)


def check_backdate(*, role: str | None, at: datetime, now: datetime, reason: str | None,
                   policy: BackdatePolicy) -> str:
    """Allow ``at`` as the instant of an action recorded at ``now``, or raise.

    ``role=None`` skips the role check (the operator's command line: whoever runs it holds
    the database already); everything else applies. Returns the trimmed reason."""
    if at.tzinfo is None:
        raise InvalidInput("thời điểm phải có múi giờ (ISO 8601 với +07:00)", field="at")
    if role is not None and role not in policy.roles:
        raise Forbidden("vai trò này không được ghi lùi thời điểm thực hiện; thời điểm là giờ "
                        "của máy chủ", field="at", role=role,
                        allowed_roles=sorted(policy.roles))
    if at > now:
        raise InvalidInput("thời điểm thực hiện không được ở tương lai "
                           f"(bây giờ là {to_local(now):%H:%M %d/%m/%Y})", field="at")
    earliest = now - timedelta(days=policy.max_days)
    if at < earliest:
        raise InvalidInput(f"chỉ được ghi lùi trong {policy.max_days} ngày "
                           f"(từ {to_local(earliest):%H:%M %d/%m/%Y})", field="at",
                           earliest=earliest.isoformat())
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("ghi lùi thời điểm phải nêu lý do (ví dụ: hồ sơ giấy nhận khi mất "
                           "điện)", field="backdate_reason")
    return text
