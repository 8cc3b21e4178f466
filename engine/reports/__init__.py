"""Auditing: figures, indicators, anomalies, scoring schemes and the history import.

Definitions and legal marks of every figure: ``docs/reports.md``. Everything here reads the
database through SQL aggregates (flat memory) and judges dossiers like :mod:`engine.clock`.
"""

from engine.reports.figures import (
    DEFINITIONS,
    FIGURES,
    By,
    Figures,
    Options,
    Totals,
    drill,
    figures,
    verdicts,
)
from engine.reports.period import Period

__all__ = ["DEFINITIONS", "FIGURES", "By", "Figures", "Options", "Period", "Totals", "drill",
           "figures", "verdicts"]
