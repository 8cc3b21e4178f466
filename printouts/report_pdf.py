"""The report as a PDF: Biểu số II.06a, the on-time rates with their definitions, charts
(SVG images drawn here, no plotting library), average processing times and, optionally, the
register. Liberation Serif (Times New Roman metrics, every Vietnamese letter), embedded.

Own template (``templates/reports/report.html``) and font loading, separate from the forms.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from engine.reports.exports import (
    II06A_FORM,
    II06A_TITLE,
    REGISTER_HEADER,
    ii06a_rows,
    period_label,
)
from engine.reports.figures import DEFINITIONS, Figures
from engine.reports.processing import ProcedureTime
from engine.text import nfc

TEMPLATES = Path(__file__).parent / "templates" / "reports"
FONT_DIRS = (Path("/usr/share/fonts/truetype/liberation2"),
             Path("/usr/share/fonts/truetype/liberation"))
FONT_FILES = {"regular": "LiberationSerif-Regular.ttf", "bold": "LiberationSerif-Bold.ttf",
              "italic": "LiberationSerif-Italic.ttf"}
REGISTER_PDF_LIMIT = 2000


def _fonts() -> dict[str, str]:
    for folder in FONT_DIRS:
        if all((folder / f).is_file() for f in FONT_FILES.values()):
            return {k: (folder / f).as_uri() for k, f in FONT_FILES.items()}
    raise RuntimeError("thiếu phông Liberation Serif (gói fonts-liberation2)")


def _pct(value: float | None) -> str:
    return "N/A" if value is None else f"{value * 100:.1f} %".replace(".", ",")


# ----- charts as SVG -----------------------------------------------------------------------

def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()


def line_chart_svg(points: list[tuple[str, float | None]], title: str,
                   series2: list[float | None] | None = None) -> str:
    """A line chart of rates (0–1) over labelled points; a second dashed series optional."""
    w, h, left, bottom, top = 760, 260, 50, 40, 30
    inner_w, inner_h = w - left - 20, h - bottom - top
    n = max(len(points), 1)
    step = inner_w / max(n - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + inner_h * (1 - v)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" font-family="Liberation Serif" font-size="12">',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-weight="bold">'
             f'{escape(title)}</text>']
    for pct in (0, 25, 50, 75, 100):
        y = top + inner_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" y1="{y}" x2="{w - 20}" y2="{y}" stroke="#ccc"/>'
                     f'<text x="{left - 6}" y="{y + 4}" text-anchor="end">{pct}%</text>')
    for series, style in ((([p[1] for p in points]), 'stroke="#1f4e79" stroke-width="2"'),
                          (series2, 'stroke="#c00000" stroke-width="2" '
                                    'stroke-dasharray="6,4"')):
        if not series:
            continue
        coords = [xy(i, v) for i, v in enumerate(series) if v is not None]
        if coords:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            parts.append(f'<polyline fill="none" {style} points="{path}"/>')
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f4e79"/>'
                         for x, y in coords)
    for i, (label, _) in enumerate(points):
        x, _ = xy(i, 0)
        parts.append(f'<text x="{x:.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                     f'{escape(label)}</text>')
    parts.append(f'<text x="{left}" y="{h - 4}" font-size="10">— Tỷ lệ QĐ 766 (2.1)'
                 f'{"   - - Tỷ lệ đúng hạn (chặt)" if series2 else ""}</text></svg>')
    return "".join(parts)


def bar_chart_svg(bars: list[tuple[str, float | None]], title: str) -> str:
    """Horizontal bars of rates (0–1), one per label."""
    row, left, w = 22, 260, 760
    h = 40 + row * max(len(bars), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'viewBox="0 0 {w} {h}" font-family="Liberation Serif" font-size="12">',
             f'<text x="{w / 2}" y="18" text-anchor="middle" font-weight="bold">'
             f'{escape(title)}</text>']
    for i, (label, value) in enumerate(bars):
        y = 30 + i * row
        short = label if len(label) <= 42 else label[:40] + "…"
        parts.append(f'<text x="{left - 6}" y="{y + 14}" text-anchor="end">{escape(short)}'
                     f'</text>')
        length = (w - left - 70) * (value or 0)
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{length:.1f}" height="{row - 6}" '
                     f'fill="#1f4e79"/><text x="{left + length + 4:.1f}" y="{y + 14}">'
                     f'{_pct(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def charts_for(data: dict[str, Any]) -> list[dict[str, Any]]:
    months = data.get("over_time", [])
    points = [(m["period"]["from"][:7], m["on_time_rate_766"]) for m in months]
    strict = [m["closed_on_time_rate"] for m in months]
    bars = [(a["label"] or a["key"], a["on_time_rate_766"]) for a in data.get("by_agency", [])]
    out = []
    if points:
        title = "Tỷ lệ giải quyết đúng hạn theo tháng"
        out.append({"title": title, "src": _svg_uri(line_chart_svg(points, title, strict)),
                    "width_mm": 240})
    if bars:
        title = "Tỷ lệ đúng hạn (QĐ 766) theo cơ quan giải quyết"
        out.append({"title": title, "src": _svg_uri(bar_chart_svg(bars, title)),
                    "width_mm": 240})
    return out


# ----- the document ------------------------------------------------------------------------

def render_report_html(fig: Figures, ii06a: Figures, *, charts: dict[str, Any],
                       times: list[ProcedureTime] = (), register: list[list[Any]] | None = None,
                       register_truncated: bool = False, reporting_unit: str = "",
                       receiving_unit: str = "") -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape())
    t = fig.totals
    rates = [("Tỷ lệ đúng hạn QĐ 766 (tiêu chí 2.1)", _pct(t.on_time_rate_766),
              DEFINITIONS["on_time_rate_766"]),
             ("Tỷ lệ đúng hạn (chặt)", _pct(t.closed_on_time_rate),
              DEFINITIONS["closed_on_time_rate"]),
             ("Tỷ lệ trực tuyến", _pct(t.online_rate), DEFINITIONS["online_rate"]),
             ("Tỷ lệ bưu chính", _pct(t.postal_rate), DEFINITIONS["postal_rate"]),
             ("Tỷ lệ số hóa", "Không có dữ liệu",
              "Hệ thống chưa ghi nhận thành phần hồ sơ được số hóa và kết quả điện tử; "
              "không tính (không suy đoán)."),
             ("Xin lỗi khi quá hạn: đúng hạn / muộn / chưa có",
              f"{t.apology_in_time} / {t.apology_late} / {t.apology_missing}",
              DEFINITIONS["apology_missing"]),
             ("Thư xin lỗi đã đến người nộp", str(t.apology_reached),
              DEFINITIONS["apology_reached"])]
    html = env.get_template("report.html").render(
        title=II06A_TITLE, form=II06A_FORM, period_label=period_label(fig.period),
        reporting_unit=reporting_unit, receiving_unit=receiving_unit,
        ii06a=ii06a_rows(ii06a), rates=rates, charts=charts_for(charts),
        times=[{**t.as_dict(), "average_text": "" if t.average is None
                else f"{t.average:.2f}".replace(".", ",")} for t in times],
        register=register, register_header=REGISTER_HEADER,
        register_truncated=register_truncated, definitions=list(DEFINITIONS.items()),
        fonts=_fonts())
    return nfc(html)


def write_report_pdf(path: Path | str, html: str) -> None:
    from weasyprint import HTML

    from printouts.render import RENDER_LOCK

    with RENDER_LOCK:  # fontconfig is not thread-safe (printouts.render.RENDER_LOCK)
        HTML(string=html, base_url=str(TEMPLATES)).write_pdf(str(path))
