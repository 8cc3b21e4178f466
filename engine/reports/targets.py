"""The issue-16 figures in the report files: the channel targets
(:mod:`engine.reports.channels`) and satisfaction with QĐ 766 5.4
(:mod:`engine.reports.satisfaction`), as extra CSV columns per group and two Excel sheets —
the same numbers as ``/api/v1/reports/channel-targets`` and ``/satisfaction``; and the sync
rate with QĐ 766 1.4 and 3.3 (:mod:`engine.reports.sync_rate`, issue 17), a third sheet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.channels import ChannelReport, ChannelTargets, channel_targets
from engine.reports.period import Period
from engine.reports.satisfaction import Satisfaction, SatisfactionReport, satisfaction
from engine.reports.sync_rate import SyncRate, SyncRateReport, sync_rate
from engine.reports.totals import By, Options

#: Extra flat columns (CSV) and their Vietnamese titles.
TARGET_LABELS: dict[str, str] = {
    "procedures": "Số thủ tục có hồ sơ", "procedures_online": "Số thủ tục có hồ sơ trực tuyến",
    "procedures_online_rate": "Tỷ lệ thủ tục có hồ sơ trực tuyến",
    "online_returned": "Hồ sơ trực tuyến đã trả kết quả",
    "online_returned_online": "Trong đó: trả kết quả trực tuyến (toàn trình)",
    "processed_online_rate": "Tỷ lệ hồ sơ trực tuyến xử lý trực tuyến",
    "returned": "Đã trả kết quả", "returned_online": "Trả kết quả trực tuyến",
    "online_result_rate": "Tỷ lệ trả kết quả trực tuyến",
    "rating_count": "Số đánh giá", "rating_average": "Điểm hài lòng trung bình",
    "satisfied_rate": "Tỷ lệ đánh giá hài lòng (≥ 4 điểm)",
    "disliked": "Đánh giá không hài lòng", "disliked_766": "Hồ sơ không hài lòng (5.4)",
    "indicator_5_4": "Tỷ lệ hài lòng QĐ 766 (5.4)",
    "synchronised": "Hồ sơ đã đồng bộ lên Cổng DVCQG",
    "online_synchronised": "Hồ sơ trực tuyến đã đồng bộ",
    "sync_rate": "Tỷ lệ hồ sơ đồng bộ QĐ 766 (1.4)",
    "indicator_3_3": "Tỷ lệ hồ sơ trực tuyến × đồng bộ QĐ 766 (3.3)",
}
TARGET_COLUMNS = list(TARGET_LABELS)


#: The columns of the sync sheet (the last ones; an empty cell with sync not configured).
SYNC_COLUMNS = TARGET_COLUMNS[TARGET_COLUMNS.index("synchronised"):]


@dataclass
class Targets:
    channels: ChannelReport
    satisfaction: SatisfactionReport
    sync: SyncRateReport | None = None

    def flat(self) -> dict[str, dict[str, Any]]:
        """The extra columns per group key, and ``TOTAL``."""
        channel_groups = {g.key: g.targets for g in self.channels.groups}
        satisfaction_groups = {g.key: g.satisfaction for g in self.satisfaction.groups}
        sync_groups = {g.key: g.sync for g in self.sync.groups} if self.sync else {}
        configured = self.sync.configured if self.sync else False
        rows = {k: _flat(channel_groups.get(k, ChannelTargets()),
                         satisfaction_groups.get(k, Satisfaction()),
                         sync_groups.get(k, SyncRate(configured=configured)))
                for k in {*channel_groups, *satisfaction_groups, *sync_groups}}
        rows["TOTAL"] = _flat(self.channels.totals, self.satisfaction.totals,
                              self.sync.totals if self.sync else SyncRate(configured=False))
        return rows


def _flat(c: ChannelTargets, s: Satisfaction, y: SyncRate) -> dict[str, Any]:
    return {"procedures": c.procedures, "procedures_online": c.procedures_online,
            "procedures_online_rate": c.procedures_online_rate,
            "online_returned": c.online_returned,
            "online_returned_online": c.online_returned_online,
            "processed_online_rate": c.processed_online_rate, "returned": c.returned,
            "returned_online": c.returned_online, "online_result_rate": c.online_result_rate,
            "rating_count": s.count, "rating_average": s.average,
            "satisfied_rate": s.satisfied_rate, "disliked": s.disliked,
            "disliked_766": s.disliked_766, "indicator_5_4": s.indicator_5_4,
            "synchronised": y.synchronised if y.configured else None,
            "online_synchronised": y.online_synchronised if y.configured else None,
            "sync_rate": y.sync_rate, "indicator_3_3": y.indicator_3_3}


def targets(session: Session, period: Period, by: By, *,
            where: ColumnElement[bool] | None = None,
            options: Options | None = None) -> Targets | None:
    """The three reports grouped like the figures; None grouped by step (no channel, no
    rating, no sync)."""
    if By(by) is By.STEP:
        return None
    return Targets(channel_targets(session, period, by, where=where),
                   satisfaction(session, period, by, where=where, options=options),
                   sync_rate(session, period, by, where=where))


def write_sheets(wb: Any, data: Targets | None) -> None:
    """Three sheets of an openpyxl workbook: *Chỉ tiêu kênh*, *Hài lòng* and *Đồng bộ*."""
    if data is None:
        return
    ws = wb.create_sheet("Chỉ tiêu kênh")
    channel_columns = TARGET_COLUMNS[:TARGET_COLUMNS.index("rating_count")]
    ws.append(["Mã nhóm", "Nhóm", *(TARGET_LABELS[c] for c in channel_columns)])
    flat = data.flat()
    labels = {g.key: g.label for g in data.channels.groups}
    labels.update({g.key: g.label for g in data.satisfaction.groups})
    keys = sorted(k for k in flat if k != "TOTAL")
    for key in [*keys, "TOTAL"]:
        label = "Tổng cộng" if key == "TOTAL" else labels.get(key, key)
        ws.append([key, label, *(_cell(flat[key][c]) for c in channel_columns)])
    ws = wb.create_sheet("Hài lòng")
    rating_columns = TARGET_COLUMNS[len(channel_columns):-len(SYNC_COLUMNS)]
    ws.append([f"Không hài lòng: từ {data.satisfaction.dislike_max} điểm trở xuống"])
    ws.append(["Mã nhóm", "Nhóm", *(TARGET_LABELS[c] for c in rating_columns),
               "Lý do nêu nhiều nhất"])
    reasons = {g.key: g.satisfaction for g in data.satisfaction.groups}
    reasons["TOTAL"] = data.satisfaction.totals
    for key in [*keys, "TOTAL"]:
        label = "Tổng cộng" if key == "TOTAL" else labels.get(key, key)
        top = reasons.get(key, Satisfaction()).top_reasons()
        ws.append([key, label, *(_cell(flat[key][c]) for c in rating_columns),
                   "; ".join(f"{r['label']} ({r['count']})" for r in top)])
    _sync_sheet(wb, data, keys, labels, flat)


def _sync_sheet(wb: Any, data: Targets, keys: list[str], labels: dict[str, str],
                flat: dict[str, dict[str, Any]]) -> None:
    """*Đồng bộ*: received, synchronised, QĐ 766 1.4 and 3.3 per group — or one line saying
    that portal sync is not configured (a 0 % would read as the unit's failure)."""
    ws = wb.create_sheet("Đồng bộ")
    if data.sync is None or not data.sync.configured:
        ws.append(["Chưa cấu hình đồng bộ với Cổng Dịch vụ công quốc gia (MOTCUA_PORTAL_URL)"])
        return
    labels = {**labels, **{g.key: g.label for g in data.sync.groups}}
    ws.append(["Mã nhóm", "Nhóm", "Tiếp nhận", *(TARGET_LABELS[c] for c in SYNC_COLUMNS)])
    received = {g.key: g.sync.received for g in data.sync.groups}
    received["TOTAL"] = data.sync.totals.received
    for key in [*keys, "TOTAL"]:
        label = "Tổng cộng" if key == "TOTAL" else labels.get(key, key)
        ws.append([key, label, received.get(key, 0),
                   *(_cell(flat[key][c]) for c in SYNC_COLUMNS)])


def _cell(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def behind_any(session: Session, period: Period, figure: str, *, by: By | str = By.NONE,
               key: str | None = None, where: ColumnElement[bool] | None = None,
               options: Options | None = None) -> dict[str, Any]:
    """The dossiers behind any figure a report shows — the clock's (``drilldown.behind``),
    the channel targets' and satisfaction's — for the dashboard's drill-down and ``motcua
    report --kind drill`` alike. ValueError (Vietnamese) for an unknown figure, or a channel
    or satisfaction figure asked by step (they are about the dossier, not a step)."""
    from engine.reports.channels import TARGET_FIGURES, behind_target
    from engine.reports.drilldown import FIGURES, behind
    from engine.reports.satisfaction import SATISFACTION_FIGURES, behind_satisfaction
    from engine.reports.sync_rate import SYNC_FIGURES, behind_sync

    if figure in FIGURES:
        return behind(session, period, figure, by=by, key=key, where=where, options=options)
    others = (*TARGET_FIGURES, *SATISFACTION_FIGURES, *SYNC_FIGURES)
    if figure not in others:
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join((*FIGURES, *others))}")
    if By(by) is By.STEP:
        raise ValueError("chỉ tiêu kênh, mức độ hài lòng và đồng bộ không tính theo bước "
                         "xử lý")
    if figure in TARGET_FIGURES:
        return behind_target(session, period, figure, by=by, key=key, where=where)
    if figure in SYNC_FIGURES:
        return behind_sync(session, period, figure, by=by, key=key, where=where)
    return behind_satisfaction(session, period, figure, by=by, key=key, where=where,
                               options=options)
