"""An action reads what it needs in one statement and writes each changed row once, and what it
reads through the caches (calendars, procedure versions) is still current."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy

from sqlalchemy import event
from sqlmodel import select

from engine.calendar import DayEntry, DayKind
from engine.calendar.store import save_day
from engine.lifecycle import get_dossier, reproject_open_dossiers
from engine.lifecycle.models import DossierStep
from engine.procedures import ProcedureSpec, save_version

from .conftest import CLERK, DEPT, OFFICER, PROCEDURE
from .flow import do, receive_ok


@contextmanager
def statements(session) -> Iterator[list[str]]:
    """The SQL statements ``session`` runs inside the block (its transaction already begun)."""
    seen: list[str] = []
    bind = session.connection().engine

    def record(conn, cursor, statement, *args):
        # These tests act on 2025 dates: to the server's clock every action is a backdated
        # entry, which moves the reports' data version (engine/data_version.py, one row
        # written once per transaction). That row is not the action's own cost.
        if "report_data_version" not in statement:
            seen.append(" ".join(statement.split())[:80])

    event.listen(bind, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(bind, "before_cursor_execute", record)


def test_an_action_reads_once_and_writes_each_changed_row_once(world):
    code = receive_ok(world, "2025-03-03T08:00").code
    with statements(world) as seen:
        do(world, code, "transfer", CLERK, "2025-03-03T09:00")
    reads = [s for s in seen if s.startswith("SELECT")]
    writes = [s for s in seen if not s.startswith("SELECT")]
    # The dossier (row-locked on PostgreSQL), then one UNION ALL of everything else.
    assert len(reads) == 2, seen
    # The dossier with its version check, the closed and the opened hand-off row, the event.
    assert [w.split()[0] + " " + w.split()[1 if w.startswith("UPDATE") else 2] for w in writes] \
        == ["UPDATE dossier", "UPDATE dossier_step", "INSERT dossier_step",
            "INSERT dossier_event"], seen


def test_receiving_writes_each_new_row_once(world):
    with statements(world) as seen:
        receive_ok(world, "2025-03-03T08:00")
    inserts = [s.split()[2] for s in seen if s.startswith("INSERT") and "counter" not in s]
    assert inserts == ["dossier", "dossier_step", "dossier_event", "issued_document"], seen
    assert not [s for s in seen if s.startswith("UPDATE")], seen


def test_an_action_uses_a_day_off_entered_after_the_dossier_was_received(world):
    d = receive_ok(world, "2025-03-03T08:00")  # Monday; the limit is in working days
    due_before = d.due_date
    save_day(world, entry=DayEntry(due_before, DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)
    world.commit()

    do(world, d.code, "transfer", CLERK, "2025-03-03T09:00")

    world.expire_all()
    assert get_dossier(world, d.code).due_date > due_before


def test_an_action_follows_a_procedure_version_reloaded_after_receipt(world):
    d = receive_ok(world, "2025-03-03T08:00")
    renamed = deepcopy(PROCEDURE)
    renamed["steps"][1]["name"] = "Thẩm định hồ sơ (sửa)"
    save_version(world, spec=ProcedureSpec.from_dict(renamed))
    world.commit()

    do(world, d.code, "transfer", CLERK, "2025-03-03T09:00")

    opened = world.exec(select(DossierStep).where(DossierStep.step_id == "appraise")).one()
    assert opened.step_name == "Thẩm định hồ sơ (sửa)"
    do(world, d.code, "forward", OFFICER, "2025-03-04T09:00", payload={"assignee": "leader1"})


def test_a_calendar_edit_moves_an_open_dossier_and_bumps_its_version(world):
    d = receive_ok(world, "2025-03-03T08:00")
    code, due_before, version = d.code, d.due_date, d.version
    save_day(world, entry=DayEntry(due_before, DayKind.LOCAL_OFF, "Mất điện toàn khu"),
             agency_code=DEPT)

    moved = reproject_open_dossiers(world, agency_code=DEPT)
    world.commit()

    assert [m["code"] for m in moved] == [code]
    world.expire_all()
    again = get_dossier(world, code)
    assert again.due_date > due_before
    assert again.version == version + 1
