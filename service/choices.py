"""Whom a dossier may be assigned to and which agencies may be consulted on it, for the lists
the dossier page chooses from (``service/api/directory.py``) and for the check that an action
names someone or something from them (``check_choices``, called by
``POST /api/v1/dossiers/{code}/actions/{action}``); and the full names of the people a
dossier's detail names. Not a route module: two route modules use it
(tests/service/test_layering.py).

A typed username or agency code let a leader assign a dossier to a clerk of another commune
or to a name nobody has, and consult "Sở TC" (issue 15).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from engine import lifecycle
from engine.lifecycle.models import Dossier
from engine.lifecycle.policy import current_step_spec
from engine.lifecycle.queries import consultable_agencies
from engine.lifecycle.states import Action
from engine.users import (
    PROCESSING_ROLES,
    Role,
    User,
    assignable_roles,
    assignable_users,
)
from service.problems import Problem

ROLE_LABELS = {r.value: r.label_vi for r in Role}


def competent_staff(user: User, dossier: Dossier) -> None:
    """Only the competent agency's officers and leaders assign and consult; the lists of its
    staff and of the agencies it may consult are theirs alone (403 for anyone else who sees
    the dossier)."""
    if user.role not in PROCESSING_ROLES or user.agency_code != dossier.competent_agency:
        raise Problem(403, "forbidden", "Chỉ chuyên viên và lãnh đạo của cơ quan giải quyết "
                                        "hồ sơ mới được phân công hoặc lấy ý kiến.")


def current_step(session: Session, dossier: Dossier):
    """The procedure step the dossier is at (None outside processing or for an unknown id)."""
    return current_step_spec(dossier, lifecycle.spec_of(session, dossier))


def assignees(session: Session, dossier: Dossier, action: Action = Action.ASSIGN) -> list[User]:
    """Who may be named by ``action``: for ``assign``, the competent agency's active users of
    the current step's role and its leaders; for ``forward`` (the next step's person, chosen
    before it opens), any active officer or leader of the agency."""
    step = current_step(session, dossier) if action is Action.ASSIGN else None
    roles = assignable_roles(step.role if step else None)
    return assignable_users(session, dossier.competent_agency, roles)


def _refuse(field: str, detail: str, allowed: list[str]) -> Problem:
    return Problem(422, "invalid-input", detail, allowed=allowed,
                   errors=[{"field": f"payload.{field}", "message": detail}])


def _one_of(value: Any, allowed: list[str]) -> bool:
    return isinstance(value, str) and value in allowed


def check_choices(session: Session, dossier: Dossier, action: Action,
                  payload: dict[str, Any]) -> None:
    """Refuse (422, in Vietnamese) an assignee or a consulted agency that is not in the lists
    the page offers: a client that types one meets the same rule. A missing value is left to
    the action itself, which names the field."""
    if action in (Action.ASSIGN, Action.FORWARD) and payload.get("assignee"):
        allowed = [u.username for u in assignees(session, dossier, action)]
        if not _one_of(payload["assignee"], allowed):
            raise _refuse("assignee", f"Không thể phân công cho {payload['assignee']!r}: chỉ "
                          "chọn cán bộ đang hoạt động của cơ quan giải quyết hồ sơ, đúng vai trò "
                          "của bước xử lý.", allowed)
    if action is Action.CONSULT and payload.get("agency"):
        allowed = [a.code for a in consultable_agencies(session, dossier)]
        if not _one_of(payload["agency"], allowed):
            raise _refuse("agency", f"Không có cơ quan được lấy ý kiến mã {payload['agency']!r}"
                          ": chọn một cơ quan trong danh sách (không phải cơ quan giải quyết hay "
                          "bộ phận một cửa).", allowed)
