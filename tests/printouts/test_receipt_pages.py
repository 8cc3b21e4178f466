"""The receipt (Mẫu 01) is one A5 page per copy for a typical dossier, keeps its signatures with
the last lines when it must continue, and prints the lookup secret on the applicant's copy
only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from printouts.context import build
from printouts.sample import SECRET, sample_bundle, sample_options

from .conftest import needs_poppler, pages_text

pytestmark = needs_poppler

CATALOGUE = Path(__file__).parents[2] / "workflows" / "catalogue"


def catalogue_components(stem: str) -> list[dict]:
    """The components of a real procedure of the demo catalogue, as a clerk ticks them."""
    (path,) = CATALOGUE.glob(f"{stem}-*.yaml")
    text = yaml.safe_load(path.read_text(encoding="utf-8"))

    def find(node):
        if isinstance(node, dict):
            if "components" in node:
                return node["components"]
            node = list(node.values())
        if isinstance(node, list):
            for child in node:
                if found := find(child):
                    return found
        return None

    return [{"name": c["name"], "originals": c.get("originals", 0), "copies": c.get("copies", 0)}
            for c in find(text)]


def receipt_pdf(renderer, tmp_path: Path, components: list[dict], form_set: str) -> list[str]:
    bundle = sample_bundle(set_2018=form_set == "2018")
    bundle.dossier.components = components
    path = tmp_path / f"receipt-{form_set}-{len(components)}.pdf"
    renderer.pdf(build("receipt", bundle, None, sample_options()), path)
    return pages_text(path)


@pytest.mark.parametrize("form_set", ["2018", "2025"])
def test_six_components_of_a_real_procedure_print_on_one_page_per_copy(renderer, tmp_path,
                                                                      form_set):
    """Regression: the receipt ran to four A5 pages, each copy spilling onto a second page."""
    components = catalogue_components("1.013222")
    assert len(components) == 6
    unit, applicant = receipt_pdf(renderer, tmp_path, components, form_set)
    for page in (unit, applicant):
        assert "Giấy ủy quyền hợp pháp" in page  # the sixth component
        assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in page and "Phạm Thu Hà" in page  # the clerk
        assert "Ghi chú:" in page


@pytest.mark.parametrize("form_set", ["2018", "2025"])
def test_the_secret_is_printed_on_the_applicants_copy_only(renderer, tmp_path, form_set):
    """Regression: the lookup page asks for a secret the receipt never printed."""
    unit, applicant = receipt_pdf(renderer, tmp_path, catalogue_components("1.001193"),
                                  form_set)
    assert "(Liên: Giao khách hàng)" in applicant
    assert "Mã tra cứu: mQ7v X2pL k9Rt Yw4A" in applicant
    assert "(Liên: Lưu)" in unit and "chỉ in trên liên giao người nộp hồ sơ" in unit
    assert SECRET[:4] not in unit
    for page in (unit, applicant):
        assert "nhập mã hồ sơ và mã tra cứu" in page  # note 3 no longer says "the code alone"


def test_a_long_receipt_keeps_the_signatures_with_the_last_lines(renderer, tmp_path):
    components = [{"name": f"Giấy tờ số {i} kèm theo hồ sơ đề nghị cấp giấy phép hoạt động "
                           f"xây dựng cho nhà thầu nước ngoài", "originals": 1}
                  for i in range(1, 15)]
    pages = receipt_pdf(renderer, tmp_path, components, "2025")
    assert len(pages) == 4  # two pages per copy
    for first, second in (pages[:2], pages[2:]):
        assert "NGƯỜI NỘP HỒ SƠ" not in first
        assert "6. Đăng ký nhận kết quả tại" in second and "Vào Sổ theo dõi hồ sơ" in second
        assert "NGƯỜI NỘP HỒ SƠ" in second and "NGƯỜI TIẾP NHẬN HỒ SƠ" in second
