"""The channel targets (*chỉ tiêu kênh*, issue 16): how much of the work goes online, per
group like the other figures and drillable to the dossiers. Definitions and marks in
``docs/reports.md`` ("Channel targets"); legal background domain §6.2 (QĐ 766 3.2, 3.3) and
§7.2 (online service *toàn trình* / *một phần*).

- *procedures with online dossiers*: procedures with at least one dossier received online in
  the period / procedures with at least one dossier received in the period [I] — the reader's
  scope is a condition on dossiers, so a procedure nobody applied for in the period says
  nothing of its channel and is left out (QĐ 766 3.2 counts the online services offered);
- *dossiers submitted online*: received online / received (the report's ``online_rate``;
  QĐ 766 3.3 without its "× sync rate" factor);
- *online dossiers processed online*: of the dossiers received online whose result was
  returned in the period, those whose result went back online too — the whole service online,
  *toàn trình* (§7.2) [I];
- *online results*: results returned in the period by the online return method / results
  returned in the period [I].

"Received" is the formal receipt in the period (``received_at``), as everywhere in the
reports; "returned" is the hand-over of the result (``returned_at``, status 10) in the period.
Each count is one grouped SQL scan (flat memory); the total is its own scan, since a procedure
can be in several groups.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.lifecycle.states import Channel, ReturnMethod
from engine.reports.drilldown import Verdict
from engine.reports.grouping import group_key, key_labels
from engine.reports.period import Period
from engine.reports.sql import D
from engine.reports.totals import By, rate
from engine.reports.verdict import DIRECT, ONLINE, POSTAL


@dataclass
class ChannelTargets:
    """The channel-target counts of one group; the rates are properties."""

    procedures: int = 0  # with a dossier received in the period
    procedures_online: int = 0  # … of which with a dossier received online
    received: int = 0
    received_online: int = 0
    online_returned: int = 0  # received online, result returned in the period
    online_returned_online: int = 0  # … and returned online (toàn trình)
    returned: int = 0  # results returned in the period
    returned_online: int = 0  # … by the online return method

    @property
    def procedures_online_rate(self) -> float | None:
        return rate(self.procedures_online, self.procedures)

    @property
    def online_rate(self) -> float | None:
        return rate(self.received_online, self.received)

    @property
    def processed_online_rate(self) -> float | None:
        return rate(self.online_returned_online, self.online_returned)

    @property
    def online_result_rate(self) -> float | None:
        return rate(self.returned_online, self.returned)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "procedures_online_rate": self.procedures_online_rate,
                "online_rate": self.online_rate,
                "processed_online_rate": self.processed_online_rate,
                "online_result_rate": self.online_result_rate}


@dataclass
class ChannelGroup:
    key: str
    label: str
    targets: ChannelTargets


@dataclass
class ChannelReport:
    period: Period
    by: By
    totals: ChannelTargets
    groups: list[ChannelGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(), "by": self.by.value,
                "totals": self.totals.as_dict(),
                "groups": [{"key": g.key, "label": g.label, "targets": g.targets.as_dict()}
                           for g in self.groups]}


# ----- the conditions ------------------------------------------------------------------------

def _conditions(period: Period) -> dict[str, ColumnElement[bool]]:
    """Each drillable figure as a condition on the dossier row."""
    received = and_(D.c.received_at >= period.starts_at, D.c.received_at < period.ends_before)
    online = D.c.channel == Channel.ONLINE.value
    returned = and_(D.c.returned_at >= period.starts_at, D.c.returned_at < period.ends_before)
    result_online = D.c.return_method == ReturnMethod.ONLINE.value
    return {
        "received": received,
        "received_online": and_(received, online),
        "online_returned": and_(returned, online),
        "online_returned_online": and_(returned, online, result_online),
        "returned": returned,
        "returned_online": and_(returned, result_online),
    }


#: Figures :func:`behind_target` lists (``online_procedures``: the dossiers received online
#: whose procedures make the numerator of the procedures' share).
TARGET_FIGURES = ("online_procedures", "online_returned", "online_returned_online",
                  "returned", "returned_online")


def _population(period: Period) -> ColumnElement[bool]:
    c = _conditions(period)
    return c["received"] | c["returned"]


def _counts(session: Session, period: Period, by: By,
            where: ColumnElement[bool] | None) -> dict[str, ChannelTargets]:
    """One grouped scan: every count of :class:`ChannelTargets` per group key."""
    dialect = session.get_bind().dialect.name
    key, frm = group_key(by, dialect)
    c = _conditions(period)

    def total(condition: ColumnElement[bool]) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    def distinct_procedures(condition: ColumnElement[bool]) -> Any:
        return func.count(func.distinct(case((condition, D.c.procedure_code),
                                             else_=literal(None))))

    query = (select(key.label("k"), distinct_procedures(c["received"]),
                    distinct_procedures(c["received_online"]),
                    *(total(c[name]) for name in ("received", "received_online",
                                                  "online_returned", "online_returned_online",
                                                  "returned", "returned_online")))
             .select_from(frm).where(_population(period)))
    if by is not By.NONE:  # PostgreSQL refuses a constant in GROUP BY
        query = query.group_by(key)
    if where is not None:
        query = query.where(where)
    return {row[0] or "": ChannelTargets(*(int(v) for v in row[1:]))
            for row in session.execute(query)}


def channel_targets(session: Session, period: Period, by: By | str = By.NONE, *,
                    where: ColumnElement[bool] | None = None) -> ChannelReport:
    """The channel targets of ``period`` grouped ``by`` (not by step: a hand-off row has no
    channel); ``where`` narrows the dossiers (the reader's scope)."""
    by = By(by)
    if by is By.STEP:
        raise ValueError("chỉ tiêu kênh không tính theo bước xử lý")
    totals = _counts(session, period, By.NONE, where).get("", ChannelTargets())
    if by is By.NONE:
        return ChannelReport(period, by, totals)
    groups = _counts(session, period, by, where)
    labels = key_labels(session, by, groups)
    return ChannelReport(period, by, totals,
                         [ChannelGroup(k, labels.get(k, k), groups[k]) for k in sorted(groups)])


def behind_target(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
                  key: str | None = None, where: ColumnElement[bool] | None = None,
                  ) -> dict[str, Verdict]:
    """The dossiers behind one channel-target figure (of one group when ``key`` is given), by
    code, as :func:`engine.reports.drilldown.describe` takes them (no clock verdict: the
    list says who, what and when; the figure is not about time)."""
    by = By(by)
    if figure not in TARGET_FIGURES:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(TARGET_FIGURES)}")
    if by is By.STEP:
        raise ValueError("chỉ tiêu kênh không tính theo bước xử lý")
    dialect = session.get_bind().dialect.name
    key_expr, frm = group_key(by, dialect)
    c = _conditions(period)
    condition = c["received_online"] if figure == "online_procedures" else c[figure]
    query = (select(D.c.code, key_expr.label("k"), D.c.channel, D.c.end_kind)
             .select_from(frm).where(condition).order_by(D.c.code))
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(key_expr == key)
    entry = {Channel.ONLINE.value: ONLINE, Channel.POSTAL.value: POSTAL}
    return {row.code: Verdict(row.code, row.k or "", -1, entry.get(row.channel, DIRECT),
                              row.end_kind, False, "", False)
            for row in session.execute(query.execution_options(yield_per=5000))}
