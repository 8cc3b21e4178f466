"""Who hears about what (*người nhận thông báo*): staff by name, the applicant by address.

Staff are users (``engine.users.User``) found by role and agency; they get in-app messages
(recipient = username), because users have no e-mail address today. The applicant gets the
citizen-facing events on the channels the dossier gives: e-mail (``applicant_email``) and, when
an SMS gateway is configured, a webhook message addressed ``sms:<phone>``
(``applicant_phone``). The audience of each finding is :data:`AUDIENCE`; docs/notifications.md
("Who receives what") says the same in prose.

The rules are plain functions over a :class:`Directory`, which reads the active staff and the
agencies' names lazily (one query per agency and role) or all at once (:meth:`Directory.preload`,
one query each, for a sweep that writes many messages).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import bindparam, select
from sqlmodel import Session

from engine.agencies import Agency
from engine.lifecycle.models import Dossier
from engine.outbox import Channel
from engine.timed.findings import Finding, FindingKind
from engine.users import Role, User


class Audience(StrEnum):
    """A group of staff a finding is for."""

    #: The person assigned (the step's assignee, else the dossier's); without one, or if that
    #: account is locked, every active user with the step's role at the step's agency.
    HANDLER = "handler"
    #: The leaders (*lãnh đạo*, the head of unit and deputies) of the competent agency.
    LEADERS = "leaders"
    #: The reception clerks of the receiving one-stop unit (they send the paper on and take the
    #: supplement in).
    COUNTER = "counter"


#: Who is told about each finding (docs/notifications.md, "Who receives what").
AUDIENCE: dict[FindingKind, tuple[Audience, ...]] = {
    FindingKind.DUE_SOON: (Audience.HANDLER,),
    FindingKind.DUE_TODAY: (Audience.HANDLER,),
    FindingKind.OVERDUE: (Audience.HANDLER, Audience.LEADERS),
    FindingKind.STEP_DUE_SOON: (Audience.HANDLER,),
    FindingKind.STEP_OVERDUE: (Audience.HANDLER,),
    FindingKind.APOLOGY_DUE: (Audience.LEADERS, Audience.HANDLER),
    FindingKind.APOLOGY_MISSED: (Audience.LEADERS, Audience.HANDLER),
    FindingKind.SUPPLEMENT_AWAITED: (Audience.COUNTER, Audience.HANDLER),
    FindingKind.TRANSFER_LATE: (Audience.COUNTER,),
    FindingKind.NOT_ACCEPTED: (Audience.HANDLER, Audience.LEADERS),
}


_USERS, _AGENCIES = User.__table__, Agency.__table__
#: Core statements, compiled once: an action that announces something reads one group of staff
#: and its three agencies' names (ORM lookups cost as much as the action's own reads).
_STAFF = (select(_USERS.c.username)
          .where(_USERS.c.agency_code == bindparam("agency"), _USERS.c.role == bindparam("role"),
                 _USERS.c.active.is_(True))
          .order_by(_USERS.c.username))
_ACTIVE = select(_USERS.c.active).where(_USERS.c.username == bindparam("username"))
_NAMES = (select(_AGENCIES.c.code, _AGENCIES.c.name)
          .where(_AGENCIES.c.code.in_(bindparam("codes", expanding=True))))


class Directory:
    """Active staff by (agency, role) and agencies' names, read once and remembered.

    Lazy by default (an action needs one group); :meth:`preload` reads everything in two
    queries, which a sweep over many dossiers wants. Keep one per transaction: a user locked
    meanwhile would otherwise still be told.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._staff: dict[tuple[str, str], tuple[str, ...]] = {}
        self._active: dict[str, bool] = {}
        self._names: dict[str, str] = {}
        self._complete = False

    @classmethod
    def preload(cls, session: Session) -> Directory:
        directory = cls(session)
        groups: dict[tuple[str, str], list[str]] = {}
        users = session.connection().execute(
            select(_USERS.c.username, _USERS.c.role, _USERS.c.agency_code)
            .where(_USERS.c.active.is_(True)).order_by(_USERS.c.username))
        for username, role, agency in users:
            groups.setdefault((agency, role), []).append(username)
            directory._active[username] = True
        directory._staff = {key: tuple(names) for key, names in groups.items()}
        directory._names = dict(session.connection().execute(
            select(_AGENCIES.c.code, _AGENCIES.c.name)).all())
        directory._complete = True
        return directory

    def staff(self, agency: str | None, role: Role | str | None) -> tuple[str, ...]:
        """Usernames of the active users with ``role`` at ``agency``, sorted."""
        if not agency or not role:
            return ()
        key = (agency, str(role))
        if key not in self._staff:
            if self._complete:
                return ()
            self._staff[key] = tuple(self.session.connection().execute(
                _STAFF, {"agency": key[0], "role": key[1]}).scalars())
        return self._staff[key]

    def is_active(self, username: str) -> bool:
        """Whether ``username`` is an active user (a locked account is told nothing)."""
        if username not in self._active:
            if self._complete:
                return False
            active = self.session.connection().execute(
                _ACTIVE, {"username": username}).scalar()
            self._active[username] = bool(active)
        return self._active[username]

    def learn_names(self, *codes: str | None) -> None:
        """Read the names of these agencies in one statement (those not known yet)."""
        wanted = sorted({c for c in codes if c and c not in self._names})
        if wanted and not self._complete:
            found = dict(self.session.connection().execute(_NAMES, {"codes": wanted}).all())
            self._names.update({code: found.get(code, code) for code in wanted})

    def agency_name(self, code: str | None) -> str:
        """The agency's name for a message; its code if the agency is unknown."""
        if not code:
            return ""
        self.learn_names(code)
        return self._names.get(code, code)


def unique(names: Iterable[str]) -> list[str]:
    """Each name once, first seen first (a leader who is also the assignee gets one message)."""
    return list(dict.fromkeys(n for n in names if n))


def handler(finding: Finding, directory: Directory) -> list[str]:
    """The assignee if active; else the step's role at the step's agency (``facts["unit"]``,
    a hand-off row's unit) or, when nobody there has the role, at the competent agency."""
    if finding.assignee and directory.is_active(finding.assignee):
        return [finding.assignee]
    unit = finding.facts.get("unit") or finding.competent_agency
    return list(directory.staff(unit, finding.step_role)
                or directory.staff(finding.competent_agency, finding.step_role))


def receiving_agency_of(session: Session, finding: Finding) -> str | None:
    """The receiving one-stop unit: from the finding's facts (the sweep knows it), else read."""
    agency = finding.facts.get("receiving_agency")
    if agency:
        return agency
    table = Dossier.__table__
    return session.connection().execute(
        select(table.c.receiving_agency).where(table.c.code == finding.dossier_code)).scalar()


def finding_recipients(session: Session, finding: Finding, directory: Directory) -> list[str]:
    """Usernames told about ``finding``, by :data:`AUDIENCE`."""
    names: list[str] = []
    for audience in AUDIENCE[finding.kind]:
        if audience is Audience.HANDLER:
            names += handler(finding, directory)
        elif audience is Audience.LEADERS:
            names += directory.staff(finding.competent_agency, Role.LEADER)
        else:
            names += directory.staff(receiving_agency_of(session, finding), Role.CLERK)
    return unique(names)


# ----- the applicant --------------------------------------------------------------------------

_TRUE = {"1", "true", "yes", "on"}
PUBLIC_BASE_URL_ENV = "MOTCUA_PUBLIC_BASE_URL"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
_FALSE = {"0", "false", "no", "off"}


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    value = env.get(name, "").strip().lower()
    if not value:
        return default
    if value not in _TRUE | _FALSE:
        raise ValueError(f"{name}: expected true or false, got {value!r}")
    return value in _TRUE


@dataclass(frozen=True, slots=True)
class ApplicantChannels:
    """How the applicant is told, from the environment: ``MOTCUA_NOTIFY_APPLICANT_EMAIL``
    (default true: the address was given for this) and ``MOTCUA_NOTIFY_APPLICANT_SMS``
    (default false: it needs an SMS gateway behind the webhook). [I]: the law asks for
    notification by e-mail or SMS for online dossiers (ND 61 Art 17(2)) and names neither a
    channel nor a default for the others."""

    email: bool = True
    sms: bool = False
    #: Where citizens reach the server (``MOTCUA_PUBLIC_BASE_URL``, as the receipt's QR code):
    #: the lookup link and the documents' links in the applicant's messages.
    base_url: str = DEFAULT_PUBLIC_BASE_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> ApplicantChannels:
        return cls(email=_flag(env, "MOTCUA_NOTIFY_APPLICANT_EMAIL", True),
                   sms=_flag(env, "MOTCUA_NOTIFY_APPLICANT_SMS", False),
                   base_url=(env.get(PUBLIC_BASE_URL_ENV, "").strip()
                             or DEFAULT_PUBLIC_BASE_URL).rstrip("/"))


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SMS_PREFIX = "sms:"


def sms_number(phone: str | None) -> str | None:
    """The phone number as a gateway takes it: digits, with a leading + kept; None if there
    are too few digits to be a number."""
    if not phone:
        return None
    digits = re.sub(r"[^\d+]", "", phone.strip())
    digits = digits[0] + digits[1:].replace("+", "") if digits else digits
    return digits if sum(c.isdigit() for c in digits) >= 8 else None


def applicant_addresses(dossier: Dossier, channels: ApplicantChannels
                        ) -> list[tuple[Channel, str]]:
    """Where the applicant of ``dossier`` is told: (channel, recipient) pairs."""
    found: list[tuple[Channel, str]] = []
    email = (dossier.applicant_email or "").strip()
    if channels.email and _EMAIL.match(email):
        found.append((Channel.EMAIL, email))
    number = sms_number(dossier.applicant_phone)
    if channels.sms and number:
        found.append((Channel.WEBHOOK, SMS_PREFIX + number))
    return found


def mask(channel: Channel | str, recipient: str) -> str:
    """A citizen's address as an administrator may see it in the list of failed deliveries
    (an administrator sees no personal data): ``n***@example.vn``, ``sms:0912***678``; staff
    usernames and webhook targets as they are."""
    if Channel(channel) is Channel.EMAIL and "@" in recipient:
        local, _, domain = recipient.partition("@")
        return f"{local[:1]}***@{domain}"
    if recipient.startswith(SMS_PREFIX):
        number = recipient[len(SMS_PREFIX):]
        shown = f"{number[:4]}***{number[-3:]}" if len(number) > 7 else "***"
        return SMS_PREFIX + shown
    return recipient
