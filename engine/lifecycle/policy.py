"""Who may *act*: the role, the agency and the step an action needs (domain §2.3).

Who may *see* a dossier is ``engine.lifecycle.visibility``; the two together are the policy
that the API, the pages, the reports and the printed documents ask, never re-implement.
"""

from __future__ import annotations

from sqlmodel import Session

from engine.lifecycle.errors import Forbidden, IllegalAction
from engine.lifecycle.inputs import Actor
from engine.lifecycle.models import Dossier
from engine.lifecycle.queries import machine_of, spec_of
from engine.lifecycle.states import Action, State
from engine.procedures import ProcedureSpec
from engine.users import Role

A = Action
COUNTER_ROLES = frozenset({Role.CLERK.value})
#: The citizen acting online (*người nộp hồ sơ*, domain §2.3) is no user: an actor of this
#: role, of the dossier's receiving unit, proven by the dossier's secret (or, to submit, by
#: the public submission's checks). It may submit and hand in a pre-receipt supplement only
#: (:func:`applicant_actor`, docs/online.md).
APPLICANT = "applicant"
APPLICANT_ROLES = frozenset({Role.CLERK.value, APPLICANT})
#: action → (roles, which agency fields of the dossier the actor must belong to, step-scoped)
POLICY: dict[Action, tuple[frozenset[str], tuple[str, ...], bool]] = {
    A.SUBMIT: (APPLICANT_ROLES, ("receiving_agency",), False),
    A.RECEIVE: (COUNTER_ROLES, ("receiving_agency",), False),
    A.REFUSE_AT_RECEPTION: (COUNTER_ROLES, ("receiving_agency",), False),
    A.TRANSFER: (COUNTER_ROLES, ("receiving_agency",), False),
    A.RECEIVE_SUPPLEMENT: (APPLICANT_ROLES, ("receiving_agency", "returning_agency"), False),
    A.RETURN_RESULT: (COUNTER_ROLES, ("returning_agency",), False),
    A.RECORD_POSTAL_DELIVERY: (COUNTER_ROLES, ("returning_agency",), False),
    A.STOP: (COUNTER_ROLES, ("receiving_agency", "returning_agency"), False),
    A.WITHDRAW: (COUNTER_ROLES, ("receiving_agency", "returning_agency"), False),
    A.CONFIRM_PAYMENT: (frozenset({"clerk", "officer"}),
                        ("receiving_agency", "competent_agency"), False),
    A.ACCEPT_TRANSFER: (frozenset({"clerk", "officer", "leader"}), ("competent_agency",), False),
    A.ASSIGN: (frozenset({"leader"}), ("competent_agency",), False),
    A.APOLOGISE: (frozenset({"leader"}), ("competent_agency",), False),
    A.REFUSE: (frozenset({"leader"}), ("competent_agency",), False),
    A.CORRECT_RESULT: (frozenset({"leader", "officer"}), ("competent_agency",), False),
    A.FORWARD: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.SEND_BACK: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.CONSULT: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.REQUEST_SUPPLEMENT: (frozenset({"officer", "leader", "clerk"}),
                           ("competent_agency", "receiving_agency"), True),
    A.REQUEST_PAYMENT: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.PAUSE: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.RESUME: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    A.FINISH: (frozenset({"officer", "leader"}), ("competent_agency",), True),
    # and only while the actor may take another action now (``_authorize_attach``)
    A.ATTACH: (frozenset({"clerk", "officer", "leader"}),
               ("receiving_agency", "competent_agency", "returning_agency"), False),
}
#: Actions that are never offered as a button of their own: ``attach`` is taken by uploading
#: a file (``engine.files.journal.attach``), and its rights follow the other actions'.
INTERNAL = frozenset({A.ATTACH.value})
#: Only a reception clerk guides an applicant at the counter (Mẫu 02, no dossier opened).
GUIDE_ROLES = COUNTER_ROLES


def authorize(action: Action, actor: Actor, dossier: Dossier, spec: ProcedureSpec) -> None:
    """Raise :class:`Forbidden` unless ``actor`` may take ``action`` on ``dossier`` now, and
    :class:`IllegalAction` when the dossier's state does not allow it — naming what *this*
    actor may do instead (the machine alone knows only what the state allows)."""
    roles, agency_fields, step_scoped = POLICY[action]
    if actor.role not in roles:
        raise Forbidden(f"vai trò “{_role_label(actor.role)}” không được thực hiện "
                        f"“{action.label_vi}”",
                        action=action.value, role=actor.role, allowed_roles=sorted(roles))
    if actor.role == APPLICANT and dossier.received_at is not None:
        raise Forbidden("hồ sơ đã được tiếp nhận: tài liệu bổ sung nộp tại Bộ phận Một cửa, "
                        "cán bộ tiếp nhận ghi nhận", action=action.value, role=actor.role)
    agencies = {getattr(dossier, f) for f in agency_fields}
    if actor.agency not in agencies:
        raise Forbidden(f"hồ sơ {dossier.code} không thuộc đơn vị của bạn nên bạn không được "
                        f"thực hiện “{action.label_vi}”", action=action.value)
    if step_scoped and dossier.state in (State.IN_PROCESSING, State.PAUSED):
        _authorize_step(action, actor, dossier, spec)
    _check_state(action, actor, dossier, spec)
    if action is A.ATTACH:
        _authorize_attach(actor, dossier, spec)


def _authorize_attach(actor: Actor, dossier: Dossier, spec: ProcedureSpec) -> None:
    """Files are attached at a step by whoever may act on the dossier at that moment (the
    clerk at receipt or return, the officer of the current step, the leader): the same
    people, so an officer of another step cannot slip a document into the file."""
    if not permitted_actions(dossier, spec, actor):
        raise Forbidden(f"lúc này bạn không có thao tác nào trên hồ sơ {dossier.code} nên "
                        "không được đính kèm tài liệu", action=A.ATTACH.value)


def _authorize_step(action: Action, actor: Actor, dossier: Dossier,
                    spec: ProcedureSpec) -> None:
    """A step-scoped action must be one of the current step's, by the step's role (a leader
    may act on any step)."""
    step = current_step_spec(dossier, spec)
    if step is None:
        return
    allowed = set(step.actions) | ({A.RESUME.value} if A.PAUSE.value in step.actions else set())
    if action.value not in allowed:
        raise Forbidden(f"bước “{step.name}” không cho phép “{action.label_vi}”",
                        action=action.value, step=step.id, allowed=sorted(allowed))
    if actor.role != step.role and actor.role != "leader":
        raise Forbidden(f"bước “{step.name}” do {_role_label(step.role).lower()} thực hiện",
                        action=action.value, step=step.id)


def _check_state(action: Action, actor: Actor, dossier: Dossier, spec: ProcedureSpec) -> None:
    """The state machine's refusal, said to the person who asked: the state by its label and
    the actions they may take now (``permitted``), not every action the state allows to
    someone (the machine still refuses on its own when it fires, for callers without
    a person: replays, the consistency check)."""
    possible = machine_of(spec).allowed_actions(dossier.state)
    if action.value in possible:
        return
    raise IllegalAction(action.value, dossier.state,
                        [a for a in possible if a not in INTERNAL],
                        permitted=permitted_actions(dossier, spec, actor))


def _role_label(role: str) -> str:
    """A role's Vietnamese name (the code itself for a role this version does not know)."""
    if role == APPLICANT:
        return "Người nộp hồ sơ"
    return Role(role).label_vi if role in Role._value2member_map_ else role


def applicant_actor(receiving_agency: str) -> Actor:
    """The applicant acting online on a dossier of ``receiving_agency``: the caller has
    proven who it is (the public submission's checks, or the dossier's secret). Only
    ``submit`` and, before receipt, ``receive_supplement`` are open to it (:data:`POLICY`);
    after receipt a supplement goes through the counter, which restarts the clock (T7)."""
    return Actor(id=APPLICANT, role=APPLICANT, agency=receiving_agency,
                 name="Người nộp hồ sơ")


def authorize_guidance(actor: Actor) -> None:
    """Guidance at the counter opens no dossier, so only the role is checked."""
    if actor.role not in GUIDE_ROLES:
        raise Forbidden("chỉ cán bộ tiếp nhận được hướng dẫn tại quầy", role=actor.role)


def current_step_spec(dossier: Dossier, spec: ProcedureSpec):
    """The procedure step the dossier is at, or None (not in processing, or an unknown id)."""
    if dossier.current_step is None:
        return None
    try:
        return spec.step(dossier.current_step)
    except KeyError:
        return None


#: Actions the state machine allows but the dossier's facts rule out (kept out of menus; the
#: action itself still explains why if someone tries).
PRECONDITIONS = {
    A.ACCEPT_TRANSFER.value: lambda d: d.boundary_free and d.clock_started_at is None,
    A.APOLOGISE.value: lambda d: d.apology_count == 0,
    A.FINISH.value: lambda d: d.clock_started_at is not None,
    A.RECORD_POSTAL_DELIVERY.value: lambda d: (d.return_method == "post"
                                               and bool(d.postal_tracking_number)
                                               and d.result_delivered_on is None),
}


def possible_actions(dossier: Dossier, spec: ProcedureSpec) -> list[str]:
    """Actions the state allows now, less those the dossier's facts rule out (and the
    internal ones, never a button)."""
    return [a for a in machine_of(spec).allowed_actions(dossier.state)
            if a not in INTERNAL and PRECONDITIONS.get(a, lambda _d: True)(dossier)]


def permitted_actions(dossier: Dossier, spec: ProcedureSpec, actor: Actor) -> list[str]:
    """The possible actions this actor may take (role, agency and step)."""
    permitted = []
    for name in possible_actions(dossier, spec):
        try:
            authorize(Action(name), actor, dossier, spec)
        except Forbidden:
            continue
        permitted.append(name)
    return permitted


def may_attach(dossier: Dossier, spec: ProcedureSpec, actor: Actor) -> bool:
    """Whether ``actor`` may attach files to ``dossier`` now (the page shows the form)."""
    try:
        authorize(A.ATTACH, actor, dossier, spec)
    except (Forbidden, IllegalAction):
        return False
    return True


def allowed_actions(session: Session, dossier: Dossier, actor: Actor | None = None, *,
                    spec: ProcedureSpec | None = None) -> list[str]:
    """Actions possible now; with ``actor``, only those this actor may take. ``spec``: the
    dossier's procedure version when the caller holds it (else read)."""
    spec = spec or spec_of(session, dossier)
    if actor is None:
        return possible_actions(dossier, spec)
    return permitted_actions(dossier, spec, actor)
