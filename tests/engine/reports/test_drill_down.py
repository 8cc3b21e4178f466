"""Every number can produce the dossier codes behind it."""

from __future__ import annotations

import pytest

from engine.reports import FIGURES, By, Period, drill, figures

from .dataset import DEPT, MARCH_FROM, MARCH_TO

MARCH = Period(MARCH_FROM, MARCH_TO)


def value(t, name: str) -> int:
    flat = t.flat()
    if name in flat:
        return flat[name]
    return {"on_time_766": t.on_time_766,
            "not_on_time_766": t.ended + t.pending - t.on_time_766,
            "late_any": t.late + t.pending_late}[name]


@pytest.mark.parametrize("figure", FIGURES)
def test_each_figure_drills_to_exactly_its_count(dataset, figure):
    t = figures(dataset, MARCH).totals
    assert len(drill(dataset, MARCH, figure)) == value(t, figure)


def test_drill_inside_one_group(dataset):
    fig = figures(dataset, MARCH, By.AGENCY)
    dept = next(g for g in fig.groups if g.key == DEPT)
    codes = drill(dataset, MARCH, "ended_late", by=By.AGENCY, key=DEPT)
    assert len(codes) == dept.totals.late == 3
    assert set(codes) == {"m-carried-late", "m-apology-in-time", "m-apology-late"}
    assert drill(dataset, MARCH, "pending_late", by=By.AGENCY, key=DEPT) == [
        "m-awaiting-supplement", "m-pending-late"]


def test_unknown_figure_is_refused_with_the_list(dataset):
    with pytest.raises(ValueError, match="ended_late"):
        drill(dataset, MARCH, "nonsense")
