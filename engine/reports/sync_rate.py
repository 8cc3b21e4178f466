"""The sync rate (*tỷ lệ hồ sơ đồng bộ lên Cổng Dịch vụ công quốc gia*, issue 17): how many of
the dossiers received in the period the national portal knows of, per group like the other
figures and drillable to the dossiers. Definitions and marks in ``docs/sync.md`` ("Sync rate")
and ``docs/reports.md``; legal background domain §6.2 (QĐ 766 1.4 and 3.3) and §7.4.

- *synchronised* [I]: the dossier's outbox message for its **receipt event** (the event whose
  action is ``receive``, the formal receipt that carries ``NgayTiepNhan``) on the channel
  ``portal`` is ``delivered`` — its key is ``portal:{code}:{seq}``
  (``engine.sync.record.record_key``). Every received dossier has such an event (an online one
  after its ``submit``; an imported one too), so the rule is the same for every channel. A
  message pending or dead, or none at all, is *not synchronised*. Delivered at any time up to
  now: the portal publishes 1.4 from what it holds when it computes, not at the period end;
- **QĐ 766 1.4** = synchronised / received (the figure of the portal if larger is not known
  here);
- **QĐ 766 3.3** = online dossiers received *and synchronised* / received: "× sync rate" read
  as "an online dossier counts only if synchronised" [I]; the literal product (online rate ×
  sync rate) is given beside it (``indicator_3_3_product``). The e-result condition of 3.3 is
  not applied (e-results are not recorded).

When portal sync is not configured (``MOTCUA_PORTAL_URL`` unset and no portal message ever
written) the rates are ``None`` with ``configured = False``: the screens say *chưa cấu hình
đồng bộ* rather than 0 %, which would read as a failure of the unit rather than of the set-up.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import String, and_, case, cast, exists, func, literal, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.lifecycle.states import Action, Channel
from engine.outbox import DeliveryState, OutboxMessage
from engine.reports.grouping import group_key, key_labels
from engine.reports.period import Period
from engine.reports.sql import EV, D
from engine.reports.totals import By, rate
from engine.reports.verdict import DIRECT, ONLINE, POSTAL, Verdict

OUT = OutboxMessage.__table__
#: The outbox channel of the national portal (``engine.outbox.Channel.PORTAL``).
PORTAL_CHANNEL = "portal"
#: The action of the receipt event whose record makes a dossier synchronised.
RECEIPT_ACTION = Action.RECEIVE.value
#: Drill-down figures of :func:`behind_sync`.
SYNC_FIGURES = ("synchronised", "not_synchronised", "online_synchronised",
                "online_not_synchronised")


@dataclass
class SyncRate:
    """The sync counts of one group; the rates are properties (``None`` when sync is not
    configured or nothing was received)."""

    received: int = 0
    received_online: int = 0
    synchronised: int = 0
    online_synchronised: int = 0
    configured: bool = True

    @property
    def not_synchronised(self) -> int:
        return self.received - self.synchronised

    @property
    def sync_rate(self) -> float | None:
        """QĐ 766 1.4."""
        return rate(self.synchronised, self.received) if self.configured else None

    @property
    def indicator_3_3(self) -> float | None:
        """QĐ 766 3.3: online dossiers that reached the portal / received."""
        return rate(self.online_synchronised, self.received) if self.configured else None

    @property
    def indicator_3_3_product(self) -> float | None:
        """The literal formula: (online / received) × sync rate."""
        online, sync = rate(self.received_online, self.received), self.sync_rate
        return None if online is None or sync is None else online * sync

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "not_synchronised": self.not_synchronised,
                "sync_rate": self.sync_rate, "indicator_1_4": self.sync_rate,
                "indicator_3_3": self.indicator_3_3,
                "indicator_3_3_product": self.indicator_3_3_product}


@dataclass
class SyncGroup:
    key: str
    label: str
    sync: SyncRate


@dataclass
class SyncRateReport:
    period: Period
    by: By
    configured: bool
    totals: SyncRate
    groups: list[SyncGroup] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"period": self.period.as_dict(), "by": self.by.value,
                "configured": self.configured, "totals": self.totals.as_dict(),
                "groups": [{"key": g.key, "label": g.label, "sync": g.sync.as_dict()}
                           for g in self.groups]}


# ----- the conditions ------------------------------------------------------------------------

def synchronised_clause() -> ColumnElement[bool]:
    """The dossier (``D``) has its receipt event's portal message delivered: an ``EXISTS``
    over its events (indexed by dossier) joined to the outbox by the unique message key."""
    key = literal("portal:") + D.c.code + literal(":") + cast(EV.c.seq, String)
    return exists(
        select(EV.c.id).select_from(EV.join(OUT, OUT.c.key == key))
        .where(EV.c.dossier_id == D.c.id, EV.c.action == RECEIPT_ACTION,
               OUT.c.dossier_code == D.c.code, OUT.c.channel == PORTAL_CHANNEL,
               OUT.c.state == DeliveryState.DELIVERED.value))


def _received(period: Period) -> ColumnElement[bool]:
    return and_(D.c.received_at >= period.starts_at, D.c.received_at < period.ends_before)


def _figure_condition(period: Period, figure: str) -> ColumnElement[bool]:
    synced, online = synchronised_clause(), D.c.channel == Channel.ONLINE.value
    return and_(_received(period), {
        "synchronised": synced, "not_synchronised": ~synced,
        "online_synchronised": and_(online, synced),
        "online_not_synchronised": and_(online, ~synced)}[figure])


def portal_configured(session: Session, env: Mapping[str, str] = os.environ) -> bool:
    """Portal sync is on (``MOTCUA_PORTAL_URL`` set) or was on once (a portal message exists)."""
    if env.get("MOTCUA_PORTAL_URL", "").strip():
        return True
    return bool(session.execute(select(exists(
        select(OUT.c.id).where(OUT.c.channel == PORTAL_CHANNEL)))).scalar())


def _counts(session: Session, period: Period, by: By, where: ColumnElement[bool] | None,
            configured: bool) -> dict[str, SyncRate]:
    """One grouped scan of the received dossiers, the ``EXISTS`` evaluated once per row."""
    dialect = session.get_bind().dialect.name
    key, frm = group_key(by, dialect)
    online = case((D.c.channel == Channel.ONLINE.value, 1), else_=0)
    synced = case((synchronised_clause(), 1), else_=0)
    rows = (select(key.label("k"), online.label("o"), synced.label("s"))
            .select_from(frm).where(_received(period)))
    if where is not None:
        rows = rows.where(where)
    v = rows.subquery("v")
    outer_key = literal("") if by is By.NONE else v.c.k  # a plain constant: no GROUP BY
    query = select(outer_key, func.count(), func.coalesce(func.sum(v.c.o), 0),
                   func.coalesce(func.sum(v.c.s), 0),
                   func.coalesce(func.sum(v.c.o * v.c.s), 0))
    if by is not By.NONE:  # PostgreSQL refuses a constant in GROUP BY
        query = query.group_by(v.c.k)
    return {row[0] or "": SyncRate(*(int(x) for x in row[1:]), configured=configured)
            for row in session.execute(query) if row[1]}


def sync_rate(session: Session, period: Period, by: By | str = By.NONE, *,
              where: ColumnElement[bool] | None = None,
              configured: bool | None = None) -> SyncRateReport:
    """The sync rate, QĐ 766 1.4 and 3.3 of ``period`` grouped ``by`` (not by step: a
    hand-off is not synchronised); ``where`` narrows the dossiers (the reader's scope);
    ``configured`` overrides :func:`portal_configured`."""
    by = By(by)
    if by is By.STEP:
        raise ValueError("tỷ lệ đồng bộ không tính theo bước xử lý")
    if configured is None:
        configured = portal_configured(session)
    totals = _counts(session, period, By.NONE, where, configured).get(
        "", SyncRate(configured=configured))
    if by is By.NONE:
        return SyncRateReport(period, by, configured, totals)
    groups = _counts(session, period, by, where, configured)
    labels = key_labels(session, by, groups)
    return SyncRateReport(period, by, configured, totals,
                          [SyncGroup(k, labels.get(k, k), groups[k]) for k in sorted(groups)])


def behind_sync(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
                key: str | None = None, where: ColumnElement[bool] | None = None,
                ) -> dict[str, Verdict]:
    """The dossiers behind one sync figure (of one group when ``key`` is given), by code, as
    :func:`engine.reports.drilldown.describe` takes them (no clock verdict)."""
    by = By(by)
    if figure not in SYNC_FIGURES:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join(SYNC_FIGURES)}")
    if by is By.STEP:
        raise ValueError("tỷ lệ đồng bộ không tính theo bước xử lý")
    key_expr, frm = group_key(by, session.get_bind().dialect.name)
    query = (select(D.c.code, key_expr.label("k"), D.c.channel, D.c.end_kind)
             .select_from(frm).where(_figure_condition(period, figure)).order_by(D.c.code))
    if where is not None:
        query = query.where(where)
    if key is not None:
        query = query.where(key_expr == key)
    entry = {Channel.ONLINE.value: ONLINE, Channel.POSTAL.value: POSTAL}
    return {row.code: Verdict(row.code, row.k or "", -1, entry.get(row.channel, DIRECT),
                              row.end_kind, False, "", False)
            for row in session.execute(query.execution_options(yield_per=5000))}
