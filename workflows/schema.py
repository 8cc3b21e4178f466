"""Procedure definitions (*thủ tục hành chính*, TTHC) as validated data.

A procedure is catalogued nationally under a code such as ``1.001193`` and changes over time:
its time limit, components (*thành phần hồ sơ*), fees or internal steps are amended by new
legal texts. A dossier stays on the version in force on its receipt date (domain §0.2, decree118
§6), so every procedure carries a list of versions keyed by ``effective_from`` and
:meth:`Procedure.version_at` picks the one for a given day.

Units reuse :class:`engine.deadline.TimeUnit` and :class:`engine.clock.SupplementEffect` so the
catalogue can never hold a unit the deadline engine cannot count; a step's role is
:class:`engine.users.Role`, the role its holder has as a user.

Validation happens here, not in the loader, so a procedure built in code (tests, imports,
an admin screen) is held to the same rules as one read from YAML. Cross-field errors are raised
as :class:`LocatedError` carrying the location of the faulty part, which lets the loader point
at the exact YAML line (a step, not the whole version).
"""

from __future__ import annotations

import bisect
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from engine.clock import SupplementEffect
from engine.deadline import TimeLimit, TimeUnit
from engine.procedures import NoVersionInForce
from engine.text import nfc
from engine.timezone import to_local
from engine.users import Role

__all__ = [
    "DISTRICT_ABOLISHED_ON",
    "HOURS_PER_WORKING_DAY",
    "PROCEDURE_CODE_PATTERN",
    "CatalogueModel",
    "Component",
    "Duration",
    "Fee",
    "Level",
    "LevelField",
    "LinkMode",
    "LinkedAgency",
    "LocatedError",
    "NoVersionInForce",
    "OnlineService",
    "Procedure",
    "ProcedureVersion",
    "Result",
    "Role",
    "Step",
    "StepAction",
    "StepUnit",
]

#: Office hours in one working day, used to compare step budgets with a day-based limit.
HOURS_PER_WORKING_DAY = 8

#: Luật Tổ chức chính quyền địa phương 2025 (72/2025/QH15): two-tier local government.
DISTRICT_ABOLISHED_ON = date(2025, 7, 1)

PROCEDURE_CODE_PATTERN = r"^\d\.\d{6}$"


class LocatedError(ValueError):
    """A validation error that knows which part of the validated object is wrong.

    Pydantic reports a model validator's error at the model's own location (e.g. a whole
    version). ``loc`` is appended to that location by the loader, so the message lands on the
    line of the offending step or field.
    """

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc: tuple[str | int, ...] = loc


class CatalogueModel(BaseModel):
    """Base for catalogue models: immutable, unknown keys rejected (typos must not pass
    silently), strings stripped and NFC-normalised (:func:`engine.text.nfc`, keys too: text
    typed on another system may arrive decomposed, domain §7.7)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _normalise_text(cls, data: Any) -> Any:
        return nfc(data)


# ----- vocabularies -------------------------------------------------------------------------


class Level(StrEnum):
    """Administrative level of a procedure or agency. There is no district level since
    01/7/2025 (domain §0.2)."""

    BO = "bo"  # bộ, cơ quan ngang bộ (ministry)
    TINH = "tinh"  # cấp tỉnh (province / centrally-run city)
    XA = "xa"  # cấp xã (commune, ward, special zone)

    @property
    def label_vi(self) -> str:
        return {"bo": "Cấp bộ", "tinh": "Cấp tỉnh", "xa": "Cấp xã"}[self.value]

    @property
    def rank(self) -> int:
        """Higher is closer to the centre; a child agency never outranks its parent."""
        return {"bo": 3, "tinh": 2, "xa": 1}[self.value]


_DISTRICT_SPELLINGS = {"huyen", "huyện", "cap_huyen", "cấp huyện", "cap huyen", "district"}


def _reject_district(value: Any) -> Any:
    if isinstance(value, str) and nfc(value).strip().lower() in _DISTRICT_SPELLINGS:
        raise ValueError(
            f"level {value!r}: the district level (cấp huyện) was abolished on "
            f"{DISTRICT_ABOLISHED_ON:%d/%m/%Y} (Luật Tổ chức chính quyền địa phương 2025); "
            "use 'tinh' or 'xa'"
        )
    return value


#: A :class:`Level` that explains why ``huyen`` is refused instead of listing the enum.
LevelField = Annotated[Level, BeforeValidator(_reject_district)]


class OnlineService(StrEnum):
    """Level of online public service (*dịch vụ công trực tuyến*, ND 42/2022 wording)."""

    FULL = "full"  # toàn trình
    PARTIAL = "partial"  # một phần
    NONE = "none"

    @property
    def label_vi(self) -> str:
        return {"full": "Toàn trình", "partial": "Một phần", "none": "Không"}[self.value]


class StepAction(StrEnum):
    """What the holder of a step may do with the dossier (transitions of domain §2.2)."""

    RECEIVE = "receive"  # tiếp nhận, Mẫu 01
    GUIDE = "guide"  # hướng dẫn bổ sung tại quầy, Mẫu 02 (no dossier opened)
    REFUSE_AT_RECEPTION = "refuse_at_reception"  # từ chối tiếp nhận, Mẫu 03
    TRANSFER = "transfer"  # chuyển cơ quan có thẩm quyền
    ASSIGN = "assign"  # phân công xử lý
    FORWARD = "forward"  # chuyển bước tiếp theo
    SEND_BACK = "send_back"  # trả lại bước trước
    REQUEST_SUPPLEMENT = "request_supplement"  # yêu cầu bổ sung, hoàn thiện (T7)
    REQUEST_PAYMENT = "request_payment"  # yêu cầu thực hiện nghĩa vụ tài chính
    CONSULT = "consult"  # lấy ý kiến
    PAUSE = "pause"  # tạm dừng tính thời gian, with a listed reason (T8)
    RESUME = "resume"
    REFUSE = "refuse"  # từ chối giải quyết (T10)
    APOLOGISE = "apologise"  # xin lỗi, hẹn lại (T9)
    FINISH = "finish"  # ký duyệt, có kết quả (status 9)
    RETURN_RESULT = "return_result"  # trả kết quả (status 10)
    STOP = "stop"  # dừng giải quyết theo yêu cầu (T11)


class StepUnit(StrEnum):
    """Where a step happens. Any other string names another agency.

    Inside a :class:`LinkedAgency`, ``competent`` (the default) means that linked agency: it is
    the competent agency for its own part of the linked procedure.
    """

    ONE_STOP = "one_stop"  # Bộ phận Một cửa / Trung tâm Phục vụ hành chính công
    COMPETENT = "competent"  # cơ quan có thẩm quyền giải quyết


class LinkMode(StrEnum):
    """How a linked agency's part runs relative to the others (for the budget check)."""

    SEQUENTIAL = "sequential"
    PARALLEL = "parallel"


# ----- parts of a version -------------------------------------------------------------------


class Duration(CatalogueModel):
    """An amount of time in an engine unit: a legal time limit or a step budget.

    ``same_day`` takes no amount (it is always 1); other units must follow
    :class:`engine.deadline.TimeLimit` (non-negative, whole numbers except hours).
    """

    amount: float = 1
    unit: TimeUnit

    @model_validator(mode="after")
    def _valid_for_engine(self) -> Duration:
        if self.unit is TimeUnit.SAME_DAY and self.amount != 1:
            raise LocatedError("same_day takes no amount (it is always 1)", "amount")
        try:
            TimeLimit(self.amount, self.unit)
        except ValueError as exc:
            raise LocatedError(str(exc), "amount") from None
        return self

    def as_time_limit(self) -> TimeLimit:
        """The engine value, for :func:`engine.deadline.compute_due`."""
        return TimeLimit(self.amount, self.unit)

    @property
    def max_working_hours(self) -> float:
        """Upper bound of the office hours this duration can contain.

        Working days count 8 h each and ``same_day`` 8 h (one working day). A calendar-day
        span contains *at most* as many working days as calendar days (every day could be a
        working day, e.g. with make-up Saturdays), so ``N calendar days`` is bounded by
        ``8 × N`` hours. The exact figure depends on the receipt date and the holiday table,
        so the budget check against a calendar-day limit is only this upper bound: it never
        rejects a valid definition, and the runtime clock catches the rest.
        """
        if self.unit is TimeUnit.WORKING_HOURS:
            return float(self.amount)
        if self.unit is TimeUnit.SAME_DAY:
            return float(HOURS_PER_WORKING_DAY)
        return float(self.amount) * HOURS_PER_WORKING_DAY

    @property
    def label_vi(self) -> str:
        return self.as_time_limit().label_vi


class Component(CatalogueModel):
    """One document of the dossier (*thành phần hồ sơ*): how many originals and copies."""

    name: str = Field(min_length=1)
    originals: int = Field(0, ge=0)  # bản chính
    copies: int = Field(0, ge=0)  # bản sao
    required: bool = True
    note: str | None = None

    @model_validator(mode="after")
    def _at_least_one_paper(self) -> Component:
        if self.originals + self.copies < 1:
            raise LocatedError(
                f"component {self.name!r}: originals + copies must be at least 1 "
                "(a note without a document belongs in the version's note)", "originals")
        return self


class Fee(CatalogueModel):
    """A fee or charge (*phí, lệ phí*). ``amount_vnd`` is empty when the provincial People's
    Council sets it; then ``note`` must say so."""

    name: str = Field(min_length=1)
    amount_vnd: int | None = Field(None, ge=0)
    note: str | None = None

    @model_validator(mode="after")
    def _unknown_amount_explained(self) -> Fee:
        if self.amount_vnd is None and not self.note:
            raise LocatedError(
                f"fee {self.name!r}: give amount_vnd, or a note saying who sets it", "amount_vnd")
        return self


class Result(CatalogueModel):
    """What the applicant receives (*kết quả thực hiện*)."""

    type: str = Field(min_length=1)
    is_document: bool = True


class Step(CatalogueModel):
    """An internal processing step with its own time budget (*quy trình nội bộ*)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    role: Role
    unit: str = StepUnit.COMPETENT.value
    budget: Duration
    actions: list[StepAction] = Field(min_length=1)

    @field_validator("unit")
    @classmethod
    def _unit_not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("unit must be one_stop, competent or the name of an agency")
        return value

    @field_validator("actions")
    @classmethod
    def _actions_unique(cls, value: list[StepAction]) -> list[StepAction]:
        seen: set[StepAction] = set()
        for index, action in enumerate(value):
            if action in seen:
                raise LocatedError(f"action {action.value!r} listed twice", index)
            seen.add(action)
        return value

    @property
    def is_named_agency(self) -> bool:
        return self.unit not in {u.value for u in StepUnit}


class LinkedAgency(CatalogueModel):
    """The part of a linked procedure (*liên thông*) handled by another agency, with its own
    steps and budgets (ND 61 Art 19(6)–(7), carried over).

    ``mode`` only serves the budget check: sequential parts add to the lead agency's steps,
    parallel parts overlap each other (the police and the social-insurance office both act on
    the same birth record), so only the longest one counts.
    """

    agency: str = Field(min_length=1)
    level: LevelField
    procedure: str = Field(min_length=1)  # name of the linked procedure
    procedure_code: str | None = Field(None, pattern=PROCEDURE_CODE_PATTERN)
    mode: LinkMode = LinkMode.SEQUENTIAL
    steps: list[Step] = Field(min_length=1)

    @property
    def max_working_hours(self) -> float:
        return sum(step.budget.max_working_hours for step in self.steps)


class ProcedureVersion(CatalogueModel):
    """The procedure as defined from ``effective_from`` until the next version."""

    effective_from: date
    legal_basis: list[str] = Field(min_length=1)
    time_limit: Duration
    supplement_effect: SupplementEffect = SupplementEffect.RESTART
    pause_reasons: list[str] = Field(default_factory=list)
    components: list[Component] = Field(min_length=1)
    fees: list[Fee] = Field(default_factory=list)
    result: Result
    online: OnlineService
    steps: list[Step] = Field(min_length=1)
    linked: list[LinkedAgency] = Field(default_factory=list)
    competent_agency: str | None = None  # overrides the procedure's for this version
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ProcedureVersion:
        self._check_step_ids()
        self._check_lifecycle_ends()
        self._check_budgets()
        return self

    def _check_step_ids(self) -> None:
        seen: dict[str, str] = {}
        for loc, step in self._located_steps():
            where = ".".join(str(p) for p in loc)
            if step.id in seen:
                raise LocatedError(
                    f"step id {step.id!r} is used twice (first at {seen[step.id]})", *loc, "id")
            seen[step.id] = where

    def _check_lifecycle_ends(self) -> None:
        """A dossier must be able to enter (receive) and leave (return_result) the process."""
        actions = {action for step in self.steps for action in step.actions}
        for needed in (StepAction.RECEIVE, StepAction.RETURN_RESULT):
            if needed not in actions:
                raise LocatedError(f"no step has the action {needed.value!r}", "steps")

    def _check_budgets(self) -> None:
        """Step budgets must fit in the legal time limit.

        Sequential parts add up; parallel linked parts overlap, so only the longest counts.
        Calendar-day limits are compared through :attr:`Duration.max_working_hours`, an upper
        bound (see there); the error names the step at which the running total overflows.
        """
        limit_hours = self.time_limit.max_working_hours
        approx = " (upper bound for calendar days)" if (
            self.time_limit.unit is TimeUnit.CALENDAR_DAYS) else ""
        total = 0.0
        for index, step in enumerate(self.steps):
            total += step.budget.max_working_hours
            if total > limit_hours:
                raise LocatedError(
                    f"step budgets reach {_hours(total)} working hours at step {step.id!r}, "
                    f"more than the time limit {self.time_limit.label_vi} = "
                    f"{_hours(limit_hours)} h{approx}", "steps", index, "budget")
        parallel = 0.0
        for index, link in enumerate(self.linked):
            if link.mode is LinkMode.PARALLEL:
                parallel = max(parallel, link.max_working_hours)
                running = total + parallel
            else:
                total += link.max_working_hours
                running = total + parallel
            if running > limit_hours:
                raise LocatedError(
                    f"with the linked part of {link.agency!r} the budgets reach "
                    f"{_hours(running)} working hours, more than the time limit "
                    f"{self.time_limit.label_vi} = {_hours(limit_hours)} h{approx}",
                    "linked", index)

    def _located_steps(self) -> list[tuple[tuple[str | int, ...], Step]]:
        located: list[tuple[tuple[str | int, ...], Step]] = [
            (("steps", i), step) for i, step in enumerate(self.steps)]
        for j, link in enumerate(self.linked):
            located += [(("linked", j, "steps", k), step) for k, step in enumerate(link.steps)]
        return located

    @property
    def all_steps(self) -> list[Step]:
        """Own steps followed by the linked agencies' steps."""
        return [step for _, step in self._located_steps()]

    def step(self, step_id: str) -> Step:
        for candidate in self.all_steps:
            if candidate.id == step_id:
                return candidate
        raise KeyError(step_id)


def _hours(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def _code_not_a_number(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(
            f"procedure code {value!r} was read as a number: quote it in YAML, "
            "e.g. code: \"1.001193\" (unquoted, trailing zeros are lost)")
    return value


class Procedure(CatalogueModel):
    """A catalogued procedure and its versions, oldest first."""

    code: Annotated[str, BeforeValidator(_code_not_a_number)] = Field(
        pattern=PROCEDURE_CODE_PATTERN)
    name: str = Field(min_length=1)
    field: str = Field(min_length=1)  # lĩnh vực
    level: LevelField
    competent_agency: str = Field(min_length=1)
    versions: list[ProcedureVersion] = Field(min_length=1)
    repealed_from: date | None = None  # bãi bỏ: no version applies from this day

    @model_validator(mode="after")
    def _versions_in_order(self) -> Procedure:
        for index in range(1, len(self.versions)):
            previous, current = self.versions[index - 1], self.versions[index]
            if current.effective_from == previous.effective_from:
                raise LocatedError(
                    f"two versions take effect on {current.effective_from:%d/%m/%Y}",
                    "versions", index, "effective_from")
            if current.effective_from < previous.effective_from:
                raise LocatedError(
                    f"versions must be listed oldest first: {current.effective_from:%d/%m/%Y} "
                    f"comes after {previous.effective_from:%d/%m/%Y}",
                    "versions", index, "effective_from")
        if self.repealed_from and self.repealed_from <= self.versions[-1].effective_from:
            raise LocatedError(
                "repealed_from must be after the last version's effective_from", "repealed_from")
        return self

    def version_at(self, day: date | datetime) -> ProcedureVersion:
        """The version in force on ``day`` — for a dossier, its receipt date.

        An aware receipt instant is read on Vietnam local time (a dossier received at 23:30
        UTC belongs to the next local day); naive datetimes are refused by the engine.
        Raises :class:`NoVersionInForce` before the first version and from ``repealed_from``.
        """
        if isinstance(day, datetime):
            day = to_local(day).date()
        if self.repealed_from is not None and day >= self.repealed_from:
            raise NoVersionInForce(
                f"{self.code} {self.name}: repealed from {self.repealed_from:%d/%m/%Y}; "
                f"no version in force on {day:%d/%m/%Y}")
        starts = [version.effective_from for version in self.versions]
        index = bisect.bisect_right(starts, day) - 1
        if index < 0:
            raise NoVersionInForce(
                f"{self.code} {self.name}: no version in force on {day:%d/%m/%Y}; the first "
                f"takes effect on {starts[0]:%d/%m/%Y}")
        return self.versions[index]

    def competent_agency_at(self, day: date | datetime) -> str:
        """The competent agency named by the version in force on ``day``."""
        return self.version_at(day).competent_agency or self.competent_agency
