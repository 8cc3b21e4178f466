"""The report figures of a period, for any grouping: computed in SQL, judged like the clock.

What is counted: :mod:`engine.reports.totals` (definitions and legal marks in
``docs/reports.md``). How, for scale: one grouped scan counts every dossier the stored report
columns can judge (:mod:`engine.reports.grouping` over :mod:`engine.reports.verdict_sql`);
the few whose clock moved in a way they cannot tell are judged by replaying their stored clock
events (:mod:`engine.reports.judge`); both are folded into the totals by one function
(:func:`engine.reports.verdict.fold`). Grouped by step, the hand-off rows are counted instead
(:mod:`engine.reports.steps`). Every figure is drillable (:mod:`engine.reports.drilldown`).

Imports go one way: each of totals, verdict, verdict_sql, grouping, judge, steps, reached,
drilldown, figures imports only modules before it in that list. This module also re-exports the
names callers import from it (``By``, ``Options``, ``DEFINITIONS``, ``FIGURES``, ``drill`` …).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.drilldown import FIGURES, drill, verdicts
from engine.reports.grouping import grouped_query, hash_aggregate_memory, key_labels
from engine.reports.judge import replayed
from engine.reports.period import Period
from engine.reports.reached import reached_clause, reached_counts
from engine.reports.steps import step_figures
from engine.reports.totals import DEFINITIONS, By, Figures, Group, Options, Totals
from engine.reports.verdict import (
    EARLY,
    ENDED_CODES,
    ON_TIME,
    PENDING_WITHIN,
    REPLAY,
    TOTALS_FIELDS,
    Verdict,
    fold,
)
from engine.reports.verdict_sql import unpack_verdict

__all__ = ["DEFINITIONS", "FIGURES", "By", "Figures", "Group", "Options", "Progress", "Totals",
           "Verdict", "drill", "figures", "verdicts"]

#: Progress callback of a long report: (what is being done, step, steps or None).
Progress = Callable[[str, int, int | None], None]


def figures(session: Session, period: Period, by: By | str = By.NONE, *,
            where: ColumnElement[bool] | None = None, options: Options | None = None,
            progress: Progress | None = None) -> Figures:
    """All figures of ``period`` grouped ``by``; ``where`` narrows the dossiers (scoping)."""
    by, options = By(by), options or Options()
    if by is By.STEP:
        fig = step_figures(session, period, where=where, options=options)
        by_key = {g.key: g.totals for g in fig.groups}
        fig.totals.apology_reached += _add_reached(session, period, by, where, options, by_key)
        return fig
    dialect = session.get_bind().dialect.name
    query = grouped_query(period, by, dialect, where)
    if progress:
        progress("Tổng hợp theo nhóm (SQL)", 0, None)
    if dialect == "postgresql":
        hash_aggregate_memory(session)
    counts: dict[str, list[int]] = {}
    rows = (row for part in session.execute(query).partitions(1000) for row in part)
    for key_value, packed, end_kind, n in rows:  # fetched in chunks: memory stays flat
        adds = _increments(packed, end_kind, options)
        if not adds:  # REPLAY: judged one by one below
            continue
        acc = counts.get(key_value)
        if acc is None:
            acc = counts[key_value] = [0] * len(TOTALS_FIELDS)
        for index, value in adds:
            acc[index] += value * n
    groups = {k: Totals(*acc) for k, acc in counts.items()}
    if progress:
        progress("Phát lại sự kiện của hồ sơ cần xét lại", 1, None)
    for _, key_value, entry, (cls, ok766, apology, end_kind) in replayed(
            session, period, by, where):
        t = groups.setdefault(key_value, Totals())
        fold(t, cls, entry, end_kind, ok766, apology, 1, options)
        t.replayed += 1
    _add_reached(session, period, by, where, options, groups)
    total = Totals()
    for t in groups.values():
        total.add(t)
    labels = key_labels(session, by, groups)
    out = [Group(k, labels.get(k, k), groups[k]) for k in sorted(groups)]
    if by is By.NONE:
        out = []
    return Figures(period, by, total, out, options)


def _add_reached(session: Session, period: Period, by: By,
                 where: ColumnElement[bool] | None, options: Options,
                 groups: dict[str, Totals]) -> int:
    """Add "apology reached the applicant" to each group: judged again only for the dossiers
    with a delivered apology message (``engine.reports.reached``); returns the sum."""
    clause = reached_clause(period, session.get_bind().dialect.name, options)
    narrowed = clause if where is None else and_(where, clause)
    counts = reached_counts(verdicts(session, period, by, where=narrowed), options)
    for key_value, n in counts.items():
        groups.setdefault(key_value, Totals()).apology_reached += n
    return sum(counts.values())


@lru_cache(maxsize=4096)
def _increments(packed: int, end_kind: str | None, options: Options,
                ) -> tuple[tuple[int, int], ...]:
    """What one dossier of a grouped row adds to its group's totals, as (field index, amount)
    pairs — :func:`fold` applied once per distinct (packed verdict, end kind), so that the
    thousands of grouped rows of a large report are added without judging each again. Empty
    for a dossier to replay."""
    cls, entry, over1, apology = unpack_verdict(packed)
    if cls == REPLAY:
        return ()
    t = Totals()
    ok766 = cls in (EARLY, ON_TIME, PENDING_WITHIN) and not over1
    fold(t, cls, entry, end_kind if cls in ENDED_CODES else None, ok766, apology, 1, options)
    values = (getattr(t, name) for name in TOTALS_FIELDS)
    return tuple((i, v) for i, v in enumerate(values) if v)
