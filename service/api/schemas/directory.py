"""What ``service/api/directory.py`` answers: the people a dossier may be assigned to and the
agencies it may be sent to for an opinion, for the dossier page's choices."""

from __future__ import annotations

from service.api.schemas.common import Public


class Person(Public):
    """A member of staff as people know them: the full name, the login in small print."""

    username: str
    full_name: str
    role: str
    role_label: str


class AssigneeList(Public):
    """Who may be given the dossier's current step: the competent agency's active users of
    the step's role, and its leaders. The server accepts no one else."""

    dossier: str
    agency: str
    step: str | None
    step_name: str | None
    items: list[Person]


class AgencyChoice(Public):
    code: str
    name: str
    short_name: str
    level: str


class AgencyChoiceList(Public):
    """The agencies the competent agency may consult (every agency but itself and the
    one-stop units). The server accepts no other code."""

    dossier: str
    items: list[AgencyChoice]
