"""The dossier lifecycle: the public face of ``engine/lifecycle/``.

Import what you need from here (``from engine.lifecycle import receive, act, Actor``). The
modules behind it are the stages an action goes through, in order (docs/lifecycle.md):

``commands`` (receive, refuse at reception, guide, act) → ``unit_of_work`` (authorise with
``policy``, fire the shared ``machine``, run the ``effects`` of the stage, replay the clock with
``projection``, chain the event with ``audit``, compare-and-set, ``after_effects``), with
``queries`` for reading, ``visibility`` for who may see, ``urgency`` for the inbox badges,
``documents`` and ``handoffs`` for the forms and control-sheet rows the effects produce.
"""

from engine.lifecycle.commands import act, guide, receive, refuse_at_reception
from engine.lifecycle.documents import record_reprint
from engine.lifecycle.effects import after_effects
from engine.lifecycle.inputs import Actor, Applicant, missing_components
from engine.lifecycle.moves import AppointmentMove, moves_of
from engine.lifecycle.policy import allowed_actions
from engine.lifecycle.projection import (
    clock_events,
    clock_policy_for,
    store_report_columns,
    write_verdict,
)
from engine.lifecycle.queries import documents_of, events_of, get_dossier, spec_of, steps_of
from engine.lifecycle.reprojection import reproject_open_dossiers
from engine.lifecycle.unit_of_work import ActionResult

__all__ = [
    "ActionResult", "Actor", "Applicant", "AppointmentMove", "act", "after_effects",
    "allowed_actions", "clock_events", "clock_policy_for", "documents_of", "events_of",
    "get_dossier", "guide",
    "missing_components", "moves_of", "receive", "record_reprint", "refuse_at_reception",
    "reproject_open_dossiers", "spec_of", "steps_of", "store_report_columns", "write_verdict",
]
