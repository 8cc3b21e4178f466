"""Checks on people's input: citizen ID numbers (domain §7.6), birth dates, phone numbers, and
the base of every write model (no unknown field, no control or bidirectional character).

Hard errors stop the request; soft warnings are returned with it (a clerk may know better,
e.g. a number issued to a citizen born abroad starts with a country code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from engine.text import unsafe_characters

#: Birth-registration province codes of the 63 pre-2025 provinces (unchanged by mergers).
_PROVINCE_CODES_TEXT = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES = frozenset(_PROVINCE_CODES_TEXT.split())

#: ISO 3166-1 numeric codes of the 249 countries and territories (Debian iso-codes 4.15).
_COUNTRY_CODES_TEXT = (
    "004 008 010 012 016 020 024 028 031 032 036 040 044 048 050 051 052 056 060 064 068 070 "
    "072 074 076 084 086 090 092 096 100 104 108 112 116 120 124 132 136 140 144 148 152 156 "
    "158 162 166 170 174 175 178 180 184 188 191 192 196 203 204 208 212 214 218 222 226 231 "
    "232 233 234 238 239 242 246 248 250 254 258 260 262 266 268 270 275 276 288 292 296 300 "
    "304 308 312 316 320 324 328 332 334 336 340 344 348 352 356 360 364 368 372 376 380 384 "
    "388 392 398 400 404 408 410 414 417 418 422 426 428 430 434 438 440 442 446 450 454 458 "
    "462 466 470 474 478 480 484 492 496 498 499 500 504 508 512 516 520 524 528 531 533 534 "
    "535 540 548 554 558 562 566 570 574 578 580 581 583 584 585 586 591 598 600 604 608 612 "
    "616 620 624 626 630 634 638 642 643 646 652 654 659 660 662 663 666 670 674 678 682 686 "
    "688 690 694 702 703 704 705 706 710 716 724 728 729 732 740 744 748 752 756 760 762 764 "
    "768 772 776 780 784 788 792 795 796 798 800 804 807 818 826 831 832 833 834 840 850 854 "
    "858 860 862 876 882 887 894"
)
COUNTRY_CODES = frozenset(_COUNTRY_CODES_TEXT.split())
#: The earliest birth date accepted: nobody alive was born before it, and a date before it is
#: a typing slip (1009 for 1990), not a person.
EARLIEST_BIRTH = date(1900, 1, 1)


@dataclass
class IdCheck:
    number: str
    warnings: list[str] = field(default_factory=list)


def check_citizen_id(raw: str, *, birth_date: date | None = None, sex: str | None = None,
                     today: date | None = None) -> IdCheck:
    """Validate a 12-digit personal identification number (*số định danh cá nhân*, CCCD).

    The structure is fixed by Nghị định 137/2015/NĐ-CP Điều 13 (kept by Nghị định
    70/2024/NĐ-CP under the 2023 Law on Identification) and its codes by Thông tư
    59/2021/TT-BCA Điều 7: the first three digits are the code of the province where the
    birth was registered, *or the code of the country* for a birth registered abroad, then the
    century/sex digit, two digits of the birth year and six random digits.

    Raises ValueError (Vietnamese message) unless it is exactly 12 ASCII digits after removing
    spaces (there is no check digit), and when the first three digits are neither one of the
    63 province codes nor an ISO 3166-1 numeric country code (e.g. ``999``: no such place).
    Warns on a country code (legitimate but rare: the clerk should check the birth was
    registered abroad), a century/sex digit that contradicts the stated birth date or sex, or
    a birth year in the future.
    """
    number = re.sub(r"\s+", "", raw or "")
    if not re.fullmatch(r"[0-9]{12}", number):
        raise ValueError("số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số")
    warnings = []
    place = number[:3]
    if place not in PROVINCE_CODES:
        if place not in COUNTRY_CODES:
            raise ValueError(f"ba chữ số đầu của số định danh cá nhân ('{place}') không phải mã "
                             "tỉnh nơi đăng ký khai sinh, cũng không phải mã quốc gia")
        warnings.append(f"mã tỉnh nơi đăng ký khai sinh '{place}' không có trong danh "
                        "mục (có thể là mã quốc gia nếu khai sinh ở nước ngoài)")
    digit = int(number[3])
    century = 1900 + 100 * (digit // 2)
    year = century + int(number[4:6])
    is_female = digit % 2 == 1
    today = today or date.today()
    if year > today.year:
        warnings.append(f"năm sinh mã hóa ({year}) ở tương lai")
    if birth_date is not None and birth_date.year != year:
        warnings.append(f"năm sinh trong số định danh ({year}) khác ngày sinh khai báo "
                        f"({birth_date:%d/%m/%Y})")
    if sex is not None and sex.lower() in {"nam", "male", "nữ", "nu", "female"}:
        stated_female = sex.lower() in {"nữ", "nu", "female"}
        if stated_female != is_female:
            warnings.append("chữ số thứ 4 (thế kỷ, giới tính) không khớp giới tính khai báo")
    return IdCheck(number, warnings)


def check_phone(raw: str) -> str:
    """A Vietnamese phone number: 10 digits starting with 0 (or +84 / 84 followed by 9)."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+84"):
        digits = "0" + digits[3:]
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    if not re.fullmatch(r"0[0-9]{9}", digits):
        raise ValueError("số điện thoại phải gồm 10 chữ số, bắt đầu bằng 0 (hoặc +84)")
    return digits


def check_birth_date(value: date, today: date) -> date:
    """A plausible birth date: not after ``today`` and not before 1900-01-01.

    9999-12-31 or 0001-01-01 are keyboard accidents; stored, they would print on the forms and
    skew every age-based figure.
    """
    if value > today:
        raise ValueError("ngày sinh không được ở tương lai")
    if value < EARLIEST_BIRTH:
        raise ValueError("ngày sinh không được trước 01/01/1900")
    return value


def _first_unsafe(value: Any, *, multiline: bool) -> list[str]:
    """Unsafe characters in a field's value, looking inside lists and free-form objects
    (``payload``); nested models check their own fields."""
    if isinstance(value, str):
        return unsafe_characters(value, multiline=multiline)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_unsafe(key, multiline=False) or _first_unsafe(item, multiline=False)
            if found:
                return found
    if isinstance(value, list | tuple):
        for item in value:
            found = _first_unsafe(item, multiline=multiline)
            if found:
                return found
    return []


class StrictModel(BaseModel):
    """Base of every JSON write body.

    An unknown field is refused (``extra_forbidden``, naming it) rather than silently dropped:
    a client that misspells ``expected_version`` would otherwise lose its concurrency check
    without knowing. Text fields refuse control characters and bidirectional overrides
    (``engine.text.unsafe_characters``); fields named in ``MULTILINE`` may hold tabs and line
    breaks.
    """

    model_config = ConfigDict(extra="forbid")
    MULTILINE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _safe_text(cls, value: Any, info: ValidationInfo) -> Any:
        found = _first_unsafe(value, multiline=info.field_name in cls.MULTILINE)
        if found:
            raise PydanticCustomError(
                "unsafe_characters",
                "chứa ký tự điều khiển hoặc ký tự đổi chiều văn bản không được phép ({chars})",
                {"chars": ", ".join(found)})
        return value
