"""``motcua import``: validated line by line, idempotent on the code, marked imported, hash
chained, replaying to the stored state, with the columns the lifecycle writes."""

from __future__ import annotations

import json

from sqlmodel import select

from engine.lifecycle import audit
from engine.lifecycle.consistency import find_inconsistencies
from engine.lifecycle.models import Dossier, DossierEvent
from engine.reports.history import import_lines

from .dataset import CENTRE, DEPT, ev, jsonl, line


def test_reimporting_the_same_file_is_a_no_op(dataset):
    before = dataset.exec(select(DossierEvent.id)).all()
    again = import_lines(dataset, jsonl().splitlines())
    assert again.ok and again.imported == 0 and again.skipped == len(jsonl().splitlines())
    dataset.commit()
    assert dataset.exec(select(DossierEvent.id)).all() == before


def test_lines_without_a_code_get_a_stable_code(world):
    raw = line("x", [ev("2026-03-02T09:00", "received")])
    del raw["code"]
    text = json.dumps(raw)
    first = import_lines(world, [text])
    world.commit()
    second = import_lines(world, [text])
    assert first.imported == 1 and second.skipped == 1
    assert first.codes[0].startswith(f"{CENTRE}-260302-H")


def test_errors_name_the_line_and_nothing_is_written(world):
    good = json.dumps(line("ok-1", [ev("2026-03-02T09:00", "received")]))
    lines = [
        good,
        "{not json",
        json.dumps(line("bad-kind", [ev("2026-03-02T09:00", "receivedx")])),
        "",
        json.dumps({**line("bad-agency", [ev("2026-03-02T09:00", "received")]),
                    "agency": "nope"}),
        json.dumps(line("bad-order", [ev("2026-03-02T09:00", "received"),
                                      ev("2026-03-01T09:00", "result_ready")])),
        json.dumps(line("bad-proc", [ev("2026-03-02T09:00", "received")],
                        procedure="9.999999")),
        json.dumps(line("bad-machine", [ev("2026-03-02T09:00", "received"),
                                        ev("2026-03-03T09:00", "supplement_requested"),
                                        ev("2026-03-04T09:00", "apology", reason="x",
                                           new_due="2026-03-20")])),
        json.dumps({k: v for k, v in line("no-proc", [ev("2026-03-02T09:00", "received")])
                    .items() if k != "procedure"}),
    ]
    result = import_lines(world, lines)
    world.rollback()
    assert [e.line for e in result.errors] == [2, 3, 5, 6, 7, 8, 9]
    text = [str(e) for e in result.errors]
    assert text[0].startswith("dòng 2: JSON không hợp lệ")
    assert "dòng 3: events[0]: loại sự kiện không hợp lệ" in text[1]
    assert "dòng 5:" in text[2] and "nope" in text[2]
    assert "dòng 6: events[1]: các sự kiện phải theo thứ tự thời gian" in text[3]
    assert "dòng 7:" in text[4] and "9.999999" in text[4]
    assert "dòng 8: events[2] (apology)" in text[5]
    assert text[6] == "dòng 9: thiếu trường 'procedure'"
    assert world.exec(select(Dossier)).all() == []


def test_imported_dossiers_are_marked_chained_and_replay_to_their_state(dataset):
    dossiers = dataset.exec(select(Dossier)).all()
    assert dossiers and all(d.imported for d in dossiers)
    events = dataset.exec(select(DossierEvent)).all()
    assert all(e.imported for e in events)
    checked, broken = audit.verify(dataset)
    assert checked == len(dossiers) and broken == []
    assert find_inconsistencies(dataset) == []


def test_import_writes_the_lifecycle_columns(dataset):
    d = dataset.exec(select(Dossier).where(Dossier.code == "m-supplement-twice")).one()
    assert (d.state, d.status_code, d.end_kind) == ("result_ready", 9, "result_ready")
    assert (d.supplement_count, d.apology_count) == (2, 0)
    assert "supplement_repeated" in d.flags
    assert str(d.original_due_date) == "2026-03-09" and str(d.due_date) == "2026-03-13"
    assert d.competent_agency == DEPT and d.receiving_agency == CENTRE
    assert d.register_year == 2026 and d.register_number
    r = dataset.exec(select(Dossier).where(Dossier.code == "case10")).one()
    assert (r.state, r.status_code, r.returned_at is not None) == ("returned", 10, True)
    a = dataset.exec(select(Dossier).where(Dossier.code == "m-apology-in-time")).one()
    assert (str(a.due_date), str(a.appointment_date), a.apology_count) == (
        "2026-03-05", "2026-03-10", 1)
    actions = [e.action for e in dataset.exec(
        select(DossierEvent).where(DossierEvent.dossier_id == a.id)
        .order_by(DossierEvent.seq)).all()]
    assert actions == ["receive", "transfer", "apologise", "finish"]
    transfer = dataset.exec(select(DossierEvent).where(DossierEvent.dossier_id == a.id,
                                                       DossierEvent.seq == 2)).one()
    assert transfer.payload["synthetic"] is True and "clock" not in transfer.payload
