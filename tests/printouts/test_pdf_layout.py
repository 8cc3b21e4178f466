"""What ND 30/2020 asks of the page, checked on the PDF itself: paper, margins, fonts, the
header rules, page numbers, the repeated header row of the register, NFC text, the QR code."""

from __future__ import annotations

import re
import subprocess
import unicodedata

import pdfplumber
import pytest

from printouts.context import build
from printouts.qr import status_url
from printouts.sample import SECRET, sample_bundle, sample_options

from .conftest import CASES, needs_poppler, pages_text, pdf_text, pdffonts

pytestmark = needs_poppler

MM = 72 / 25.4
A5 = (148 * MM, 210 * MM)
A4_LANDSCAPE = (297 * MM, 210 * MM)
# (top, right, bottom, left) in mm, as the stylesheet sets them
MARGINS = {"form": (14, 10, 14, 20), "register": (20, 15, 20, 30),
           "receipt": (8, 10, 8, 15)}  # one A5 page per copy (forms.css)


def words(page, **kw):
    return page.extract_words(extra_attrs=["fontname", "size"], keep_blank_chars=False, **kw)


def find_phrase(page, phrase: str):
    """Bounding box (x0, x1, top, bottom) of ``phrase`` on one line of ``page``."""
    ws = words(page)
    target = phrase.split()
    for i in range(len(ws) - len(target) + 1):
        run = ws[i:i + len(target)]
        if [w["text"] for w in run] == target and len({round(w["top"]) for w in run}) == 1:
            return run[0]["x0"], run[-1]["x1"], run[0]["top"], run[0]["bottom"], run
    raise AssertionError(f"{phrase!r} not found on one line")


@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_paper_size_and_margins(sample_pdf, form_set, form):
    kind = form if form in ("register", "receipt") else "form"
    size = A4_LANDSCAPE if kind == "register" else A5
    top, right, bottom, left = (m * MM for m in MARGINS[kind])
    with pdfplumber.open(sample_pdf(form, form_set)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            assert page.width == pytest.approx(size[0], abs=0.5)
            assert page.height == pytest.approx(size[1], abs=0.5)
            for w in words(page):
                if number > 1 and w["text"].isdigit() and w["bottom"] < top:
                    continue  # the page number lives in the top margin
                assert w["x0"] >= left - 0.5, (number, w["text"], w["x0"])
                assert w["x1"] <= page.width - right + 0.5, (number, w["text"], w["x1"])
                assert w["top"] >= top - 0.5, (number, w["text"], w["top"])
                assert w["bottom"] <= page.height - bottom + 0.5, (number, w["text"])


@pytest.mark.parametrize(("form_set", "form"), CASES)
def test_only_liberation_serif_is_used_and_it_is_embedded(sample_pdf, form_set, form):
    fonts = pdffonts(sample_pdf(form, form_set))
    assert fonts
    for font in fonts:
        assert "Liberation-Serif" in font["name"] or "LiberationSerif" in font["name"], font
        assert not re.search("Times|DejaVu|Tinos|Noto|Sans", font["name"]), font
        assert (font["emb"], font["sub"], font["uni"]) == ("yes", "yes", "yes"), font


@pytest.mark.parametrize("form_set", ["2018", "2025"])
def test_header_blocks_rules_and_sizes(sample_pdf, form_set):
    with pdfplumber.open(sample_pdf("receipt", form_set)) as pdf:
        page = pdf.pages[0]
        qh = find_phrase(page, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        tn = find_phrase(page, "Độc lập - Tự do - Hạnh phúc")
        assert all("Bold" in w["fontname"] for w in qh[4] + tn[4])
        # A5: ND 30's 12–13 pt does not fit; the receipt one point less (one page per copy)
        assert {round(w["size"]) for w in qh[4]} == {10}
        assert {round(w["size"]) for w in tn[4]} == {11}
        # Tiêu ngữ centred under the Quốc hiệu, on the next line
        assert (tn[0] + tn[1]) / 2 == pytest.approx((qh[0] + qh[1]) / 2, abs=1.5)
        assert tn[2] > qh[3]
        # its rule: as long as the text, just below it
        rule = [r for r in page.rects if abs(r["x0"] - tn[0]) < 2 and abs(r["x1"] - tn[1]) < 2
                and r["bottom"] > tn[3] and r["bottom"] < tn[3] + 6]
        assert rule, "no rule under the Tiêu ngữ"
        # agency block: its short rule is 1/3–1/2 of the unit name's longest line, centred
        number_line = find_phrase(page, "Số: 12/TNHS")
        unit_words = [w for w in words(page) if "Bold" in w["fontname"] and w["x1"] < qh[0]
                      and w["top"] < number_line[2]]
        lines: dict[int, list] = {}
        for w in unit_words:
            lines.setdefault(round(w["top"]), []).append(w)
        widest = max(max(w["x1"] for w in ws) - min(w["x0"] for w in ws)
                     for ws in lines.values())
        centre = (min(w["x0"] for w in unit_words) + max(w["x1"] for w in unit_words)) / 2
        bottom = max(w["bottom"] for w in unit_words)
        short = [r for r in page.rects if r["height"] < 1.5 and r["x1"] < qh[0]
                 and bottom < r["top"] < bottom + 8]
        assert len(short) == 1
        length = short[0]["x1"] - short[0]["x0"]
        assert widest / 3 <= length <= widest / 2, (length, widest)
        assert (short[0]["x0"] + short[0]["x1"]) / 2 == pytest.approx(centre, abs=2)
        # place and date in italics, on the same line as "Số:"
        date = find_phrase(page, "Hải Phòng,")
        number = find_phrase(page, "Số: 12/TNHS")
        assert "Italic" in date[4][0]["fontname"]
        assert date[2] == pytest.approx(number[2], abs=1.5)
        # the receipt's title 12 pt bold, code line 11 pt (other forms: 13 and 12)
        title = find_phrase(page, "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
        assert {round(w["size"]) for w in title[4]} == {12}
        assert all("Bold" in w["fontname"] for w in title[4])
        body = find_phrase(page, "Mã hồ sơ:")
        assert {round(w["size"]) for w in body[4]} == {11}


def test_register_is_landscape_with_page_numbers_from_page_2_and_repeated_header(sample_pdf):
    path = sample_pdf("register", "2025")
    page_texts = pages_text(path)
    with pdfplumber.open(path) as pdf:
        assert len(pdf.pages) >= 3
        top_margin = 20 * MM
        for number, page in enumerate(pdf.pages, start=1):
            in_margin = [w for w in words(page) if w["bottom"] < top_margin]
            if number == 1:
                assert in_margin == [], "no page number on the first page (ND 30)"
            else:
                assert [w["text"] for w in in_margin] == [str(number)]
                (w,) = in_margin
                # centred over the text block (between the left and right margins)
                centre = (30 * MM + page.width - 15 * MM) / 2
                assert (w["x0"] + w["x1"]) / 2 == pytest.approx(centre, abs=1)
                assert round(w["size"]) == 13
            text = page_texts[number - 1]
            for header in ("Mã hồ sơ", "Tên TTHC", "Nhận và trả kết quả", "Hẹn trả kết quả",
                           "Phương thức nhận kết quả", "(11)"):
                assert header in text, (number, header)
    # every row of the sample is there once
    codes = re.findall(r"000\.00\.01\.H26-\s?\d{6}-\s?\d{4}", pdf_text(path))
    assert len(codes) == 40


def test_forms_number_pages_from_the_second_page_of_each_copy(renderer, tmp_path):
    bundle = sample_bundle()  # a receipt long enough to continue on a second page
    bundle.dossier.components = [{"name": f"Giấy tờ số {i} kèm theo hồ sơ đề nghị cấp phép "
                                          f"hoạt động xây dựng", "originals": 1}
                                 for i in range(1, 15)]
    path = tmp_path / "long.pdf"
    renderer.pdf(build("receipt", bundle, None, sample_options()), path)
    with pdfplumber.open(path) as pdf:
        numbers = [[w["text"] for w in words(p) if w["bottom"] < 8 * MM] for p in pdf.pages]
    assert len(numbers) == 4
    per_copy = len(numbers) // 2
    assert numbers[:per_copy] == numbers[per_copy:]  # both copies count from 1
    assert numbers[0] == []
    assert numbers[1:per_copy] == [[str(i)] for i in range(2, per_copy + 1)]


def test_nfd_input_comes_out_nfc_in_the_text_layer(renderer, tmp_path):
    nfd_name = unicodedata.normalize("NFD", "Nguyễn Thị Ngọc Ánh Hưởng")
    bundle = sample_bundle(applicant=nfd_name)
    bundle.dossier.procedure_name = unicodedata.normalize("NFD", "Đăng ký khai sinh")
    context = build("receipt", bundle, None, sample_options())
    path = tmp_path / "nfd.pdf"
    renderer.pdf(context, path)
    text = pdf_text(path)
    assert "Nguyễn Thị Ngọc Ánh Hưởng" in text
    assert "Đăng ký khai sinh" in text
    assert unicodedata.is_normalized("NFC", text)
    # and even a hand-made NFD context is normalised before WeasyPrint sees it
    context["applicant"]["name"] = nfd_name
    assert unicodedata.is_normalized("NFC", renderer.html(context))


def test_qr_code_on_the_applicants_copy_only_points_to_the_status_page_with_the_secret(
        sample_pdf, tmp_path):
    url = status_url("http://127.0.0.1:8000", "000.00.01.H26-260205-0012", SECRET)
    assert url == ("http://127.0.0.1:8000/tra-cuu?ma=000.00.01.H26-260205-0012"
                   f"&k={SECRET}")
    path = sample_pdf("receipt", "2025")
    with pdfplumber.open(path) as pdf:  # no link: a hidden one would reach the unit's copy
        assert [link for page in pdf.pages for link in page.hyperlinks] == []
    try:
        import zxingcpp
        from PIL import Image
    except ImportError:  # pragma: no cover - dev dependency missing
        pytest.skip("zxing-cpp not installed")
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(path), str(tmp_path / "qr")],
                   check=True)
    decoded = [[r.text for r in zxingcpp.read_barcodes(Image.open(page))]
               for page in sorted(tmp_path.glob("qr*.png"))]
    assert decoded == [[], [url]]  # (Liên: Lưu), (Liên: Giao khách hàng)


@pytest.mark.parametrize("form_set", ["2018", "2025"])
def test_receipt_copies_from_one_layout_equal_a_full_layout(form_set, tmp_path):
    """The counter's fast path (lay out one copy, show each copy's label) prints exactly what
    laying out both copies prints: same text per page, same pixels."""
    from printouts.render import Renderer

    context = build("receipt", sample_bundle(set_2018=form_set == "2018"), None,
                    sample_options())
    fast, full = tmp_path / "fast.pdf", tmp_path / "full.pdf"
    Renderer().pdf(context, fast)
    Renderer(one_layout=False).pdf(context, full)
    assert pages_text(fast) == pages_text(full)
    for pdf in (fast, full):
        subprocess.run(["pdftoppm", "-r", "40", "-gray", "-png", str(pdf),
                        str(tmp_path / pdf.stem)], check=True)
    fast_pages = sorted(tmp_path.glob("fast-*.png"))
    assert len(fast_pages) == len(pages_text(full))
    for page in fast_pages:
        assert page.read_bytes() == (tmp_path / page.name.replace("fast", "full")).read_bytes()
