"""The work queue (*hộp thư xử lý*) as index ranges: a page, and a total that stays cheap.

At 1M dossiers the inbox was a sequential scan of the whole table (issue 18): the scope was
one OR condition and the order an expression no index held. Here each scope column is one
index range read in the order of the page (migration 0019: ``(agency, due key, id)`` over the
open dossiers, ``(agency, id)`` over all), each range stops after a page, and the ranges are
merged — a clerk's receiving and returning agency are two short ordered reads, not an OR over
the table. The ranges come from ``engine.lifecycle.visibility.visible_ranges`` and are
disjoint, so the merge needs no de-duplication.

The total counts exactly up to a bound; beyond it the database's own estimate (PostgreSQL's
planner) or "more than the bound" (SQLite), said so to the reader: counting 100,000 matching
rows to print one number would cost more than the page.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    null,
    text,
    tuple_,
    union_all,
)
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from engine.calendar import WorkingCalendar
from engine.calendar.store import REVISION_SELECTS, calendar_layers, calendars_from_revision
from engine.lifecycle.models import QUEUE_OPEN, Dossier
from engine.lifecycle.queries import dossier_search
from engine.lifecycle.states import TERMINAL
from engine.lifecycle.visibility import Viewer, visible_ranges
from engine.procedures import ProcedureSpec, ProcedureVersionRow, versions_from_rows
from engine.timezone import read_instant

Sort = Literal["urgency", "newest"]
#: The last dossier of the previous page: ``(due key, id)`` by urgency, ``(None, id)`` newest.
After = tuple[date | None, int]
#: The due key of a dossier with no due date: after every real one (``DUE_KEY_SQL``).
NO_DUE = date.max
#: Default of ``MOTCUA_QUEUE_COUNT_BOUND``: the total is exact up to this many dossiers.
#: Counting costs one index entry per dossier on every page: at 10,000 it was a fifth of an
#: officer's inbox request at 1M dossiers (issue 18); nobody pages through 2,000 dossiers
#: by hand, and beyond it the estimate says it is one.
COUNT_BOUND = 2_000


def due_key(due_date: ColumnElement[date | None]) -> ColumnElement[date]:
    """The urgency order's key, written exactly as the index expression
    (``engine.lifecycle.models.DUE_KEY_SQL``; a test compares them): a bound parameter in place
    of the literal would not match the index on SQLite."""
    return func.coalesce(due_date, literal_column(f"'{NO_DUE.isoformat()}'", Date), type_=Date)


DUE_KEY = due_key(col(Dossier.due_date))


@dataclass(frozen=True, slots=True)
class QueueFilter:
    """What the reader asked for, besides the scope (``GET /api/v1/dossiers``'s parameters).
    ``states`` empty: the open dossiers, or every dossier with ``include_closed``."""

    today: date
    states: tuple[str, ...] = ()
    include_closed: bool = False
    procedure: str | None = None
    due_before: date | None = None
    due_after: date | None = None
    overdue: bool | None = None
    assignee: str | None = None
    q: str = ""


@dataclass(frozen=True, slots=True)
class Total:
    """How many dossiers match: ``exact``, ``about`` (the planner's estimate, beyond the
    bound) or ``more_than`` (beyond the bound where the database gives no estimate)."""

    count: int
    kind: Literal["exact", "about", "more_than"] = "exact"

    @property
    def is_estimate(self) -> bool:
        return self.kind != "exact"


def conditions(wanted: QueueFilter) -> list[ColumnElement[bool]]:
    """The filters as conditions an index range can take: the open-state predicate written
    as the partial indexes' (also added when every asked state is open, so that SQLite, which
    does not reason ``state = 'x'`` into ``NOT IN``, still uses them), and due-date bounds on
    the due key (the index's second column)."""
    found: list[ColumnElement[bool]] = []
    terminal = {s.value for s in TERMINAL}
    if wanted.states:
        found.append(col(Dossier.state).in_(sorted(set(wanted.states))))
        if not terminal & set(wanted.states):
            found.append(text(QUEUE_OPEN))
    elif not wanted.include_closed:
        found.append(text(QUEUE_OPEN))
    if wanted.procedure:
        found.append(col(Dossier.procedure_code) == wanted.procedure)
    if wanted.due_before:
        found += [wanted.due_before >= DUE_KEY, col(Dossier.due_date).is_not(None)]
    if wanted.due_after:
        found += [wanted.due_after <= DUE_KEY, col(Dossier.due_date).is_not(None)]
    if wanted.overdue is True:
        found += [col(Dossier.ended_at).is_(None), wanted.today > DUE_KEY]
    elif wanted.overdue is False:
        found.append(~and_(col(Dossier.ended_at).is_(None), col(Dossier.due_date) < wanted.today))
    if wanted.assignee:
        found.append(col(Dossier.assignee) == wanted.assignee)
    searched = dossier_search(wanted.q)
    if searched is not None:
        found.append(searched)
    return found


def _after(sort: Sort, after: After | None) -> list[ColumnElement[bool]]:
    """Keyset pagination: strictly past the previous page's last dossier. A row comparison,
    which PostgreSQL takes as a start in the index rather than a filter on every row."""
    if after is None:
        return []
    due, dossier_id = after
    if sort == "newest":
        return [col(Dossier.id) < dossier_id]
    return [tuple_(DUE_KEY, col(Dossier.id)) > tuple_(literal(due or NO_DUE, Date), dossier_id)]


def _merged(selects: list[Select]) -> Select:
    """One statement over the ranges: a UNION ALL of each range as a subquery (SQLite takes
    no ORDER BY or LIMIT on a bare member of a compound)."""
    if len(selects) == 1:
        return selects[0]
    wrapped = [sel.subquery(f"r{i}") for i, sel in enumerate(selects)]
    return union_all(*(select(*w.c) for w in wrapped))


def _ranges(session: Session, viewer: Viewer, wanted: QueueFilter, columns: tuple, sort: Sort,
            after: After | None, limit: int | None) -> list[Select]:
    """One statement per scope range, each ordered like the page and cut at ``limit``: the
    order is what makes the database read the range from its index, in order, and stop."""
    where = conditions(wanted) + _after(sort, after)
    order = (col(Dossier.id).desc(),) if sort == "newest" else (DUE_KEY, col(Dossier.id))
    ranges = [select(*columns).where(scope, *where) for scope in visible_ranges(session, viewer)]
    if limit is None:
        return ranges
    return [r.order_by(*order).limit(limit) for r in ranges]


def page_query(session: Session, viewer: Viewer, wanted: QueueFilter, *, sort: Sort = "urgency",
               after: After | None = None, limit: int = 50) -> Select:
    """The statement of one page of ``limit`` dossiers of ``viewer``'s queue: each scope range
    ordered and cut at ``limit`` in the database, then the ranges merged and cut again."""
    ranges = _ranges(session, viewer, wanted, (Dossier,), sort, after, limit)
    if len(ranges) == 1:
        return ranges[0]
    merged = _merged(ranges).subquery("queue")
    row = aliased(Dossier, merged)
    outer = ((merged.c.id.desc(),) if sort == "newest"
             else (due_key(merged.c.due_date), merged.c.id))
    return select(row).order_by(*outer).limit(limit)


def page(session: Session, viewer: Viewer, wanted: QueueFilter, *, sort: Sort = "urgency",
         after: After | None = None, limit: int = 50) -> tuple[list[Dossier], After | None]:
    """One page and the position after it (``None`` on the last page)."""
    rows = list(session.exec(page_query(session, viewer, wanted, sort=sort, after=after,
                                        limit=limit + 1)).all())
    items = rows[:limit]
    if len(rows) <= limit:
        return items, None
    last = items[-1]
    return items, (None if sort == "newest" else (last.due_date or NO_DUE), last.id)


def _open_only(wanted: QueueFilter) -> bool:
    """Whether the filters keep open dossiers only (``conditions`` then adds the partial
    indexes' predicate)."""
    if wanted.states:
        return not {s.value for s in TERMINAL} & set(wanted.states)
    return not wanted.include_closed


def count_query(session: Session, viewer: Viewer, wanted: QueueFilter, *, bound: int) -> Select:
    """``SELECT count(*)`` of at most ``bound`` matching dossiers: each range read from an
    index and cut at ``bound``, so the count stops there too. Newest first, so that the
    ``(agency, id)`` index answers it from the index alone — except over open dossiers only,
    counted in no order: the small partial index holds them, and ordering its rows by id made
    PostgreSQL read and sort the whole open scope (an officer's 39,000 at 1M: 22 ms against
    6 ms); which rows are counted does not change the count."""
    ranges = _ranges(session, viewer, wanted, (col(Dossier.id),), "newest", None,
                     None if _open_only(wanted) else bound)
    if _open_only(wanted):
        ranges = [r.limit(bound) for r in ranges]
    capped = _merged(ranges).subquery("capped")
    return select(func.count()).select_from(select(capped.c.id).limit(bound).subquery())


def total(session: Session, viewer: Viewer, wanted: QueueFilter, *,
          bound: int = COUNT_BOUND) -> Total:
    """How many dossiers match, counted exactly up to ``bound``; beyond it PostgreSQL's
    estimate for the whole filtered statement, rounded to two significant digits, or "more
    than ``bound``" on SQLite and where the estimate is not above the bound (a planner's guess
    below a count we made would be a wrong number)."""
    exact = session.exec(count_query(session, viewer, wanted, bound=bound + 1)).one()
    return _total(session, viewer, wanted, exact, bound)


def _total(session: Session, viewer: Viewer, wanted: QueueFilter, exact: int,
           bound: int) -> Total:
    """The total from a count cut at ``bound + 1`` (see :func:`total`)."""
    if exact <= bound:
        return Total(exact)
    if session.get_bind().dialect.name != "postgresql":
        return Total(bound, "more_than")
    every = _merged(_ranges(session, viewer, wanted, (col(Dossier.id),), "newest", None, None))
    estimate = _rounded(planner_rows(session, every))
    if estimate <= bound:  # the planner under-guesses a rare filter (an assignee): we know
        return Total(bound, "more_than")  # only that it is more than the bound
    return Total(estimate, "about")


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What a page shows beside its dossiers: the total, the calendars of their competent
    agencies (for the urgency badges) and the procedure versions of those on a step (for the
    step's name)."""

    total: Total
    calendars: dict[str, WorkingCalendar]
    specs: dict[tuple[str, date], ProcedureSpec]


_VERSIONS = ProcedureVersionRow.__table__
#: Each version of the page's procedures, as rows of the calendars' revision shape
#: (``kind, code, n, last_id, at, text``): ``'p'``, code, -, -, loaded_at, effective_from.
_PAGE_VERSIONS = sa_select(literal_column("'p'"), _VERSIONS.c.code, null(), null(),
                           _VERSIONS.c.loaded_at, cast(_VERSIONS.c.effective_from, Text)
                           ).where(_VERSIONS.c.code.in_(bindparam("procedures",
                                                                  expanding=True)))


def page_facts(session: Session, viewer: Viewer, wanted: QueueFilter, items: list[Dossier],
               *, bound: int = COUNT_BOUND) -> PageFacts:
    """:class:`PageFacts` in one statement after the page's own: the bounded count, the
    calendars' revisions and the versions' ``loaded_at`` as one ``UNION ALL`` (three round
    trips were three waits for the interpreter lock under load; issue 18), then PostgreSQL's
    estimate only when the count passed the bound."""
    agencies, layers = calendar_layers({d.competent_agency for d in items})
    versions = {(d.procedure_code, d.procedure_version) for d in items if d.current_step}
    count = count_query(session, viewer, wanted, bound=bound + 1).scalar_subquery()
    statement = union_all(*REVISION_SELECTS, _PAGE_VERSIONS,
                          sa_select(literal_column("'c'"), null(), count, null(), null(),
                                    null()))
    rows = session.execute(statement, {"codes": layers, "procedures": sorted(
        {code for code, _ in versions})}).all()
    exact = next(row[2] for row in rows if row[0] == "c")
    loaded = [(row[1], date.fromisoformat(row[5][:10]), read_instant(row[4]))
              for row in rows if row[0] == "p"]
    return PageFacts(total=_total(session, viewer, wanted, exact, bound),
                     calendars=calendars_from_revision(session, agencies, rows),
                     specs=versions_from_rows(session, versions, loaded))


#: How long PostgreSQL's estimate of one statement is used again (seconds). The planner's
#: guess moves only with its statistics (``ANALYZE``), yet asking for it was one round trip
#: in five of an officer's inbox at 1M dossiers, on every page (issue 18).
ESTIMATE_MAX_AGE = 60.0
#: Estimates by engine, then by statement and parameters: ``(when, rows)``. Per process, as
#: the calendars' and the procedure versions' caches; two workers may each ask once a
#: minute and print different guesses, which the reader is told are estimates anyway.
_estimates: WeakKeyDictionary[Any, dict[tuple[str, tuple], tuple[float, int]]] = (
    WeakKeyDictionary())
_ESTIMATES_KEPT = 1_000  # distinct filters remembered before the oldest are forgotten


def planner_rows(session: Session, statement: Select, *,
                 max_age: float = ESTIMATE_MAX_AGE) -> int:
    """PostgreSQL's estimate of how many rows ``statement`` returns (``EXPLAIN``, not run),
    asked again only after ``max_age`` seconds for the same statement and parameters."""
    bind = session.get_bind()
    compiled = statement.compile(dialect=bind.dialect,
                                 compile_kwargs={"render_postcompile": True})
    key = (str(compiled), tuple(sorted((k, repr(v)) for k, v in compiled.params.items())))
    known = _estimates.setdefault(getattr(bind, "engine", bind), {})
    now = time.monotonic()
    hit = known.get(key)
    if hit is not None and now - hit[0] < max_age:
        return hit[1]
    plan = session.connection().exec_driver_sql(
        "EXPLAIN (FORMAT JSON) " + str(compiled), compiled.params).scalar_one()
    if isinstance(plan, str):
        plan = json.loads(plan)
    rows = int(plan[0]["Plan"]["Plan Rows"])
    if len(known) >= _ESTIMATES_KEPT:
        for stale in sorted(known, key=lambda k: known[k][0])[:_ESTIMATES_KEPT // 2]:
            del known[stale]
    known[key] = (now, rows)
    return rows


def _rounded(count: int) -> int:
    """Two significant digits: an estimate printed to the unit would claim a precision it
    does not have."""
    digits = len(str(count))
    step = 10 ** max(digits - 2, 0)
    return round(count / step) * step
