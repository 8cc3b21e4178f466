"""Every work-queue list is an index read at 100,000 dossiers on PostgreSQL (issue 18).

The dossiers are copied in one ``INSERT … SELECT generate_series`` from one received through
the API (a few seconds), spread over many agencies like a province's table — about one in ten
open, the demo agencies a share of the rest — and analysed. Each scope (officer, leader,
clerk, auditor) then asks ``GET /api/v1/dossiers`` with each filter; every statement the
request sends to the database is captured as sent and explained: no plan may read ``dossier``
sequentially. The planner picks a sequential scan only when it believes it cheaper, so the
data has to be large and spread for the test to mean something.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from .conftest import login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))

ROWS = 100_000
OFFICER_AGENCY = "000.00.31.H26"  # the demo officer's and leader's (service/auth.py)
CLERK_AGENCY = "000.01.31.H26"

#: How each copy differs from the template (``t``) by its number ``g``: a tenth of the demo
#: agencies' share is open, due dates spread over a year and a half, names and phones varied.
VARIED = {
    "code": "t.code || g",  # still a whole code (its number grows digits)
    "secret": "md5(g::text)",
    "state": ("CASE WHEN g % 10 = 0 THEN (ARRAY['received', 'in_processing', 'paused', "
              "'awaiting_supplement', 'result_ready'])[1 + (g / 10) % 5] "
              "ELSE (ARRAY['returned', 'returned', 'withdrawn', 'stopped'])[1 + g % 4] END"),
    "competent_agency": f"CASE WHEN g % 7 = 0 THEN '{OFFICER_AGENCY}' ELSE 'X.' || g % 61 END",
    "receiving_agency": f"CASE WHEN g % 11 = 0 THEN '{CLERK_AGENCY}' ELSE 'R.' || g % 53 END",
    "returning_agency": f"CASE WHEN g % 13 = 0 THEN '{CLERK_AGENCY}' ELSE 'R.' || g % 53 END",
    "procedure_code": "(SELECT array_agg(code ORDER BY code, effective_from) "
                      "FROM procedure_version)[1 + g % (SELECT count(*) FROM procedure_version)]",
    "procedure_version": "(SELECT array_agg(effective_from ORDER BY code, effective_from) FROM "
                         "procedure_version)[1 + g % (SELECT count(*) FROM procedure_version)]",
    "due_date": "CASE WHEN g % 50 = 0 THEN NULL ELSE DATE '2025-01-01' + g % 540 END",
    "ended_at": "CASE WHEN g % 10 = 0 THEN NULL ELSE t.received_at END",
    "assignee": "CASE WHEN g % 4 = 0 THEN 'officer' ELSE 'u' || g % 40 END",
    "applicant_name": "'Người nộp ' || g",
    "applicant_phone": "'09' || lpad((g % 100000000)::text, 8, '0')",
    "applicant_id_number": "lpad(g::text, 12, '0')",
    "search_text": "'nguoi nop ' || g || ' ' || lower(t.code) || g",
    "portal_id": "NULL",
}

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


#: The indexes the queue reads (migration 0019) and the keys; the table's other indexes (the
#: reports', the sweeps') are set aside while the rows are loaded — keeping them would triple
#: the load — and put back on the emptied table after. Fewer indexes can only make the planner
#: likelier to scan the table, so the test proves that these suffice.
QUEUE_INDEXES = re.compile(r"^(dossier_pkey|dossier_code_key|"
                           r"ix_dossier_(competent|receiving|returning)_(open|due|id)|"
                           r"ix_dossier_applicant_(phone|id_number))$")


def _load(connection) -> tuple[str, list[str]]:
    """One dossier received through the API, copied ``ROWS`` times in one statement: its
    code (the template), whose copies are ``<code><n>``, and the definitions of the indexes
    set aside."""
    set_aside = []
    for name, definition in connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = 'dossier'")).all():
        if not QUEUE_INDEXES.match(name):
            connection.execute(text(f'DROP INDEX "{name}"'))
            set_aside.append(definition)
    columns = list(connection.execute(text(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = 'dossier' AND column_name <> 'id' "
        "AND is_generated = 'NEVER' ORDER BY ordinal_position")).scalars())
    template = connection.execute(text("SELECT code FROM dossier")).scalar_one()
    values = ", ".join(VARIED.get(c, f"t.{c}") for c in columns)
    connection.execute(text(
        f"INSERT INTO dossier ({', '.join(columns)}) SELECT {values} "
        f"FROM dossier t, generate_series(1, {ROWS}) g WHERE t.code = :code"), {"code": template})
    connection.execute(text("ANALYZE dossier"))
    return template, set_aside


@contextmanager
def _statements(engine) -> Iterator[list[tuple[str, Any]]]:
    """The statements ``engine`` sends while the block runs, as sent (text and parameters)."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def _nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _dossier_seq_scans(engine, statement: str, parameters: Any) -> list[str]:
    """The sequential scans of ``dossier`` in the plan of ``statement`` with its parameters."""
    with engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement,
                                          parameters).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return [f"{n['Node Type']} on dossier ({n.get('Filter', '')})" for n in _nodes(plan[0]["Plan"])
            if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == "dossier"]


READS_DOSSIER = re.compile(r"\bFROM dossier\b", re.IGNORECASE)

#: One request per filter; ``{template}`` is the received dossier's code.
FILTERS: list[dict[str, Any]] = [
    {},
    {"state": "in_processing"},
    {"state": ["returned", "awaiting_supplement"]},
    {"include_closed": "true"},
    {"procedure": "{procedure}"},
    {"due_before": "2025-03-01"},
    {"due_after": "2026-05-01"},
    {"due_after": "2025-06-01", "due_before": "2025-06-30"},
    {"overdue": "true"},
    {"overdue": "false"},
    {"mine": "true"},
    {"q": "0900001234"},
    {"q": "000000004321"},
    {"q": "{template}70"},
    {"q": "nop 4242"},
    {"q": "nop 4242", "include_closed": "true", "sort": "newest", "limit": "20"},
    {"sort": "newest"},
    {"sort": "newest", "include_closed": "true"},
    {"state": "submitted", "sort": "newest"},
]


@pytest.fixture
def loaded(client, db_engine, monkeypatch) -> Iterator[str]:
    # The default bound, 10,000 of 1,000,000 dossiers, is a hundredth of the table; here a
    # tenth would be, and reading a tenth of a table is where a scan may rightly win.
    monkeypatch.setenv("MOTCUA_QUEUE_COUNT_BOUND", str(ROWS // 100))
    clerk = login(client, "clerk")
    assert client.post("/api/v1/dossiers", json=EXAMPLE, headers=clerk).status_code == 201
    with db_engine.begin() as connection:
        template, set_aside = _load(connection)
    yield template
    with db_engine.begin() as connection:  # the worker's schema as migrated, for what follows
        connection.execute(text("TRUNCATE dossier RESTART IDENTITY CASCADE"))
        for definition in set_aside:
            connection.execute(text(definition))


def test_no_queue_list_reads_the_dossier_table_sequentially(client, loaded):
    engine = client.app.state.engine
    # The premise: scopes larger than the bound; the clerk's total is the planner's estimate.
    page = client.get("/api/v1/dossiers", params={"include_closed": "true"},
                      headers=login(client, "clerk")).json()
    assert page["total_is_estimate"] and page["total_estimate"] == "about"
    assert 10_000 < page["total"] < 30_000  # receiving 1/11 or returning 1/13: ~16,800
    explained, found = 0, []
    for username in ("officer", "leader", "clerk", "auditor"):
        headers = login(client, username)
        for wanted in FILTERS:
            params = {k: (v.format(template=loaded, procedure=EXAMPLE["procedure"])
                          if isinstance(v, str) else v) for k, v in wanted.items()}
            with _statements(engine) as sent:
                first = client.get("/api/v1/dossiers", params=params, headers=headers)
                assert first.status_code == 200, first.text
                if first.json()["next_cursor"]:  # the second page, from the cursor
                    second = client.get("/api/v1/dossiers", headers=headers, params={
                        **params, "cursor": first.json()["next_cursor"]})
                    assert second.status_code == 200, second.text
            for statement, parameters in sent:
                if READS_DOSSIER.search(statement) and not statement.startswith("EXPLAIN"):
                    explained += 1
                    found += [f"{username} {wanted}: {scan}\n{statement}"
                              for scan in _dossier_seq_scans(engine, statement, parameters)]
    assert explained >= 4 * 2 * len(FILTERS)  # the count and the page of every request at least
    assert found == [], "\n\n".join(found)
