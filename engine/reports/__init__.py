"""Auditing: figures, indicators, anomalies, scoring schemes and the history import.

Definitions and legal marks of every figure: ``docs/reports.md``. Everything here reads the
database through SQL aggregates (flat memory) and judges dossiers like :mod:`engine.clock`.
"""

from engine.reports.drilldown import FIGURES, drill, verdicts
from engine.reports.figures import figures
from engine.reports.period import Period
from engine.reports.totals import DEFINITIONS, By, Figures, Options, Totals

__all__ = ["DEFINITIONS", "FIGURES", "By", "Figures", "Options", "Period", "Totals", "drill",
           "figures", "verdicts"]
