"""What ``/api/v1/reports`` answers: the dashboard figures and what drills into them.

The engine builds these as plain data (``engine.reports``: ``Figures.dashboard``,
``…as_dict``); the models here are their declared shapes, checked on every answer.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from service.api.schemas.common import Day, Instant, Public


class PeriodRange(Public):
    """A report period, both days included."""

    start: Day = Field(alias="from")
    end: Day = Field(alias="to")


class EndedCounts(Public):
    early: int
    on_time: int
    late: int


class PendingCounts(Public):
    within: int
    late: int


class ApologyCounts(Public):
    in_time: int
    late: int
    missing: int
    #: of in_time + late: the letter was delivered to the applicant (e-mail or SMS)
    reached: int


class FigureTotals(Public):
    """The figures of one group (definitions: ``engine.reports.figures.DEFINITIONS``)."""

    received: int
    carried_over: int
    ended: EndedCounts
    pending: PendingCounts
    withdrawn: int
    refused: int
    on_time_rate_766: float | None
    closed_on_time_rate: float | None
    apology: ApologyCounts


class FigureGroup(Public):
    key: str
    totals: FigureTotals


class Dashboard(Public):
    """``GET /api/v1/reports``: a contract — ``{"period", "totals", "groups"}``, and since
    issue 18 ``computed_at`` (when the figures were read: the cache may serve them again)."""

    period: PeriodRange
    totals: FigureTotals
    groups: list[FigureGroup]
    #: when these figures were read from the dossiers: now, or earlier when they come from the
    #: report cache (a closed period's, or an open period's within its maximum age)
    computed_at: Instant | None = None


class DrillRow(Public):
    """One dossier of the list: applicant, procedure, received, legal due date, end and the
    verdict (``engine.clock.Classification``; ``end_kind``: withdrawn, refused, stopped …)."""

    code: str
    applicant: str
    procedure: str
    procedure_name: str
    received_at: Instant | None
    due: Day | None
    ended_at: Instant | None
    end_kind: str | None
    verdict: Literal["early", "on_time", "late", "pending_within", "pending_late"] | None


class Drill(Public):
    """The dossier codes behind one figure (of one group when ``key`` is given); ``rows``: the
    first ``rows_limit`` of them (by code) described for people."""

    period: PeriodRange
    figure: str
    by: str
    key: str | None
    count: int
    codes: list[str]
    rows: list[DrillRow]
    rows_limit: int


class MonthRates(Public):
    """One month of the chart over time: from the daily snapshots, or computed now."""

    period: PeriodRange
    on_time_rate_766: float | None
    closed_on_time_rate: float | None
    received: int
    ended: int
    #: "snapshot": composed from the published daily snapshots; "live": computed now (a day
    #: of the month has no snapshot yet: the current month, or a day never taken).
    source: Literal["snapshot", "live"]
    missing_days: int  # days of the month (within the period) without a snapshot
    reruns: int  # re-run snapshots among those read (see `motcua report snapshot --show`)


class AgencyRates(Public):
    key: str
    label: str
    on_time_rate_766: float | None
    closed_on_time_rate: float | None
    received: int


class Charts(Public):
    period: PeriodRange
    over_time: list[MonthRates]
    by_agency: list[AgencyRates]


class ProcessingTime(Public):
    """Average processing time of a procedure's dossiers, in the procedure's own unit."""

    procedure: str
    name: str
    unit: str
    unit_label: str
    count: int
    average: float | None


class LateByUnitStep(Public):
    unit: str | None
    step: str | None
    step_name: str | None
    late: int


class LateDossier(Public):
    """A late dossier and the first step that overran (None: unattributed)."""

    code: str
    verdict: str
    step: str | None
    step_name: str | None
    unit: str | None


class Responsibility(Public):
    summary: list[LateByUnitStep]
    dossiers: list[LateDossier]


class Anomaly(Public):
    kind: str
    label: str
    count: int
    codes: list[str]


class Anomalies(Public):
    period: PeriodRange
    anomalies: list[Anomaly]


class Score(Public):
    """An officer's or an agency's mean score per indicator, total and grade."""

    key: str
    dossiers: int
    indicators: dict[str, float]
    indicators_scored: int
    total: float
    grade: str


class DossierScore(Public):
    code: str
    officer: str
    agency: str
    indicators: dict[str, int]
    total: int


class Scoring(Public):
    """``dossiers`` is present only when asked for (``?dossiers=true``)."""

    scheme: str
    period: PeriodRange
    indicators: dict[str, str]
    officers: list[Score]
    agencies: list[Score]
    dossiers: list[DossierScore] | None = None


class ChannelTargets(Public):
    """The channel targets of one group (``engine.reports.channels``); rates 0–1 or null."""

    procedures: int
    procedures_online: int
    received: int
    received_online: int
    online_returned: int
    online_returned_online: int
    returned: int
    returned_online: int
    procedures_online_rate: float | None
    online_rate: float | None
    processed_online_rate: float | None
    online_result_rate: float | None


class ChannelTargetsGroup(Public):
    key: str
    label: str
    targets: ChannelTargets


class ChannelTargetsReport(Public):
    period: PeriodRange
    by: str
    totals: ChannelTargets
    groups: list[ChannelTargetsGroup]


class TopReason(Public):
    code: str
    label: str
    count: int


class Satisfaction(Public):
    """Ratings given in the period (``count``, ``average`` 1–5, ``satisfied``: ≥ 4,
    ``disliked``: ≤ the dislike setting) and QĐ 766 5.4 over criterion 2.1's dossiers."""

    count: int
    average: float | None
    satisfied: int
    satisfied_rate: float | None
    disliked: int
    top_reasons: list[TopReason]
    population_766: int
    late_766: int
    disliked_766: int
    indicator_5_4: float | None


class SatisfactionGroup(Public):
    key: str
    label: str
    satisfaction: Satisfaction


class SatisfactionReport(Public):
    period: PeriodRange
    by: str
    dislike_max: int
    totals: Satisfaction
    groups: list[SatisfactionGroup]


class SyncRate(Public):
    """The sync rate of one group (``engine.reports.sync_rate``): received, synchronised (the
    receipt event's portal message delivered), QĐ 766 1.4 and 3.3 — rates null when portal
    sync is not configured (``configured``: false) or nothing was received."""

    received: int
    received_online: int
    synchronised: int
    online_synchronised: int
    not_synchronised: int
    configured: bool
    sync_rate: float | None
    indicator_1_4: float | None
    indicator_3_3: float | None
    indicator_3_3_product: float | None


class SyncGroup(Public):
    key: str
    label: str
    sync: SyncRate


class SyncRateReport(Public):
    period: PeriodRange
    by: str
    configured: bool
    totals: SyncRate
    groups: list[SyncGroup]
