"""Helpers for writing small procedure files: a valid baseline and a line finder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

#: A minimal valid procedure; tests replace one line to break it in a known place.
VALID_PROCEDURE = """\
code: "1.000001"
name: "Thủ tục thử"
field: "Hộ tịch"
level: xa
competent_agency: "Ủy ban nhân dân cấp xã"
versions:
  - effective_from: 2025-07-01
    legal_basis: ["Văn bản thử"]
    time_limit: {amount: 3, unit: working_days}
    components:
      - {name: "Tờ khai", originals: 1}
    result: {type: "Giấy xác nhận"}
    online: none
    steps:
      - id: receive
        name: "Tiếp nhận"
        role: clerk
        unit: one_stop
        budget: {amount: 2, unit: working_hours}
        actions: [receive]
      - id: appraise
        name: "Thẩm định"
        role: officer
        budget: {amount: 2, unit: working_days}
        actions: [forward, request_supplement]
      - id: approve
        name: "Ký duyệt"
        role: leader
        budget: {amount: 4, unit: working_hours}
        actions: [finish]
      - id: return
        name: "Trả kết quả"
        role: clerk
        unit: one_stop
        budget: {amount: 1, unit: working_hours}
        actions: [return_result]
"""


def _line_number(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return number
    raise AssertionError(f"{fragment!r} not in the text")


@pytest.fixture
def valid_procedure() -> str:
    """The text of a minimal valid procedure file."""
    return VALID_PROCEDURE


@pytest.fixture
def line_number() -> Callable[[str, str], int]:
    """``line_number(text, fragment)``: 1-based line of the first line containing it."""
    return _line_number


@pytest.fixture
def write_procedure(tmp_path: Path) -> Callable[..., Path]:
    """Write ``text`` (default: the valid baseline) to ``tmp_path/catalogue/<name>``."""
    directory = tmp_path / "catalogue"
    directory.mkdir(exist_ok=True)

    def write(text: str = VALID_PROCEDURE, name: str = "procedure.yaml") -> Path:
        path = directory / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
