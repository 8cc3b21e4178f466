"""Sample dossiers made through the real lifecycle, for the tests and the benchmarks.

One small world — a provincial one-stop centre (*Trung tâm Phục vụ hành chính công*), a
department served by it, a commune centre, and one four-step procedure (reception → appraisal →
approval → return) with a clerk, an officer and a leader — and helpers that make dossiers by
*acting* on it (``receive`` and ``act``, as the API does), never by writing rows: a sample
dossier has the events, hash chain, hand-offs, documents and counters of a real one, so what a
test or a benchmark measures on it is what the service would do.

The world is plain data and the helpers take a session, so this module loads nothing (no
shipped catalogue, no agency tree) and imports nothing above the engine; a caller that wants
the shipped catalogue loads it first and names its procedure and agencies here. The printed
sample of ``motcua print --sample`` (``printouts/sample.py``) is different on purpose: rows
never saved, with one document of every form.

    seed_world(session); session.commit()
    d = received(session)                              # at the counter, complete, 03/03/2025
    d = processed_to(session, State.RESULT_READY)      # received, transferred, forwarded, finished
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from engine.agencies import Agency
from engine.lifecycle import ActionResult, Actor, Applicant, act, receive
from engine.lifecycle.models import Dossier
from engine.lifecycle.states import State
from engine.procedures import ComponentSpec, ProcedureSpec, save_version, version_in_force
from engine.timezone import assume_local, to_local

# ----- the world ------------------------------------------------------------------------------

CENTRE = "000.00.00.H31"  # provincial public-administration service centre (one-stop)
DEPT = "000.00.10.H31"  # a department, competent agency served by the centre
COMMUNE = "000.01.00.H31"  # a commune centre (one-stop and competent for commune procedures)

#: A procedure of 5 working days (3 from 01/07/2025, see :func:`seed_world`) whose steps allow
#: every processing action, so that one procedure serves every lifecycle test.
PROCEDURE: dict[str, Any] = {
    "code": "1.000001", "name": "Cấp giấy phép thử nghiệm", "field": "Thử nghiệm",
    "level": "tinh", "effective_from": "2019-01-01",
    "time_limit": {"amount": 5, "unit": "working_days"},
    "supplement_effect": "restart",
    "pause_reasons": ["Xác minh thực địa"],
    "components": [{"name": "Đơn đề nghị", "originals": 1, "copies": 0},
                   {"name": "Bản sao giấy tờ tùy thân", "originals": 0, "copies": 1}],
    "steps": [
        {"id": "receive", "name": "Tiếp nhận", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"},
         "actions": ["receive", "transfer", "refuse_at_reception"]},
        {"id": "appraise", "name": "Thẩm định", "role": "officer", "unit": "competent",
         "budget": {"amount": 3, "unit": "working_days"},
         "actions": ["forward", "request_supplement", "consult", "pause", "request_payment",
                     "finish"]},
        {"id": "approve", "name": "Ký duyệt", "role": "leader", "unit": "competent",
         "budget": {"amount": 1, "unit": "working_days"},
         "actions": ["finish", "send_back", "refuse", "forward"]},
        {"id": "return", "name": "Trả kết quả", "role": "clerk", "unit": "one_stop",
         "budget": {"amount": 4, "unit": "working_hours"}, "actions": ["return_result"]},
    ],
    "result": {"type": "Giấy phép", "is_document": True},
}
PROCEDURE_CODE: str = PROCEDURE["code"]

CLERK = Actor("clerk1", "clerk", CENTRE, "Nguyễn Thị Lan")
OFFICER = Actor("officer1", "officer", DEPT, "Trần Văn Minh")
LEADER = Actor("leader1", "leader", DEPT, "Lê Văn Hùng")
COMMUNE_CLERK = Actor("clerk2", "clerk", COMMUNE, "Phạm Thị Hoa")
APPLICANT = Applicant(name="Nguyễn Văn An", id_number="031203004567",
                      address="Số 5 Lạch Tray, Hải Phòng", phone="0912345678")


def complete_components(components: Sequence[ComponentSpec | Mapping[str, Any]]
                        ) -> list[dict[str, Any]]:
    """What an applicant hands in when nothing is missing: every component of a procedure
    (a spec's or a procedure file's) with the originals and copies it asks for."""
    out = []
    for c in components:
        if isinstance(c, ComponentSpec):
            out.append({"name": c.name, "originals": c.originals, "copies": c.copies})
        else:
            out.append({"name": c["name"], "originals": int(c.get("originals", 0)),
                        "copies": int(c.get("copies", 0))})
    return out


#: The complete components of :data:`PROCEDURE` (the default of :func:`received`).
COMPONENTS = complete_components(PROCEDURE["components"])

#: The default instant of receipt: Monday 03/03/2025 09:00, a working day under the
#: 2019 version (5 working days).
RECEIVED_AT = assume_local(datetime(2025, 3, 3, 9, 0))


def local(text: str) -> datetime:
    """An aware instant from local wall-clock text (``"2025-03-03T09:00"``), how the tests and
    the domain notes write times."""
    return assume_local(datetime.fromisoformat(text))


def world_agencies() -> list[Agency]:
    """New rows of the world's three agencies (new each call: a row belongs to one session)."""
    return [
        Agency(code=CENTRE, name="Trung tâm Phục vụ hành chính công thành phố Hải Phòng",
               short_name="TTPVHCC Hải Phòng", level="tinh", place_name="Hải Phòng",
               is_one_stop=True),
        Agency(code=DEPT, name="Sở Thử nghiệm", short_name="Sở TN", level="tinh",
               place_name="Hải Phòng", one_stop_code=CENTRE),
        Agency(code=COMMUNE, name="Trung tâm Phục vụ hành chính công phường Lê Chân",
               short_name="TTPVHCC Lê Chân", level="xa", place_name="Hải Phòng",
               is_one_stop=True, one_stop_code=COMMUNE),
    ]


def seed_world(session: Session) -> None:
    """Add the agencies and both versions of :data:`PROCEDURE` (the second, in force from
    01/07/2025, cuts the time limit to 3 working days, so tests cross a version change).
    The caller commits: a test in its session, a benchmark in ``session_scope``."""
    session.add_all(world_agencies())
    save_version(session, spec=ProcedureSpec.from_dict(PROCEDURE))
    later = dict(PROCEDURE, effective_from="2025-07-01",
                 time_limit={"amount": 3, "unit": "working_days"})
    save_version(session, spec=ProcedureSpec.from_dict(later))


# ----- dossiers -------------------------------------------------------------------------------

def received(session: Session, *, at: datetime = RECEIVED_AT, actor: Actor = CLERK,
             procedure_code: str = PROCEDURE_CODE, applicant: Applicant = APPLICANT,
             components: Sequence[Mapping[str, Any]] | None = None,
             competent_agency: str | None = DEPT, **options: Any) -> Dossier:
    """A dossier received at the counter through :func:`engine.lifecycle.receive` (not
    committed). Without ``components``, every component of the procedure version in force on
    that day is handed in complete; ``options`` go to ``receive`` as they are (``channel``,
    ``online``, ``returning_agency`` …)."""
    if components is None:
        components = COMPONENTS if procedure_code == PROCEDURE_CODE else complete_components(
            version_in_force(session, code=procedure_code, on=to_local(at).date()).components)
    return receive(session, actor=actor, procedure_code=procedure_code, applicant=applicant,
                   components=list(components), competent_agency=competent_agency, at=at,
                   **options).dossier


@dataclass(frozen=True, slots=True)
class Move:
    """One action of a path: who takes it, with what payload, and the state it leads to."""

    action: str
    actor: Actor
    reaches: State
    payload: Mapping[str, Any] = field(default_factory=dict)


#: The usual life after receipt (the benchmark's five transactions with the receipt): the
#: clerk transfers, the officer forwards to the leader, the leader finishes, the clerk returns
#: the result (to the applicant: the engine records them as the collector by default).
STANDARD_PATH: tuple[Move, ...] = (
    Move("transfer", CLERK, State.IN_PROCESSING),
    Move("forward", OFFICER, State.IN_PROCESSING, {"assignee": LEADER.id}),
    Move("finish", LEADER, State.RESULT_READY),
    Move("return_result", CLERK, State.RETURNED),
)


def advance(session: Session, code: str, move: Move, *, at: datetime) -> ActionResult:
    """Take one move on the dossier ``code`` through :func:`engine.lifecycle.act` (not
    committed: one move is one transaction of the caller's)."""
    return act(session, code=code, action=move.action, actor=move.actor, at=at,
               payload=dict(move.payload))


def processed_to(session: Session, state: State | str, *, at: datetime = RECEIVED_AT,
                 spacing: timedelta = timedelta(hours=1), **receive_options: Any) -> Dossier:
    """A dossier received at ``at`` and taken along :data:`STANDARD_PATH` until it first is in
    ``state``, each action ``spacing`` after the previous one and committed on its own, as the
    API commits one action per request. ``receive_options`` go to :func:`received`."""
    target = State(state)
    if target != State.RECEIVED and target not in {m.reaches for m in STANDARD_PATH}:
        raise ValueError(f"{target.value!r} is not on the standard path: "
                         "take the other actions with engine.lifecycle.act")
    dossier = received(session, at=at, **receive_options)
    session.commit()
    when = at
    for move in STANDARD_PATH:
        if dossier.state == target:
            break
        when += spacing
        dossier = advance(session, dossier.code, move, at=when).dossier
        session.commit()
    return dossier


__all__ = ["APPLICANT", "CENTRE", "CLERK", "COMMUNE", "COMMUNE_CLERK", "COMPONENTS", "DEPT",
           "LEADER", "OFFICER", "PROCEDURE", "PROCEDURE_CODE", "RECEIVED_AT", "STANDARD_PATH",
           "Move", "advance", "complete_components", "local", "processed_to", "received",
           "seed_world", "world_agencies"]
