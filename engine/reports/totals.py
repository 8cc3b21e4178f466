"""What a report counts: the groupings, the totals of one group with their rates, and what each
figure means (definitions and legal marks in ``docs/reports.md``; domain §3 T12, §4.10, §6.2).

- *received*: formal receipt (``received_at``) in the period, split online / direct (counter,
  kiosk) / postal; *carried over*: received before the period and not ended before it;
- *ended*: end of processing (``ended_at``: the first of result ready, returned, refused,
  stopped, withdrawn) in the period, split early / on time / late against the legal due date;
- *pending*: not ended at the end of the period, within time or late;
- *withdrawn*, *refused* (after appraisal): of which, among the ended;
- the on-time rate of QĐ 766 rule 2.1 and the stricter closed on-time rate;
- apology coverage of the late dossiers (ended late or pending late).

Plain data: no SQL, no session. How a dossier lands in these counts is
:mod:`engine.reports.verdict`; how the counts are computed is :mod:`engine.reports.figures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any

from engine.reports.period import Period


class By(StrEnum):
    """Groupings of the report (``--by``)."""

    NONE = "none"
    AGENCY = "agency"  # competent agency (cơ quan giải quyết)
    RECEIVING = "receiving"  # receiving one-stop unit (nơi tiếp nhận)
    LEVEL = "level"  # bộ / tỉnh / xã of the competent agency
    FIELD = "field"  # lĩnh vực of the procedure version
    PROCEDURE = "procedure"
    CHANNEL = "channel"
    OFFICER = "officer"  # the dossier's (last) assigned processing officer
    STEP = "step"  # hand-off rows of the control sheet, per step


@dataclass(frozen=True, slots=True)
class Options:
    """Settings of the figures (all [I], documented in ``docs/reports.md``)."""

    #: Withdrawn dossiers end processing (QĐ 766 rule 2.1 counts them among the processed,
    #: T11). False: they are reported apart and left out of ended, pending and the rates.
    withdrawn_counts_as_ended: bool = True
    #: "Apology reached the applicant" counts deliveries by the legal due date (local day)
    #: only; False: any delivery by the period end (``engine.reports.reached``).
    apology_reached_by_due: bool = False


@dataclass
class Totals:
    """The counts of one group. Derived figures are properties, never stored twice."""

    received_online: int = 0
    received_direct: int = 0  # counter and kiosk
    received_postal: int = 0
    carried_over: int = 0
    early: int = 0
    on_time: int = 0
    late: int = 0
    pending_within: int = 0
    pending_late: int = 0
    withdrawn: int = 0
    refused: int = 0  # refused after appraisal (T10): the result, among the ended
    stopped: int = 0
    on_time_766: int = 0  # numerator of QĐ 766 rule 2.1
    apology_in_time: int = 0
    apology_late: int = 0
    apology_missing: int = 0
    #: of the late dossiers with an apology: its message was delivered to the applicant
    #: (e-mail or SMS; ``engine.reports.reached``; not folded from the verdict codes)
    apology_reached: int = 0
    replayed: int = 0  # dossiers judged by replaying their events (not a figure)

    def add(self, other: Totals) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    @property
    def received(self) -> int:
        return self.received_online + self.received_direct + self.received_postal

    @property
    def ended(self) -> int:
        return self.early + self.on_time + self.late

    @property
    def pending(self) -> int:
        return self.pending_within + self.pending_late

    @property
    def on_time_rate_766(self) -> float | None:
        return rate(self.on_time_766, self.ended + self.pending)

    @property
    def closed_on_time_rate(self) -> float | None:
        return rate(self.early + self.on_time, self.ended)

    @property
    def online_rate(self) -> float | None:
        return rate(self.received_online, self.received)

    @property
    def postal_rate(self) -> float | None:
        return rate(self.received_postal, self.received)

    def dashboard(self) -> dict[str, Any]:
        """The dashboard JSON of one group — a contract: keep keys and shape."""
        return {
            "received": self.received,
            "carried_over": self.carried_over,
            "ended": {"early": self.early, "on_time": self.on_time, "late": self.late},
            "pending": {"within": self.pending_within, "late": self.pending_late},
            "withdrawn": self.withdrawn,
            "refused": self.refused,
            "on_time_rate_766": self.on_time_rate_766,
            "closed_on_time_rate": self.closed_on_time_rate,
            "apology": {"in_time": self.apology_in_time, "late": self.apology_late,
                        "missing": self.apology_missing, "reached": self.apology_reached},
        }

    def flat(self) -> dict[str, Any]:
        """Every figure as one flat row (CSV, tables, Excel)."""
        return {
            "received": self.received, "received_online": self.received_online,
            "received_direct": self.received_direct, "received_postal": self.received_postal,
            "carried_over": self.carried_over, "total_in": self.received + self.carried_over,
            "ended": self.ended, "ended_early": self.early, "ended_on_time": self.on_time,
            "ended_late": self.late, "pending": self.pending,
            "pending_within": self.pending_within, "pending_late": self.pending_late,
            "withdrawn": self.withdrawn, "refused": self.refused, "stopped": self.stopped,
            "on_time_rate_766": self.on_time_rate_766,
            "closed_on_time_rate": self.closed_on_time_rate,
            "online_rate": self.online_rate, "postal_rate": self.postal_rate,
            "apology_in_time": self.apology_in_time, "apology_late": self.apology_late,
            "apology_missing": self.apology_missing, "apology_reached": self.apology_reached,
        }


def rate(numerator: int, denominator: int) -> float | None:
    """A share, or ``None`` (shown "—") when nothing was counted: 0 % would be a claim."""
    return numerator / denominator if denominator else None


#: What each figure means; shown beside the numbers (table, Excel, PDF, docs).
DEFINITIONS: dict[str, str] = {
    "received": "Tiếp nhận mới trong kỳ (ngày tiếp nhận chính thức trong kỳ) — trực tuyến + "
                "trực tiếp + bưu chính",
    "received_online": "Tiếp nhận trong kỳ, kênh trực tuyến",
    "received_direct": "Tiếp nhận trong kỳ, trực tiếp tại quầy (kể cả ki-ốt)",
    "received_postal": "Tiếp nhận trong kỳ, qua bưu chính công ích",
    "carried_over": "Từ kỳ trước: tiếp nhận trước kỳ, chưa kết thúc xử lý trước ngày đầu kỳ",
    "total_in": "Tổng số phải giải quyết = tiếp nhận mới + từ kỳ trước",
    "ended": "Đã giải quyết: kết thúc xử lý trong kỳ (có kết quả, trả kết quả, từ chối, dừng, "
             "rút) — mặc định tính cả hồ sơ rút (QĐ 766 tiêu chí 2.1)",
    "ended_early": "Trước hạn: ngày kết thúc xử lý < hạn giải quyết theo luật (T12)",
    "ended_on_time": "Đúng hạn: ngày kết thúc xử lý = hạn giải quyết",
    "ended_late": "Quá hạn: ngày kết thúc xử lý > hạn giải quyết (thư xin lỗi không làm hồ sơ "
                  "thành đúng hạn, T9)",
    "pending": "Đang giải quyết tại cuối kỳ",
    "pending_within": "Đang giải quyết, trong hạn: ngày cuối kỳ ≤ hạn giải quyết",
    "pending_late": "Đang giải quyết, quá hạn: ngày cuối kỳ > hạn giải quyết",
    "withdrawn": "Trong số đã giải quyết: công dân rút hồ sơ",
    "refused": "Trong số đã giải quyết: từ chối giải quyết sau thẩm định (Mẫu 03 là kết quả)",
    "stopped": "Trong số đã giải quyết: dừng giải quyết theo yêu cầu",
    "on_time_rate_766": "Tỷ lệ đúng hạn QĐ 766 tiêu chí 2.1 = (trước hạn + đúng hạn + đang "
                        "giải quyết trong hạn) / (đã giải quyết + đang giải quyết); hồ sơ bị "
                        "yêu cầu bổ sung quá 1 lần tính là quá hạn",
    "closed_on_time_rate": "Tỷ lệ đúng hạn (chặt) = (trước hạn + đúng hạn) / đã giải quyết",
    "online_rate": "Tỷ lệ trực tuyến = tiếp nhận trực tuyến / tiếp nhận mới",
    "postal_rate": "Tỷ lệ bưu chính = tiếp nhận qua bưu chính / tiếp nhận mới",
    # Channel targets and satisfaction (issue 16): engine.reports.channels, .satisfaction
    "procedures_online_rate": "Tỷ lệ thủ tục có hồ sơ trực tuyến = số thủ tục có ít nhất 1 hồ "
                              "sơ tiếp nhận trực tuyến trong kỳ / số thủ tục có hồ sơ tiếp "
                              "nhận trong kỳ",
    "processed_online_rate": "Tỷ lệ hồ sơ trực tuyến được xử lý trực tuyến (toàn trình) = hồ "
                             "sơ tiếp nhận trực tuyến, trả kết quả trong kỳ bằng hình thức "
                             "trực tuyến / hồ sơ tiếp nhận trực tuyến đã trả kết quả trong kỳ",
    "online_result_rate": "Tỷ lệ trả kết quả trực tuyến = hồ sơ trả kết quả trong kỳ bằng "
                          "hình thức trực tuyến / hồ sơ trả kết quả trong kỳ",
    "satisfaction_average": "Điểm hài lòng trung bình (1–5) của các đánh giá gửi trong kỳ, "
                            "sau khi nhận kết quả",
    "satisfied_rate": "Tỷ lệ đánh giá hài lòng = đánh giá từ 4 điểm / số đánh giá trong kỳ",
    "indicator_5_4": "QĐ 766 tiêu chí 5.4 = 100% − (tỷ lệ hồ sơ trễ hạn theo tiêu chí 2.1 + "
                     "tỷ lệ hồ sơ bị đánh giá không hài lòng (≤ 2 điểm, cấu hình được) đến "
                     "cuối kỳ); hệ thống chưa ghi nhận phản ánh, kiến nghị",
    # National portal sync (issue 17): engine.reports.sync_rate, docs/sync.md "Sync rate"
    "synchronised": "Hồ sơ tiếp nhận trong kỳ đã đồng bộ lên Cổng DVC quốc gia (bản ghi của "
                    "sự kiện tiếp nhận đã được Cổng nhận)",
    "sync_rate": "QĐ 766 tiêu chí 1.4 = hồ sơ đã đồng bộ / hồ sơ tiếp nhận trong kỳ; "
                 "“chưa đồng bộ” khi chưa cấu hình đồng bộ",
    "indicator_3_3": "QĐ 766 tiêu chí 3.3 = hồ sơ trực tuyến đã đồng bộ / hồ sơ tiếp nhận "
                     "trong kỳ (hồ sơ chưa đồng bộ không được tính)",
    "indicator_3_3_product": "QĐ 766 tiêu chí 3.3 theo công thức nhân = tỷ lệ trực tuyến × "
                             "tỷ lệ đồng bộ",
    "apology_in_time": "Hồ sơ quá hạn (đã giải quyết quá hạn hoặc đang quá hạn) có thư xin "
                       "lỗi gửi đúng thời hạn (chậm nhất 1 ngày làm việc trước hạn, T9)",
    "apology_late": "Hồ sơ quá hạn có thư xin lỗi gửi muộn",
    "apology_missing": "Hồ sơ quá hạn chưa có thư xin lỗi (tại cuối kỳ)",
    "apology_reached": "Trong số hồ sơ quá hạn có thư xin lỗi (đúng hạn hoặc muộn): thư đã "
                       "gửi đến người nộp qua thư điện tử hoặc tin nhắn (hệ thống ghi nhận "
                       "đã giao) đến cuối kỳ",
}


@dataclass
class Group:
    """The totals of one group key (an agency code, a procedure code …) and its label."""

    key: str
    label: str
    totals: Totals


@dataclass
class Figures:
    """A whole report: the totals over every group, and each group (none when not grouped)."""

    period: Period
    by: By
    totals: Totals
    groups: list[Group] = field(default_factory=list)
    options: Options = field(default_factory=Options)

    def dashboard(self) -> dict[str, Any]:
        """The dashboard JSON (a contract: ``{"period", "totals", "groups"}``)."""
        return {"period": self.period.as_dict(), "totals": self.totals.dashboard(),
                "groups": [{"key": g.key, "totals": g.totals.dashboard()}
                           for g in self.groups]}
