"""The one face the forms use: Liberation Serif, loaded from files with ``@font-face``.

Liberation Serif (Debian ``fonts-liberation2``, SIL OFL) covers every Vietnamese letter, has
Times New Roman's metrics (so the Quốc hiệu fits on one line the way ND 30/2020 designs it) and
may be embedded (stack-notes §2). It is named explicitly, so fontconfig never swaps in Tinos or
DejaVu, and a missing file is an error, never a fallback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The family the stylesheet names. Named explicitly: "Times New Roman" would be aliased by
#: fontconfig to Tinos or whatever else is installed (stack-notes §2.2, trap 3).
FAMILY = "Liberation Serif"
DEBIAN_PACKAGE = "fonts-liberation2"
FACES = {  # (weight, style) → file name
    ("normal", "normal"): "LiberationSerif-Regular.ttf",
    ("bold", "normal"): "LiberationSerif-Bold.ttf",
    ("normal", "italic"): "LiberationSerif-Italic.ttf",
    ("bold", "italic"): "LiberationSerif-BoldItalic.ttf",
}
SEARCH_DIRS = (
    Path("/usr/share/fonts/truetype/liberation2"),  # Debian 12 fonts-liberation2
    Path("/usr/share/fonts/truetype/liberation"),  # older Debian/Ubuntu fonts-liberation
    Path("/usr/share/fonts/liberation-serif"),  # Fedora
)


class FontMissing(RuntimeError):
    """Liberation Serif is not installed where the printouts look for it."""


@dataclass(frozen=True, slots=True)
class FontSet:
    directory: Path
    files: dict[tuple[str, str], Path]

    def font_face_css(self) -> str:
        rules = []
        for (weight, style), path in self.files.items():
            rules.append(
                f'@font-face {{ font-family: "{FAMILY}"; font-weight: {weight}; '
                f'font-style: {style}; src: url("{path.as_uri()}"); }}')
        return "\n".join(rules) + "\n"


def search_dirs(env: dict[str, str] | None = None) -> list[Path]:
    env = os.environ if env is None else env
    configured = env.get("MOTCUA_FONT_DIR", "").strip()
    return ([Path(configured)] if configured else []) + list(SEARCH_DIRS)


def find_fonts(dirs: list[Path] | None = None) -> FontSet:
    """The four Liberation Serif faces, from the first folder that has all of them."""
    dirs = search_dirs() if dirs is None else dirs
    for directory in dirs:
        files = {key: directory / name for key, name in FACES.items()}
        if all(path.is_file() for path in files.values()):
            return FontSet(directory, files)
    looked = ", ".join(str(d) for d in dirs)
    raise FontMissing(
        "Không tìm thấy phông Liberation Serif (LiberationSerif-Regular/Bold/Italic/BoldItalic"
        f".ttf) trong: {looked}. Cài gói Debian {DEBIAN_PACKAGE} "
        f"(apt-get install -y {DEBIAN_PACKAGE}) hoặc đặt MOTCUA_FONT_DIR tới thư mục chứa "
        "các tệp đó. Không dùng phông thay thế: phông khác có thể thiếu dấu tiếng Việt hoặc "
        "làm lệch bố cục theo Nghị định 30/2020.")
