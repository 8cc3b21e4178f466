"""The grouped scan of :func:`engine.reports.figures` (one query per report, per dialect)
against the per-dossier verdicts the drill-down lists."""

from __future__ import annotations

from datetime import date

import pytest

from engine.reports import By, Options, Period, figures, verdicts
from engine.reports.figures import ENDED_CODES, Totals, _fold

from .dataset import MARCH_FROM, MARCH_TO

PERIODS = [Period(MARCH_FROM, MARCH_TO),
           # ends inside m-paused's open pause: a replayed dossier in the group counts
           Period(date(2026, 3, 1), date(2026, 3, 27))]


def _folded(session, period: Period, by: By, options: Options) -> dict[str, dict]:
    """Every group's totals folded one dossier at a time from :func:`verdicts`."""
    groups: dict[str, Totals] = {}
    for v in verdicts(session, period, by):
        t = groups.setdefault(v.key, Totals())
        _fold(t, v.cls, v.entry, v.end_kind if v.cls in ENDED_CODES else None, v.on_time_766,
              v.apology, 1, options)
        t.replayed += v.replayed
    return {key: vars(t) for key, t in groups.items()}


@pytest.mark.parametrize("by", [b for b in By if b not in (By.NONE, By.STEP)])
@pytest.mark.parametrize("withdrawn_counts_as_ended", [True, False])
def test_grouped_figures_equal_the_per_dossier_verdicts(dataset, by, withdrawn_counts_as_ended):
    """The grouped query (fenced subquery on PostgreSQL, plain on SQLite) counts exactly the
    verdicts the drill-down lists, group by group, replayed dossiers included."""
    options = Options(withdrawn_counts_as_ended=withdrawn_counts_as_ended)
    for period in PERIODS:
        fig = figures(dataset, period, by, options=options)
        assert {g.key: vars(g.totals) for g in fig.groups} == _folded(dataset, period, by,
                                                                         options)
    assert any(g.totals.replayed for g in figures(dataset, PERIODS[1], by).groups)

