"""Checks on people's input: citizen ID numbers (domain §7.6) and phone numbers.

Hard errors stop the request; soft warnings are returned with it (a clerk may know better,
e.g. a number issued to a citizen born abroad starts with a country code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

#: Birth-registration province codes of the 63 pre-2025 provinces (unchanged by mergers).
_PROVINCE_CODES_TEXT = (
    "001 002 004 006 008 010 011 012 014 015 017 019 020 022 024 025 026 027 030 031 033 034 "
    "035 036 037 038 040 042 044 045 046 048 049 051 052 054 056 058 060 062 064 066 067 068 "
    "070 072 074 075 077 079 080 082 083 084 086 087 089 091 092 093 094 095 096"
)
PROVINCE_CODES = frozenset(_PROVINCE_CODES_TEXT.split())


@dataclass
class IdCheck:
    number: str
    warnings: list[str] = field(default_factory=list)


def check_citizen_id(raw: str, *, birth_date: date | None = None, sex: str | None = None,
                     today: date | None = None) -> IdCheck:
    """Validate a 12-digit personal identification number (*số định danh cá nhân*, CCCD).

    Raises ValueError (Vietnamese message) unless it is exactly 12 ASCII digits after removing
    spaces; there is no check digit. Warns on an unknown province code, a century/sex digit
    that contradicts the stated birth date or sex, or a birth year in the future.
    """
    number = re.sub(r"\s+", "", raw or "")
    if not re.fullmatch(r"[0-9]{12}", number):
        raise ValueError("số định danh cá nhân (CCCD) phải gồm đúng 12 chữ số")
    warnings = []
    if number[:3] not in PROVINCE_CODES:
        warnings.append(f"mã tỉnh nơi đăng ký khai sinh '{number[:3]}' không có trong danh "
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
