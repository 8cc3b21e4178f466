"""Apology letters that *reached the applicant* (*thư xin lỗi đã đến người nộp*), beside the
apology figures in time / late / missing (issue 16; domain T9: the letter is *sent* to the
applicant, ND 61 Art 19(9)).

What counts [I] (docs/reports.md, "Apology reached the applicant"): a late dossier (ended late
or pending late at the period end, as the apology figures count it) that has an apology — in
time or late — whose message to the applicant (outbox kind ``apology_sent``, channel e-mail or
webhook/SMS, not the staff's in-app copy) was **delivered** (handed to the mail server, or a 2xx
from the SMS gateway) by the end of the period. A letter issued at the counter and never sent
by the system does not count as reached: the system cannot know that the applicant got it.

Why "delivered at all" by default rather than "before the due date": whether the letter was
sent in time is already the in-time / late split; this figure says whether the channel worked.
:attr:`~engine.reports.totals.Options.apology_reached_by_due` narrows it to deliveries on or
before the legal due date (local day), for a reader who wants "the applicant knew in time".

Computed as an SQL ``EXISTS`` on the outbox (its index on ``dossier_code``), so only the
dossiers with a delivered apology message are judged a second time (:func:`reached_counts`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from sqlalchemy import and_, exists, select
from sqlalchemy.sql.elements import ColumnElement

from engine.outbox import Channel, DeliveryState, OutboxMessage
from engine.reports.period import Period
from engine.reports.sql import D, local_date
from engine.reports.totals import Options
from engine.reports.verdict import APOLOGY_IN_TIME, APOLOGY_LATE, LATE, PENDING_LATE, Verdict

OUT = OutboxMessage.__table__
#: The outbox kind of the applicant's apology message (``engine.timed.findings.EventKind``).
APOLOGY_KIND = "apology_sent"
APPLICANT_CHANNELS = (Channel.EMAIL.value, Channel.WEBHOOK.value)


def reached_clause(period: Period, dialect: str, options: Options) -> ColumnElement[bool]:
    """The dossier (``D``) has an apology message delivered to its applicant by the period
    end (and by the legal due date with ``apology_reached_by_due``)."""
    conditions = [OUT.c.dossier_code == D.c.code, OUT.c.kind == APOLOGY_KIND,
                  OUT.c.channel.in_(APPLICANT_CHANNELS),
                  OUT.c.state == DeliveryState.DELIVERED.value,
                  OUT.c.delivered_at < period.ends_before]
    if options.apology_reached_by_due:
        conditions.append(local_date(OUT.c.delivered_at, dialect) <= D.c.due_date)
    return exists(select(OUT.c.id).where(and_(*conditions)))


def with_apology(verdict: Verdict, counted: Callable[[Verdict], bool]) -> bool:
    """A late dossier with an apology (in time or late): the population of "reached"."""
    return (verdict.cls in (LATE, PENDING_LATE) and counted(verdict)
            and verdict.apology in (APOLOGY_IN_TIME, APOLOGY_LATE))


def counted_for(options: Options) -> Callable[[Verdict], bool]:
    """Whether a verdict is in ended/pending (a withdrawal only when it counts as ended)."""
    return lambda v: options.withdrawn_counts_as_ended or v.end_kind != "withdrawn"


def reached_counts(found: Iterable[Verdict], options: Options) -> Counter[str]:
    """Per group key, the dossiers of ``found`` (verdicts already narrowed by
    :func:`reached_clause`) whose apology reached the applicant."""
    counted = counted_for(options)
    return Counter(v.key for v in found if with_apology(v, counted))
