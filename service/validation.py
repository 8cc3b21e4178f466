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
from engine.timezone import now_local

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
    today = today or now_local().date()  # the law's date, whatever the server's zone
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


# ----- validation errors in Vietnamese ------------------------------------------------------
#
# pydantic says "Field required", "Input should be …" in English and names fields by their
# JSON keys. People read the sentence (``message``: the field's Vietnamese name, then what is
# wrong); programs keep ``field``, ``loc`` and ``type``.

#: The Vietnamese name of every field a request may carry — JSON bodies (nested fields as
#: ``applicant.name``; a list's items as ``components.name``), forms, query, path and header
#: parameters. tests/service/test_readable_errors.py walks /openapi.json and the pages' routes
#: and fails on a field missing here.
FIELD_NAMES: dict[str, str] = {
    # receiving, refusing and guiding at the counter
    "procedure": "Mã thủ tục",
    "applicant": "Người nộp hồ sơ",
    "applicant.name": "Họ và tên người nộp",
    "applicant.id_number": "Số định danh cá nhân (CCCD)",
    "applicant.birth_date": "Ngày sinh",
    "applicant.sex": "Giới tính",
    "applicant.address": "Địa chỉ",
    "applicant.phone": "Số điện thoại",
    "applicant.email": "Thư điện tử",
    "applicant_name": "Họ và tên người nộp",
    "applicant_phone": "Số điện thoại người nộp",
    "components": "Thành phần hồ sơ",
    "components.name": "Tên giấy tờ",
    "components.originals": "Số bản chính",
    "components.copies": "Số bản sao",
    "missing": "Giấy tờ cần bổ sung",
    "missing.name": "Tên giấy tờ cần bổ sung",
    "missing.originals": "Số bản chính",
    "missing.copies": "Số bản sao",
    "channel": "Kênh nộp hồ sơ",
    "competent_agency": "Cơ quan có thẩm quyền giải quyết",
    "returning_agency": "Nơi trả kết quả",
    "return_method": "Hình thức nhận kết quả",
    "postal_delivered_on": "Ngày bưu điện giao hồ sơ",
    "recipient_address": "Địa chỉ nhận kết quả",
    "sets_count": "Số bộ hồ sơ",
    "online": "Hồ sơ nộp trực tuyến",
    "received_at": "Thời điểm tiếp nhận",
    "backdate_reason": "Lý do ghi lùi thời điểm",
    # lifecycle actions
    "reason": "Lý do",
    "payload": "Thông tin kèm theo thao tác",
    "expected_version": "Phiên bản hồ sơ đang xem",
    "at": "Thời điểm thực hiện",
    "action": "Thao tác",
    "code": "Mã",
    "Idempotency-Key": "Khóa chống gửi trùng (Idempotency-Key)",
    # calendar
    "kind": "Loại ngày",
    "name": "Tên",
    "legal_basis": "Căn cứ pháp lý",
    "confirmed": "Đã xác nhận",
    "sessions": "Giờ làm việc",
    "day": "Ngày",
    "year": "Năm",
    # users, sign-in and password
    "username": "Tên đăng nhập",
    "full_name": "Họ và tên",
    "role": "Vai trò",
    "agency": "Cơ quan",
    "password": "Mật khẩu",
    "granted_agencies": "Cơ quan được giao kiểm soát",
    "old_password": "Mật khẩu hiện tại",
    "new_password": "Mật khẩu mới",
    "active": "Đang hoạt động",
    "grant_type": "Kiểu cấp quyền (grant_type)",
    "scope": "Phạm vi quyền (scope)",
    "client_id": "Mã ứng dụng (client_id)",
    "client_secret": "Khóa bí mật của ứng dụng (client_secret)",
    "file": "Tệp tải lên",
    # lists, filters and reports
    "state": "Trạng thái hồ sơ",
    "q": "Từ khóa tìm kiếm",
    "limit": "Số dòng tối đa",
    "cursor": "Vị trí trang (cursor)",
    "before": "Vị trí trang (before)",
    "sort": "Thứ tự sắp xếp",
    "mine": "Chỉ hồ sơ của tôi",
    "overdue": "Quá hạn",
    "due_before": "Hạn giải quyết đến ngày",
    "due_after": "Hạn giải quyết từ ngày",
    "include_closed": "Gồm cả hồ sơ đã kết thúc",
    "level": "Cấp thực hiện",
    "on": "Ngày áp dụng",
    "from": "Từ ngày",
    "to": "Đến ngày",
    "by": "Nhóm theo",
    "key": "Nhóm",
    "figure": "Chỉ tiêu",
    "withdrawn_separate": "Tách riêng hồ sơ rút",
    "receipt_delay_hours": "Số giờ cho phép từ lúc nộp đến lúc tiếp nhận",
    "scheme": "Cách chấm điểm",
    "rows": "Số hồ sơ mô tả đầy đủ",
    "fmt": "Định dạng tệp",
    "dossiers": "Kèm danh sách hồ sơ",
    "dossier": "Mã hồ sơ",
    "user": "Người dùng",
    "secret": "Mã tra cứu",
    # online submission (service/api/submissions.py)
    "submission": "Thông tin hồ sơ nộp trực tuyến",
    "x-pow-challenge": "Thử thách chống gửi tự động",
    "x-pow-nonce": "Lời giải chống gửi tự động",
    "x-dossier-secret": "Mã tra cứu",
    "form": "Mẫu giấy tờ",
    "copy": "In lại bản sao",
    "unread": "Chỉ thông báo chưa đọc",
    "message_id": "Mã thông báo",
    "received": "Thời điểm tiếp nhận",
    "unit": "Đơn vị tính thời hạn",
    # attachments and ratings (issue 16)
    "component_id": "Thành phần hồ sơ",
    "attachment_id": "Mã tệp đính kèm",
    "inline": "Xem trực tiếp trên trình duyệt",
    "score": "Mức hài lòng (1–5)",
    "reasons": "Lý do đánh giá",
    "comment": "Góp ý",
    # dossiers from the national portal (service/api/sync.py, its vocabulary: domain §7.4)
    "MaHoSo": "Mã hồ sơ trên Cổng DVCQG",
    "MaTTHC": "Mã thủ tục hành chính",
    "TenTTHC": "Tên thủ tục hành chính",
    "DonViXuLy": "Đơn vị xử lý",
    "KenhThucHien": "Kênh thực hiện",
    "LoaiDoiTuong": "Loại đối tượng",
    "ChuHoSo": "Họ và tên chủ hồ sơ",
    "SoDinhDanh": "Số định danh cá nhân (CCCD)",
    "NgaySinh": "Ngày sinh",
    "GioiTinh": "Giới tính",
    "DiaChi": "Địa chỉ",
    "SoDienThoai": "Số điện thoại",
    "Email": "Thư điện tử",
    "TrichYeuHoSo": "Trích yếu hồ sơ",
    "HinhThucNhanKetQua": "Hình thức nhận kết quả",
    "DiaChiNhanKetQua": "Địa chỉ nhận kết quả",
    "TaiLieuNop": "Tài liệu nộp",
    "TaiLieuNop.MaThanhPhanHoSo": "Thành phần hồ sơ của tệp",
    "TaiLieuNop.TenTepDinhKem": "Tên tệp đính kèm",
    "TaiLieuNop.NoiDungBase64": "Nội dung tệp (base64)",
    "TaiLieuNop.DuongDanTaiTepTin": "Đường dẫn tải tệp",
    "x-motcua-timestamp": "Thời điểm ký yêu cầu",
    "x-motcua-signature": "Chữ ký yêu cầu",
    # the pages' own forms and queries (service/web/pages.py)
    "ma": "Mã hồ sơ",
    "k": "Mã tra cứu",
    "next": "Trang cần mở sau khi đăng nhập",
    "csrf": "Mã chống giả mạo yêu cầu (CSRF)",
}
#: Where one key means something else on one route: ``{route path: {key: name}}``.
ROUTE_FIELD_NAMES: dict[str, dict[str, str]] = {
    "/api/v1/deadline": {"limit": "Thời hạn giải quyết"},
}
#: What a well-formed value looks like, for a field refused by its pattern.
FORMAT_HINTS: dict[str, str] = {
    "procedure": "ví dụ 1.004873",
    "MaTTHC": "ví dụ 1.004873 hoặc 1.004873.H26",
    "applicant.email": "ví dụ ten@example.vn",
    "sessions": "ví dụ 07:30-11:30,13:30-17:00",
    "username": "3–64 ký tự: chữ thường không dấu, chữ số, dấu . _ -",
    "level": "bo, tinh hoặc xa",
}
_DATE = "phải là một ngày dạng NNNN-TT-NN (ví dụ 2025-03-14)"
_INSTANT = "phải là thời điểm dạng ISO 8601 có múi giờ (ví dụ 2025-03-14T09:30:00+07:00)"
_OBJECT = "phải là một đối tượng JSON ({…})"
_LIST = "phải là một danh sách ([…])"
_NUMBER = "phải là một số"
_INVALID = "có giá trị không hợp lệ"
_CHOICE = "phải là một trong các giá trị: {expected}"
#: Every error type of pydantic-core (``pydantic_core.core_schema.ErrorType``, checked by a
#: test) → what is wrong, after the field's name; ``{…}`` are the error's context values.
ERROR_MESSAGES: dict[str, str] = {
    "missing": "bắt buộc phải có",
    "missing_argument": "bắt buộc phải có",
    "missing_keyword_only_argument": "bắt buộc phải có",
    "missing_positional_only_argument": "bắt buộc phải có",
    "extra_forbidden": "không có trong yêu cầu này (kiểm tra lại tên trường)",
    "unexpected_keyword_argument": "không có trong yêu cầu này (kiểm tra lại tên trường)",
    "unexpected_positional_argument": "không có trong yêu cầu này",
    "no_such_attribute": "không có trong yêu cầu này",
    "multiple_argument_values": "được gửi nhiều lần",
    "json_invalid": "không phải JSON hợp lệ",
    "json_type": "phải là chuỗi JSON",
    "string_type": "phải là chuỗi ký tự",
    "string_unicode": "phải là văn bản Unicode hợp lệ",
    "string_not_ascii": "chỉ được dùng ký tự ASCII",
    "string_too_short": "phải có ít nhất {min_length} ký tự",
    "string_too_long": "không được dài quá {max_length} ký tự",
    "string_pattern_mismatch": "không đúng định dạng",
    "too_short": "phải có ít nhất {min_length} mục",
    "too_long": "không được quá {max_length} mục",
    "enum": _CHOICE,
    "literal_error": _CHOICE,
    "bool_type": "phải là đúng hoặc sai (true/false)",
    "bool_parsing": "phải là đúng hoặc sai (true/false)",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "int_from_float": "phải là số nguyên (không có phần thập phân)",
    "int_parsing_size": "là số quá lớn",
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": "phải là số hữu hạn",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải từ {ge} trở lên",
    "less_than": "phải nhỏ hơn {lt}",
    "less_than_equal": "không được lớn hơn {le}",
    "multiple_of": "phải là bội số của {multiple_of}",
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_max_digits": "không được quá {max_digits} chữ số",
    "decimal_max_places": "không được quá {decimal_places} chữ số sau dấu thập phân",
    "decimal_whole_digits": "phần nguyên không được quá {whole_digits} chữ số",
    "fraction_type": _NUMBER,
    "fraction_parsing": _NUMBER,
    "complex_type": _NUMBER,
    "complex_str_parsing": _NUMBER,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": "phải là một ngày, không kèm giờ",
    "date_past": "phải là một ngày đã qua",
    "date_future": "phải là một ngày sắp tới",
    "datetime_type": _INSTANT,
    "datetime_parsing": _INSTANT,
    "datetime_from_date_parsing": _INSTANT,
    "datetime_object_invalid": _INSTANT,
    "datetime_past": "phải là một thời điểm đã qua",
    "datetime_future": "phải là một thời điểm sắp tới",
    "timezone_naive": "không được kèm múi giờ",
    "timezone_aware": "phải kèm múi giờ (ví dụ +07:00)",
    "timezone_offset": "phải theo múi giờ lệch {tz_expected} giây so với UTC",
    "time_type": "phải là giờ dạng GG:PP (ví dụ 07:30)",
    "time_parsing": "phải là giờ dạng GG:PP (ví dụ 07:30)",
    "time_delta_type": "phải là một khoảng thời gian",
    "time_delta_parsing": "phải là một khoảng thời gian",
    "dict_type": _OBJECT,
    "mapping_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "dataclass_type": _OBJECT,
    "dataclass_exact_type": _OBJECT,
    "frozen_dict_type": _OBJECT,
    "ordered_dict_type": _OBJECT,
    "counter_type": _OBJECT,
    "arguments_type": _OBJECT,
    "invalid_key": "có tên trường không phải chuỗi ký tự",
    "list_type": _LIST,
    "tuple_type": _LIST,
    "set_type": _LIST,
    "frozen_set_type": _LIST,
    "deque_type": _LIST,
    "named_tuple_type": _LIST,
    "iterable_type": _LIST,
    "iteration_error": "có phần tử không đọc được",
    "set_item_not_hashable": "có phần tử không hợp lệ",
    "none_required": "phải để trống (null)",
    "bytes_type": "phải là dữ liệu nhị phân",
    "bytes_too_short": "phải có ít nhất {min_length} byte",
    "bytes_too_long": "không được quá {max_length} byte",
    "bytes_invalid_encoding": "không đúng mã hóa",
    "url_type": "phải là một địa chỉ URL",
    "url_parsing": "phải là một địa chỉ URL hợp lệ",
    "url_syntax_violation": "phải là một địa chỉ URL hợp lệ",
    "url_too_long": "không được dài quá {max_length} ký tự",
    "url_scheme": "phải dùng giao thức {expected_schemes}",
    "uuid_type": "phải là một mã UUID",
    "uuid_parsing": "phải là một mã UUID hợp lệ",
    "uuid_version": "phải là mã UUID phiên bản {expected_version}",
    "union_tag_invalid": "có loại không hợp lệ ({tag}); chọn một trong: {expected_tags}",
    "union_tag_not_found": "thiếu trường phân loại {discriminator}",
    "frozen_field": "không được thay đổi",
    "frozen_instance": "không được thay đổi",
    "recursion_loop": "lồng nhau vòng tròn",
    "recursion_depth_exceeded": "lồng nhau quá sâu",
    "value_error": _INVALID,
    "assertion_error": _INVALID,
    "needs_python_object": _INVALID,
    "get_attribute_error": _INVALID,
    "is_instance_of": _INVALID,
    "is_subclass_of": _INVALID,
    "callable_type": _INVALID,
    "default_factory_not_called": _INVALID,
    "missing_sentinel_error": _INVALID,
    "ellipsis_error": _INVALID,
}
#: The name of a whole body, a whole form or the request (an empty location).
WHOLE_REQUEST = "Nội dung yêu cầu"
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_key(loc: tuple[Any, ...] | list[Any]) -> str:
    """The dotted key of an error's location without its source and list positions:
    ``("body", "components", 0, "name")`` → ``components.name``."""
    parts = list(loc)
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(str(p) for p in parts if not isinstance(p, int))


def field_name(loc: tuple[Any, ...] | list[Any], route: str | None = None) -> str | None:
    """The Vietnamese name of the field at ``loc`` (a route's own name first), or None."""
    key = field_key(loc)
    if not key:
        return WHOLE_REQUEST
    return ROUTE_FIELD_NAMES.get(route or "", {}).get(key) or FIELD_NAMES.get(key)


def _number(value: Any) -> Any:
    """3650.0 → 3650, 0.5 → 0,5: numbers as Vietnamese write them."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else str(value).replace(".", ",")
    return value


def _choices(expected: str) -> str:
    """pydantic's "'nam' or 'nữ'" in Vietnamese."""
    return expected.replace("' or '", "' hoặc '")


def _own_sentence(error: dict[str, Any]) -> str | None:
    """The sentence of a check of ours (a ``ValueError`` raised by a validator, a custom
    error such as ``unsafe_characters``): already Vietnamese. An ASCII-only sentence is a
    library's English and is not shown."""
    cause = (error.get("ctx") or {}).get("error")
    text = str(cause) if cause is not None else error.get("msg", "")
    return text if text and not text.isascii() else None


def error_problem(error: dict[str, Any]) -> str:
    """What is wrong, without the field: one of :data:`ERROR_MESSAGES` filled with the
    error's context, our own sentence, or a generic Vietnamese one."""
    kind = error.get("type", "")
    template = ERROR_MESSAGES.get(kind)
    if kind == "value_error" or template is None:
        return _own_sentence(error) or _INVALID
    ctx = {k: _number(v) for k, v in (error.get("ctx") or {}).items()}
    if "expected" in ctx:
        ctx["expected"] = _choices(str(ctx["expected"]))
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "không được để trống"
    try:
        return template.format(**ctx)
    except (KeyError, IndexError, ValueError):
        return template.split("{")[0].rstrip(" :;(") or _INVALID


def error_message(error: dict[str, Any], route: str | None = None) -> str:
    """One validation error as a sentence for people: "Số điện thoại: phải …"."""
    loc = tuple(error.get("loc", ()))
    name = field_name(loc, route)
    if name is None:  # a key the client made up (extra_forbidden) or one we do not know
        name = f"Trường “{field_key(loc) or loc[-1]}”"
    problem = error_problem(error).rstrip(".")
    if error.get("type") == "string_pattern_mismatch" and field_key(loc) in FORMAT_HINTS:
        problem += f" ({FORMAT_HINTS[field_key(loc)]})"
    return f"{name}: {problem}."


def readable_errors(errors: list[dict[str, Any]], route: str | None = None
                    ) -> list[dict[str, Any]]:
    """pydantic's errors for the problem document: ``field`` (dotted, with list positions),
    ``loc`` and ``type`` for programs; ``label`` and ``message`` in Vietnamese for people."""
    out = []
    for error in errors:
        loc = tuple(error.get("loc", ()))
        out.append({"field": ".".join(str(p) for p in loc if p != "body"), "loc": list(loc),
                    "type": error.get("type", ""),
                    "label": field_name(loc, route) or field_key(loc),
                    "message": error_message(error, route)})
    return out
