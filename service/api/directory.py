"""``GET /api/v1/dossiers/{code}/assignees`` and ``…/consultable-agencies``: the people the
dossier may be assigned to and the agencies it may be sent to for an opinion, the lists the
dossier page chooses from instead of a typed username or agency code (issue 15). The rules
and the server's own check of an action are ``service/choices.py``.

Both lists answer only to the people who may assign or consult: officers and leaders of the
dossier's competent agency; anyone else who sees the dossier gets 403, and a dossier one does
not see is 404 as everywhere.
"""

from __future__ import annotations

from fastapi import APIRouter

from engine.lifecycle.queries import consultable_agencies
from engine.lifecycle.visibility import visible_dossier
from engine.users import User
from service.api.schemas.directory import AgencyChoice, AgencyChoiceList, AssigneeList, Person
from service.choices import ROLE_LABELS, assignees, competent_staff, current_step
from service.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/dossiers", tags=["dossiers"])


def person(user: User) -> Person:
    return Person(username=user.username, full_name=user.full_name, role=user.role,
                  role_label=ROLE_LABELS.get(user.role, user.role))


@router.get("/{code}/assignees", summary="Cán bộ có thể được phân công xử lý hồ sơ")
def list_assignees(code: str, session: SessionDep, user: CurrentUser) -> AssigneeList:
    """The people the dossier's current step may be assigned to, by full name."""
    dossier = visible_dossier(session, user, code)
    competent_staff(user, dossier)
    step = current_step(session, dossier)
    return AssigneeList(dossier=dossier.code, agency=dossier.competent_agency,
                        step=dossier.current_step, step_name=step.name if step else None,
                        items=[person(u) for u in assignees(session, dossier)])


@router.get("/{code}/consultable-agencies", summary="Cơ quan có thể được lấy ý kiến")
def list_consultable(code: str, session: SessionDep, user: CurrentUser) -> AgencyChoiceList:
    """The agencies the competent agency may ask for an opinion on this dossier."""
    dossier = visible_dossier(session, user, code)
    competent_staff(user, dossier)
    return AgencyChoiceList(dossier=dossier.code, items=[
        AgencyChoice(code=a.code, name=a.name, short_name=a.short_name, level=a.level)
        for a in consultable_agencies(session, dossier)])
