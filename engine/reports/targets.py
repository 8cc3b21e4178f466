"""The issue-16 figures in the report files: the channel targets
(:mod:`engine.reports.channels`) and satisfaction with QĐ 766 5.4
(:mod:`engine.reports.satisfaction`), as extra CSV columns per group and two Excel sheets —
the same numbers as ``/api/v1/reports/channel-targets`` and ``/satisfaction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session

from engine.reports.channels import ChannelReport, ChannelTargets, channel_targets
from engine.reports.period import Period
from engine.reports.satisfaction import Satisfaction, SatisfactionReport, satisfaction
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
}
TARGET_COLUMNS = list(TARGET_LABELS)


@dataclass
class Targets:
    channels: ChannelReport
    satisfaction: SatisfactionReport

    def flat(self) -> dict[str, dict[str, Any]]:
        """The extra columns per group key, and ``TOTAL``."""
        channel_groups = {g.key: g.targets for g in self.channels.groups}
        satisfaction_groups = {g.key: g.satisfaction for g in self.satisfaction.groups}
        rows = {k: _flat(channel_groups.get(k, ChannelTargets()),
                         satisfaction_groups.get(k, Satisfaction()))
                for k in {*channel_groups, *satisfaction_groups}}
        rows["TOTAL"] = _flat(self.channels.totals, self.satisfaction.totals)
        return rows


def _flat(c: ChannelTargets, s: Satisfaction) -> dict[str, Any]:
    return {"procedures": c.procedures, "procedures_online": c.procedures_online,
            "procedures_online_rate": c.procedures_online_rate,
            "online_returned": c.online_returned,
            "online_returned_online": c.online_returned_online,
            "processed_online_rate": c.processed_online_rate, "returned": c.returned,
            "returned_online": c.returned_online, "online_result_rate": c.online_result_rate,
            "rating_count": s.count, "rating_average": s.average,
            "satisfied_rate": s.satisfied_rate, "disliked": s.disliked,
            "disliked_766": s.disliked_766, "indicator_5_4": s.indicator_5_4}


def targets(session: Session, period: Period, by: By, *,
            where: ColumnElement[bool] | None = None,
            options: Options | None = None) -> Targets | None:
    """Both reports grouped like the figures; None grouped by step (no channel, no rating)."""
    if By(by) is By.STEP:
        return None
    return Targets(channel_targets(session, period, by, where=where),
                   satisfaction(session, period, by, where=where, options=options))


def write_sheets(wb: Any, data: Targets | None) -> None:
    """Two sheets of an openpyxl workbook: *Chỉ tiêu kênh* and *Hài lòng*."""
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
    rating_columns = TARGET_COLUMNS[len(channel_columns):]
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

    if figure in FIGURES:
        return behind(session, period, figure, by=by, key=key, where=where, options=options)
    if figure not in (*TARGET_FIGURES, *SATISFACTION_FIGURES):
        raise ValueError(f"chỉ tiêu không hợp lệ {figure!r}; cho phép: "
                         f"{', '.join((*FIGURES, *TARGET_FIGURES, *SATISFACTION_FIGURES))}")
    if By(by) is By.STEP:
        raise ValueError("chỉ tiêu kênh và mức độ hài lòng không tính theo bước xử lý")
    if figure in TARGET_FIGURES:
        return behind_target(session, period, figure, by=by, key=key, where=where)
    return behind_satisfaction(session, period, figure, by=by, key=key, where=where,
                               options=options)
