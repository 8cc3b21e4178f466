"""The work queue read as index ranges lists exactly what the single OR query listed.

``engine.lifecycle.worklist`` splits a scope into disjoint ranges (a clerk's receiving, then
returning agency; an auditor's granted competent, then receiving agencies), cuts each at a
page and merges them. Against the query it replaced — one condition, ``visible_to``, and the
same filters — on a seeded mix of agencies, states, equal and missing due dates: every page
walked by its cursor gives the same dossiers in the same order, none twice, none missing; and
the total is exact up to the bound, then said to be an estimate.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import and_, event, func, literal
from sqlmodel import Session, col, select

from engine.db import make_engine
from engine.lifecycle import worklist
from engine.lifecycle.models import Dossier
from engine.lifecycle.queries import dossier_search
from engine.lifecycle.states import TERMINAL, State
from engine.lifecycle.visibility import visible_to
from engine.users import AuditorGrant

TODAY = date(2026, 3, 2)
ENDED = datetime(2026, 3, 1, 3, tzinfo=UTC)
AGENCIES = ("A", "B", "C")
VIEWERS = {
    "clerk": SimpleNamespace(username="clerk", role="clerk", agency_code="A"),
    "officer": SimpleNamespace(username="officer", role="officer", agency_code="A"),
    "leader": SimpleNamespace(username="leader", role="leader", agency_code="B"),
    "auditor": SimpleNamespace(username="auditor", role="auditor", agency_code="C"),
}
FILTERS = [
    {},
    {"states": ("in_processing", "received")},
    {"states": ("returned", "awaiting_supplement")},
    {"include_closed": True},
    {"procedure": "P1"},
    {"due_before": TODAY},
    {"due_after": TODAY - timedelta(days=3)},
    {"overdue": True},
    {"overdue": False, "include_closed": True},
    {"assignee": "officer"},
    {"q": "nguyen", "include_closed": True},
    {"q": "0912000007"},
]
STATES = [s.value for s in State if s is not State.NEW]


def _seed(session, count: int = 90) -> None:
    """Dossiers over three agencies in every role, every state, due dates often equal (the
    id breaks ties) or missing (last); the auditor is granted A and B."""
    rng = random.Random(18)
    for n in range(count):
        state = rng.choice(STATES)
        due = None if n % 9 == 0 else TODAY + timedelta(days=rng.randint(-6, 6))
        session.add(Dossier(
            code=f"A-260302-{n:04d}", secret="s", procedure_code=rng.choice(["P1", "P2"]),
            procedure_version=date(2025, 1, 1), procedure_name="Thủ tục", channel="counter",
            state=state, status_code=1, receiving_agency=rng.choice(AGENCIES),
            competent_agency=rng.choice(AGENCIES), returning_agency=rng.choice(AGENCIES),
            applicant_name="x", limit_amount=5, limit_unit="working_days",
            supplement_effect="restart", due_date=due,
            ended_at=ENDED if State(state) in TERMINAL and n % 5 else None,
            assignee=rng.choice(["officer", "other", None]),
            applicant_phone=f"0912{n:06d}",
            search_text=f"{'nguyen van' if n % 3 else 'tran thi'} {n}"))
    session.add_all([AuditorGrant(username="auditor", agency_code=a) for a in ("A", "B")])
    session.commit()


def _old_query(session, viewer, wanted: worklist.QueueFilter, sort: str) -> list[int]:
    """What ``GET /api/v1/dossiers`` ran before issue 18: one OR condition for the scope."""
    due_key = func.coalesce(col(Dossier.due_date), literal(date.max))
    query = select(Dossier.id).where(visible_to(session, viewer))
    if wanted.states:
        query = query.where(col(Dossier.state).in_(wanted.states))
    elif not wanted.include_closed:
        query = query.where(col(Dossier.state).not_in([s.value for s in TERMINAL]))
    if wanted.procedure:
        query = query.where(Dossier.procedure_code == wanted.procedure)
    if wanted.due_before:
        query = query.where(col(Dossier.due_date) <= wanted.due_before)
    if wanted.due_after:
        query = query.where(col(Dossier.due_date) >= wanted.due_after)
    if wanted.overdue is not None:
        late = and_(col(Dossier.ended_at).is_(None), col(Dossier.due_date) < wanted.today)
        query = query.where(late if wanted.overdue else ~late)
    if wanted.assignee:
        query = query.where(Dossier.assignee == wanted.assignee)
    found = dossier_search(wanted.q)
    if found is not None:
        query = query.where(found)
    order = (col(Dossier.id).desc(),) if sort == "newest" else (due_key, col(Dossier.id))
    return list(session.exec(query.order_by(*order)).all())


def _walk(session, viewer, wanted, sort: str, limit: int) -> list[int]:
    """Every page, each from the cursor of the one before."""
    ids: list[int] = []
    after = None
    for _ in range(100):
        items, after = worklist.page(session, viewer, wanted, sort=sort, after=after, limit=limit)
        ids += [d.id for d in items]
        if after is None:
            return ids
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", ["urgency", "newest"])
def test_the_ranges_list_what_the_or_query_listed_page_by_page(session, sort):
    _seed(session)
    for name, viewer in VIEWERS.items():
        for given in FILTERS:
            wanted = worklist.QueueFilter(today=TODAY, **given)
            expected = _old_query(session, viewer, wanted, sort)
            walked = _walk(session, viewer, wanted, sort, limit=4)
            assert walked == expected, (name, given)
            assert len(set(walked)) == len(walked)
            assert worklist.total(session, viewer, wanted) == worklist.Total(len(expected))
            page, _ = worklist.page(session, viewer, wanted, limit=4)
            facts = worklist.page_facts(session, viewer, wanted, page)  # the inbox's one read
            assert facts.total == worklist.Total(len(expected)), (name, given)
            assert set(facts.calendars) == {d.competent_agency for d in page}
    # The premise: the clerk's two ranges overlap (received and returned at A) and both list.
    clerk = _old_query(session, VIEWERS["clerk"], worklist.QueueFilter(
        today=TODAY, include_closed=True), sort)
    both = session.exec(select(func.count()).where(
        Dossier.receiving_agency == "A", Dossier.returning_agency == "A")).one()
    assert both > 0 and len(clerk) > 20


def test_the_total_beyond_the_bound_is_an_estimate_said_so(session):
    _seed(session)
    clerk = VIEWERS["clerk"]
    wanted = worklist.QueueFilter(today=TODAY, include_closed=True)
    exact = len(_old_query(session, clerk, wanted, "newest"))
    assert worklist.total(session, clerk, wanted, bound=exact) == worklist.Total(exact)
    beyond = worklist.total(session, clerk, wanted, bound=exact - 10)
    assert worklist.page_facts(session, clerk, wanted, [], bound=exact - 10).total == beyond
    if session.get_bind().dialect.name == "postgresql" and beyond.kind == "about":
        assert beyond.count > exact - 10  # the planner's estimate, above what we counted
    else:
        assert beyond == worklist.Total(exact - 10, "more_than")
    assert beyond.is_estimate


def test_a_planner_guess_below_the_bound_is_said_as_more_than_the_bound(session, monkeypatch):
    """Seen at 1M dossiers: "only mine" counted past 10,000 while the planner guessed a few
    hundred; "about 10,001" would have been a number we knew to be wrong."""
    _seed(session)  # (SQLite never asks the planner: "more than" there as well)
    clerk = VIEWERS["clerk"]
    wanted = worklist.QueueFilter(today=TODAY, include_closed=True)
    exact = len(_old_query(session, clerk, wanted, "newest"))
    monkeypatch.setattr(worklist, "planner_rows", lambda *_: 3)
    assert worklist.total(session, clerk, wanted, bound=exact - 10) == \
        worklist.Total(exact - 10, "more_than")


def test_the_planners_estimate_is_asked_once_a_minute_for_the_same_filters(session):
    """The estimate beyond the bound costs an ``EXPLAIN``: asked again for the same
    statement only after ``worklist.ESTIMATE_MAX_AGE`` (PostgreSQL; SQLite never asks)."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("only PostgreSQL gives an estimate")
    _seed(session)
    worklist._estimates.clear()  # whatever an earlier test asked on this engine
    clerk = VIEWERS["clerk"]
    wanted = worklist.QueueFilter(today=TODAY, include_closed=True)
    every = worklist._merged(worklist._ranges(session, clerk, wanted, (col(Dossier.id),),
                                              "newest", None, None))
    sent: list[str] = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        first = worklist.planner_rows(session, every)
        again = worklist.planner_rows(session, every)
        assert again == first and sum("EXPLAIN" in s for s in sent) == 1
        worklist.planner_rows(session, every, max_age=0)  # past its age: asked again
        assert sum("EXPLAIN" in s for s in sent) == 2
        other = worklist.QueueFilter(today=TODAY, include_closed=True, procedure="P1")
        worklist.planner_rows(session, worklist._merged(worklist._ranges(
            session, clerk, other, (col(Dossier.id),), "newest", None, None)))
        assert sum("EXPLAIN" in s for s in sent) == 3  # other filters, their own estimate
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_the_query_orders_by_the_index_expression():
    """SQLite uses an expression index only for the very same expression."""
    from sqlalchemy.dialects import postgresql, sqlite

    from engine.lifecycle.models import DUE_KEY_SQL
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        rendered = str(worklist.DUE_KEY.compile(dialect=dialect))
        assert rendered.replace("dossier.", "") == DUE_KEY_SQL


@pytest.fixture
def sqlite_session(sqlite_template, tmp_path):
    """SQLite only (PostgreSQL's plans: tests/service/test_list_plans_pg.py)."""
    path = tmp_path / "plans.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_sqlite_can_read_the_inbox_from_the_open_index_in_order(sqlite_session):
    """The partial index's predicate and expression match the query's word for word: forced
    onto it (``INDEXED BY`` fails when an index cannot serve), SQLite reads it in order."""
    session = sqlite_session
    _seed(session)
    ranges = {"clerk": ["receiving", "returning"], "officer": ["competent"],
              "leader": ["competent"], "auditor": ["competent", "receiving"]}
    for name, scopes in ranges.items():
        statement = worklist.page_query(session, VIEWERS[name], worklist.QueueFilter(today=TODAY),
                                        limit=5)
        sql = str(statement.compile(dialect=session.get_bind().dialect,
                                    compile_kwargs={"literal_binds": True}))
        pieces = sql.split("FROM dossier")
        assert len(pieces) == len(scopes) + 1
        forced = pieces[0] + "".join(f"FROM dossier INDEXED BY ix_dossier_{scope}_open{rest}"
                                     for scope, rest in zip(scopes, pieces[1:], strict=True))
        plan = [str(row[-1]) for row in session.connection().exec_driver_sql(
            f"EXPLAIN QUERY PLAN {forced}")]
        if name == "auditor":  # several agencies per range: served, but each sorted
            continue
        # Each range read in order; only the merge of a few pages' rows is sorted.
        assert sum("TEMP B-TREE" in step for step in plan) == (len(scopes) > 1), plan
