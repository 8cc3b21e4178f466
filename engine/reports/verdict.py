"""One dossier's verdict at a period end, and how it is added to the totals.

A verdict is a few small codes — class, entry, apology bucket — so that SQL can compute and
group them cheaply (:mod:`engine.reports.verdict_sql`) and Python can fold them into
:class:`~engine.reports.totals.Totals` with one function, :func:`fold`, whichever path judged
the dossier (the grouped scan, the replay of its clock events, a hand-off row).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from engine.clock import Classification
from engine.reports.totals import Options, Totals

#: Per-dossier class codes (small integers: cheap to group on). REPLAY: the stored columns
#: cannot tell, the dossier's clock events are replayed (:mod:`engine.reports.judge`).
REPLAY, EARLY, ON_TIME, LATE, PENDING_WITHIN, PENDING_LATE = 0, 1, 2, 3, 4, 5
CLS_CODE = {Classification.EARLY: EARLY, Classification.ON_TIME: ON_TIME,
            Classification.LATE: LATE, Classification.PENDING_WITHIN: PENDING_WITHIN,
            Classification.PENDING_LATE: PENDING_LATE}
ENDED_CODES = (EARLY, ON_TIME, LATE)
#: How a dossier enters the period: received online / direct / postal, or carried over.
ONLINE, DIRECT, POSTAL, CARRIED = "o", "d", "p", "c"
#: Apology of a late dossier: sent in time, sent late, missing.
APOLOGY_IN_TIME, APOLOGY_LATE, APOLOGY_MISSING = "i", "l", "m"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One dossier's place in the figures (what :func:`engine.reports.drilldown.drill` filters
    on)."""

    code: str
    key: str
    cls: int
    entry: str
    end_kind: str | None
    over_one_supplement: bool
    apology: str
    on_time_766: bool
    replayed: bool = False


def fold(t: Totals, cls: int, entry: str, end_kind: str | None, ok766: bool, apology: str,
         n: int, options: Options) -> None:
    """Add ``n`` dossiers with this verdict to ``t``: the one place that says which counters
    a verdict moves, shared by the grouped scan, the replayed dossiers and the steps."""
    if entry == CARRIED:
        t.carried_over += n
    elif entry == ONLINE:
        t.received_online += n
    elif entry == POSTAL:
        t.received_postal += n
    else:
        t.received_direct += n
    if cls in ENDED_CODES and end_kind == "withdrawn":
        t.withdrawn += n
        if not options.withdrawn_counts_as_ended:
            return
    if cls == EARLY:
        t.early += n
    elif cls == ON_TIME:
        t.on_time += n
    elif cls == LATE:
        t.late += n
    elif cls == PENDING_WITHIN:
        t.pending_within += n
    elif cls == PENDING_LATE:
        t.pending_late += n
    if cls in ENDED_CODES and end_kind == "refused":
        t.refused += n
    if cls in ENDED_CODES and end_kind == "stopped":
        t.stopped += n
    if ok766:
        t.on_time_766 += n
    if cls in (LATE, PENDING_LATE):
        if apology == APOLOGY_IN_TIME:
            t.apology_in_time += n
        elif apology == APOLOGY_LATE:
            t.apology_late += n
        else:
            t.apology_missing += n


#: The counters of :class:`Totals` in declaration order (the grouped scan adds by index).
TOTALS_FIELDS = tuple(f.name for f in fields(Totals))
