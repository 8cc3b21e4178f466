"""Per-agency print settings without code: ``$MOTCUA_PRINT_OVERRIDES/<agency_code>/override.yaml``.

Example (every key optional)::

    place_name: "Hải Phòng"                 # địa danh on the date line
    parent_name: "UBND THÀNH PHỐ HẢI PHÒNG"  # cơ quan chủ quản as printed (ND 30 allows UBND)
    unit_name: "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG"
    logo: logo.png                          # relative to this folder
    hotline: "0225 3 123 456"
    notes:                                  # extra "Ghi chú" lines, per form or for "all"
      receipt: ["Tra cứu tình trạng hồ sơ bằng mã QR hoặc gọi đường dây nóng."]
    signers:                                # right-hand signature block, per form (the
                                            # names of engine.forms.Form)
      apology: {prefix: "KT.", title: "GIÁM ĐỐC", position: "PHÓ GIÁM ĐỐC", name: "Trần Văn B"}
      stop_notice: {prefix: "TL.", title: "GIÁM ĐỐC", position: "TRƯỞNG PHÒNG", name: "Lê Thị C"}
    staff:                                  # user id → full name, for the people who sign
      clerk1: "Nguyễn Thị Lan"

The folder of the agency that issues the form applies. Errors name the file and the key.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.forms import Form
from engine.text import nfc

ENV_VAR = "MOTCUA_PRINT_OVERRIDES"
FILE_NAME = "override.yaml"
#: Authority prefixes of ND 30/2020 (Phụ lục I): thay mặt, ký thay, thừa lệnh, quyền, thừa ủy quyền.
PREFIXES = ("", "TM.", "KT.", "TL.", "Q.", "TUQ.")
#: Keys of ``signers`` and ``notes``: the form names (:class:`engine.forms.Form`).
SIGNER_FORMS = tuple(Form)
NOTE_KEYS = (*SIGNER_FORMS, "all")
_KEYS = {"place_name", "parent_name", "unit_name", "logo", "hotline", "notes", "signers", "staff"}
_SIGNER_KEYS = {"prefix", "title", "position", "name"}


class OverrideError(ValueError):
    """An override file that cannot be used (bad YAML, unknown key, missing logo …)."""


@dataclass(frozen=True)
class Signer:
    """A signature block: ``KT. GIÁM ĐỐC`` / ``PHÓ GIÁM ĐỐC`` / (space) / name."""

    title: str
    prefix: str = ""
    position: str = ""  # second line: the signer's own position under KT./TL./TUQ.
    name: str = ""
    note: str = ""  # "(Ký và ghi rõ họ tên)"

    @property
    def heading(self) -> str:
        return f"{self.prefix} {self.title}".strip()

    def merged(self, raw: Mapping[str, Any] | None) -> Signer:
        if not raw:
            return self
        return Signer(title=raw.get("title") or self.title,
                      prefix=raw.get("prefix", self.prefix) or "",
                      position=raw.get("position", self.position) or "",
                      name=raw.get("name") or self.name, note=self.note)


@dataclass(frozen=True)
class AgencyOverride:
    code: str = ""
    source: Path | None = None
    place_name: str | None = None
    parent_name: str | None = None
    unit_name: str | None = None
    logo: Path | None = None
    hotline: str | None = None
    notes: dict[str, list[str]] = field(default_factory=dict)
    signers: dict[str, dict[str, str]] = field(default_factory=dict)
    staff: dict[str, str] = field(default_factory=dict)

    def notes_for(self, form: str) -> list[str]:
        return [*self.notes.get("all", ()), *self.notes.get(form, ())]

    def staff_name(self, user_id: str | None) -> str:
        return self.staff.get(user_id or "", "") if user_id else ""


EMPTY = AgencyOverride()


def overrides_root(env: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if env is None else env
    value = env.get(ENV_VAR, "").strip()
    return Path(value) if value else None


_CACHE: dict[Path, tuple[float, AgencyOverride]] = {}


def load_override(root: Path | None, code: str) -> AgencyOverride:
    """The override of agency ``code`` under ``root`` (an empty one if there is none).

    Files are re-read when they change (mtime), so a long-lived counter process picks up an
    edited signer without a restart.
    """
    if root is None:
        return EMPTY
    path = root / code / FILE_NAME
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return AgencyOverride(code=code)
    cached = _CACHE.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    override = parse_override(path, code)
    _CACHE[path] = (mtime, override)
    return override


def parse_override(path: Path, code: str) -> AgencyOverride:
    def fail(message: str) -> OverrideError:
        return OverrideError(f"{path}: {message}")

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise fail(f"YAML không hợp lệ: {exc}") from None
    if not isinstance(raw, dict):
        raise fail("phải là một bảng khóa: giá trị")
    raw = nfc(raw)
    unknown = set(raw) - _KEYS
    if unknown:
        raise fail(f"khóa không hỗ trợ: {', '.join(sorted(unknown))} "
                   f"(hỗ trợ: {', '.join(sorted(_KEYS))})")
    for key in ("place_name", "parent_name", "unit_name", "hotline", "logo"):
        if key in raw and not isinstance(raw[key], str):
            raise fail(f"'{key}' phải là chuỗi")
    logo = None
    if raw.get("logo"):
        logo = (path.parent / raw["logo"]).resolve()
        if not logo.is_file():
            raise fail(f"không tìm thấy tệp logo {logo}")
    notes = raw.get("notes") or {}
    if not isinstance(notes, dict) or set(notes) - set(NOTE_KEYS) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in notes.values()):
        raise fail(f"'notes' phải là bảng {{mẫu: [dòng, …]}} với mẫu trong "
                   f"{', '.join(NOTE_KEYS)}")
    signers = raw.get("signers") or {}
    if not isinstance(signers, dict) or set(signers) - set(SIGNER_FORMS):
        raise fail(f"'signers' phải là bảng theo mẫu: {', '.join(SIGNER_FORMS)}")
    for form, signer in signers.items():
        if not isinstance(signer, dict) or set(signer) - _SIGNER_KEYS:
            raise fail(f"signers.{form}: chỉ dùng các khóa {', '.join(sorted(_SIGNER_KEYS))}")
        if signer.get("prefix", "") not in PREFIXES:
            raise fail(f"signers.{form}.prefix '{signer['prefix']}' không hợp lệ; dùng một "
                       f"trong {', '.join(p for p in PREFIXES if p)} (Nghị định 30/2020)")
        if "title" in signer:
            signer["title"] = signer["title"].upper()
        if "position" in signer:
            signer["position"] = signer["position"].upper()
    staff = raw.get("staff") or {}
    if not isinstance(staff, dict) or not all(isinstance(v, str) for v in staff.values()):
        raise fail("'staff' phải là bảng {mã người dùng: họ tên}")
    return AgencyOverride(
        code=code, source=path, place_name=raw.get("place_name"),
        parent_name=raw.get("parent_name"), unit_name=raw.get("unit_name"), logo=logo,
        hotline=raw.get("hotline"), notes={k: list(v) for k, v in notes.items()},
        signers={k: dict(v) for k, v in signers.items()},
        staff={str(k): v for k, v in staff.items()})
