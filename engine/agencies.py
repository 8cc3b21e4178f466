"""Agencies (*cơ quan, đơn vị*) as the engine sees them: codes, names, levels, settings.

Levels are bộ / tỉnh / xã: the district level no longer exists since 01/7/2025 (domain §0.2).
The demo tree and real deployments are loaded from ``workflows/agencies.yaml``-style data.
"""

from __future__ import annotations

from datetime import time
from functools import lru_cache

from sqlmodel import Field, Session, SQLModel, select

from engine.deadline import ClockPolicy, DueTime, LateReceiptPolicy, NonWorkingDayReceipt


class Agency(SQLModel, table=True):
    __tablename__ = "agency"

    code: str = Field(primary_key=True, max_length=64)  # V1V2V3.Z1Z2.Y1Y2.MX1X2
    name: str = Field(max_length=255)
    short_name: str = Field(max_length=128)
    parent_code: str | None = Field(default=None, max_length=64)
    level: str = Field(max_length=8)  # bo | tinh | xa
    place_name: str = Field(max_length=128)  # địa danh on printed dates
    is_one_stop: bool = False
    one_stop_code: str | None = Field(default=None, max_length=64)  # the unit that serves it
    # Settings for rules the law leaves open (docs/deadlines.md).
    late_receipt_policy: str = Field(default=LateReceiptPolicy.SAME_DAY_ONLY.value, max_length=32)
    late_receipt_cutoff: str = Field(default="15:00", max_length=5)
    non_working_day_receipt: str = Field(
        default=NonWorkingDayReceipt.COUNT_FROM_RECEIPT.value, max_length=32)
    due_time: str = Field(default=DueTime.CLOSE_OF_OFFICE.value, max_length=32)
    code_scheme: str = Field(default="auto", max_length=16)  # auto | 2018 | centralised
    # What the sweeps warn about and when (``engine.timed.rules.SweepSettings``; [I] where the
    # law is silent, docs/notifications.md "Settings"): the warning horizon before a due date
    # (1 working day), how many working days a supplement may be awaited before the counter is
    # reminded (10), and the hours a competent agency has to accept a boundary-free dossier
    # once sent (0: the same working day, next morning if sent after 15:00).
    warn_ahead_amount: int = 1
    warn_ahead_unit: str = Field(default="working_days", max_length=16)
    supplement_wait_days: int = 10
    accept_within_hours: int = 0

    def clock_policy(self) -> ClockPolicy:
        return clock_policy_of(self.late_receipt_policy, self.late_receipt_cutoff,
                               self.non_working_day_receipt, self.due_time)


@lru_cache(maxsize=256)
def clock_policy_of(late_receipt_policy: str, late_receipt_cutoff: str,
                    non_working_day_receipt: str, due_time: str) -> ClockPolicy:
    """An agency's clock settings from their stored text (cached: every action needs them)."""
    return ClockPolicy(
        late_receipt_cutoff=time.fromisoformat(late_receipt_cutoff),
        late_receipt_policy=LateReceiptPolicy(late_receipt_policy),
        non_working_day_receipt=NonWorkingDayReceipt(non_working_day_receipt),
        due_time=DueTime(due_time),
    )


class AgencyProcedure(SQLModel, table=True):
    """Which one-stop unit receives which procedure, and which agency is competent for it."""

    __tablename__ = "agency_procedure"

    agency_code: str = Field(primary_key=True, max_length=64)
    procedure_code: str = Field(primary_key=True, max_length=32)
    relation: str = Field(primary_key=True, max_length=16)  # receives | competent


def get_agency(session: Session, code: str) -> Agency | None:
    return session.get(Agency, code)


def competent_agencies(session: Session, *, procedure_code: str) -> list[str]:
    rows = session.exec(select(AgencyProcedure.agency_code).where(
        AgencyProcedure.procedure_code == procedure_code,
        AgencyProcedure.relation == "competent"))
    return sorted(rows)


def receives(session: Session, *, agency_code: str, procedure_code: str) -> bool:
    return session.get(AgencyProcedure, (agency_code, procedure_code, "receives")) is not None


def default_competent(session: Session, *, receiving_code: str, procedure_code: str,
                      hold: list[Agency] | None = None) -> str | None:
    """The competent agency a one-stop unit sends a procedure to when the clerk names none:
    the one it serves (a commune centre → its People's Committee), else the only candidate.
    ``hold``: a list the candidates' rows are added to, so that the session finds the chosen
    one again without a query while the caller holds the list."""
    # Each candidate's row in one statement (a receipt's, not one per candidate): agencies
    # are held weakly by the session, so each lookup was a query.
    rows = session.exec(
        select(AgencyProcedure.agency_code, Agency)
        .join(Agency, Agency.code == AgencyProcedure.agency_code, isouter=True)
        .where(AgencyProcedure.procedure_code == procedure_code,
               AgencyProcedure.relation == "competent")).all()
    if hold is not None:
        hold.extend(row for _, row in rows if row is not None)
    candidates = sorted(code for code, _ in rows)
    served = sorted(code for code, row in rows
                    if row is not None and row.one_stop_code == receiving_code)
    if served:
        return served[0]
    return candidates[0] if len(candidates) == 1 else None


def province_of(agency_code: str) -> str:
    """The province part of an agency code (``…​.H26``: the last group of the national
    V1V2V3.Z1Z2.Y1Y2.MX1X2 code, QĐ 20/2020/QĐ-TTg)."""
    return agency_code.rsplit(".", 1)[-1]


def routing_errors(*, receiving: Agency, competent: Agency | None, returning: Agency | None,
                   candidates: list[str]) -> dict[str, str]:
    """Why a clerk's choice of competent agency or returning point is not allowed (empty if
    it is), as ``{field: Vietnamese message}``.

    An outside probe sent a commune civil-status dossier to a provincial department's queue
    and made a dossier visible to another unit's clerk by naming any agency. The rules:

    - the competent agency (*cơ quan giải quyết*) is one that the agency tree lists as
      competent for the procedure (``candidates``, when the tree lists any; the caller passes
      none for an agency its own unit serves); and it lies in the receiving unit's province
      (boundary-free receipt crosses communes, never provinces);
    - the returning point (*nơi trả kết quả*) is the receiving unit itself or another one-stop
      unit of the same province (results may be handed back at a commune's counter).
    """
    errors = {}
    province = province_of(receiving.code)
    if competent is not None:
        if candidates and competent.code not in candidates:
            errors["competent_agency"] = (
                f"{competent.name} không có thẩm quyền giải quyết thủ tục này; cơ quan có "
                f"thẩm quyền: {', '.join(candidates)}")
        elif province_of(competent.code) != province:
            errors["competent_agency"] = (
                f"{competent.name} không thuộc tỉnh/thành phố của {receiving.name}")
    elsewhere = returning is not None and returning.code != receiving.code
    if elsewhere and (not returning.is_one_stop or province_of(returning.code) != province):
        errors["returning_agency"] = (
            f"nơi trả kết quả phải là {receiving.name} hoặc một bộ phận một cửa khác cùng "
            "tỉnh/thành phố")
    return errors
