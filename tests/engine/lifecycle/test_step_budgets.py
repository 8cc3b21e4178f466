"""Step budgets (issue 15: "a control sheet showed step 3's deadline before step 2's").

Investigated: each hand-off row's deadline is the step's own budget counted from the instant
that step received the dossier (``engine.lifecycle.handoffs.open_step``), as the control sheet
classifies each hand-off against its own time (TT 01/2018 Art 13(2); docs/deadlines.md). A step
that hands over early gives the next one its full budget from then, so the next deadline may
fall before the previous step's (already met) one. These tests pin that reading down on the
four-step sample procedure (reception 4 h → appraisal 3 working days → approval 1 working day →
return 4 h)."""

from __future__ import annotations

from engine.calendar.store import load_calendar
from engine.deadline import compute_due
from engine.lifecycle import spec_of, steps_of

from .conftest import DEPT, LEADER, OFFICER, at
from .flow import do, in_processing


def test_each_step_deadline_counts_its_budget_from_when_that_step_received_the_dossier(world):
    s = world
    d = in_processing(s, "2026-12-04T09:00", "2026-12-04T09:05")  # Friday
    do(s, d.code, "forward", OFFICER, "2026-12-04T16:00")  # appraisal done the same day
    rows = {r.step_id: r for r in steps_of(s, d)}
    appraise, approve = rows["appraise"], rows["approve"]
    assert appraise.due_at == at("2026-12-09T17:00")  # Fri + 3 working days (Mon–Wed)
    assert approve.due_at == at("2026-12-07T17:00")  # Fri 16:00 + 1 working day (Mon)
    # the third step's deadline precedes the second's: the second finished early, not wrong
    assert approve.due_at < appraise.due_at
    assert appraise.classification == "early"
    calendar = load_calendar(s, agency_code=DEPT)
    spec = {st.id: st for st in spec_of(s, d).steps}
    for row in (appraise, approve):
        assert row.due_at == compute_due(row.started_at, spec[row.step_id].budget,
                                         calendar).due_at


def test_a_late_step_does_not_shorten_the_next_steps_budget(world):
    s = world
    d = in_processing(s, "2026-12-01T09:00", "2026-12-01T09:05")  # Tuesday
    do(s, d.code, "forward", OFFICER, "2026-12-07T10:00")  # appraisal late (due Fri 04/12)
    rows = {r.step_id: r for r in steps_of(s, d)}
    assert rows["appraise"].classification == "late"
    assert rows["approve"].due_at == at("2026-12-08T17:00")  # its own full working day
    do(s, d.code, "finish", LEADER, "2026-12-08T09:00")
    # same day as its deadline: on time (day granularity for day budgets)
    assert {r.step_id: r.classification for r in steps_of(s, d)}["approve"] == "on_time"
