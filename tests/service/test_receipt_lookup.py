"""The citizen can follow their dossier from the receipt: the applicant's copy prints the lookup
secret and a QR code that opens the dossier at the server's public address
(``MOTCUA_PUBLIC_BASE_URL``), whether the API or the command line prints it; the unit's copy
carries neither; the receipt names the clerk who received; ``motcua serve`` warns when the
address is not set."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from service.cli import app as cli

from .conftest import PASSWORD, login

EXAMPLE = json.loads((Path(__file__).parents[2] / "examples" / "receive.json")
                     .read_text(encoding="utf-8"))
PUBLIC = "https://dichvucong.haiphong.example.vn"

pytestmark = pytest.mark.skipif(shutil.which("pdftoppm") is None,
                                reason="poppler-utils (pdftotext, pdftoppm) not installed")


def pages_text(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    return [" ".join(page.split()) for page in text.split("\f")[:-1]]


def qr_codes(pdf: Path, out: Path) -> list[list[str]]:
    """The QR codes each page shows, decoded from the rendered page (200 dpi PNG)."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    subprocess.run(["pdftoppm", "-r", "200", "-png", str(pdf), str(out / "page")], check=True)
    return [[r.text for r in zxingcpp.read_barcodes(Image.open(png))]
            for png in sorted(out.glob("page-*.png"))]


@pytest.fixture
def received(client, monkeypatch) -> dict:
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", PUBLIC + "/")
    response = client.post("/api/v1/dossiers", json=EXAMPLE, headers=login(client, "clerk"))
    assert response.status_code == 201, response.text
    return response.json()


def test_the_receipt_from_the_api_opens_the_dossier_at_the_public_address(
        client, received, tmp_path):
    pdf = tmp_path / "receipt.pdf"
    response = client.get(f"/api/v1/dossiers/{received['code']}/documents/receipt.pdf",
                          headers=login(client, "clerk"))
    assert response.status_code == 200
    pdf.write_bytes(response.content)
    unit, applicant = pages_text(pdf)  # one A5 page per copy
    secret = received["secret"]
    grouped = " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
    assert "(Liên: Lưu)" in unit and "(Liên: Giao khách hàng)" in applicant
    assert f"Mã tra cứu: {grouped}" in applicant
    assert secret[:4] not in unit.replace(received["code"], "")  # not on the unit's copy
    for page in (unit, applicant):
        assert f"{PUBLIC}/tra-cuu" in page.replace(" ", "") and "127.0.0.1" not in page
        assert "mã hồ sơ và mã tra cứu" in page
        assert "Nguyễn Thị Lan" in page  # the clerk who received (demo user "clerk")

    no_code, (url,) = qr_codes(pdf, tmp_path)
    assert no_code == []
    assert url.startswith(f"{PUBLIC}/tra-cuu?")
    target = urlsplit(url)
    page = client.get(f"{target.path}?{target.query}")
    assert page.status_code == 200
    assert received["code"] in page.text and "Được tiếp nhận" in page.text
    assert 'searchParams.delete("k")' in page.text  # then dropped from the address bar


def test_the_command_line_prints_the_public_address_too(client, received, database_url,
                                                        tmp_path):
    pdf = tmp_path / "cli.pdf"
    result = CliRunner().invoke(cli, ["print", "receipt", "--dossier", received["code"], "-o",
                                      str(pdf)],
                                env={"MOTCUA_DATABASE_URL": database_url,
                                     "MOTCUA_PUBLIC_BASE_URL": PUBLIC})
    assert result.exit_code == 0, result.output
    assert all(f"{PUBLIC}/tra-cuu" in page.replace(" ", "") for page in pages_text(pdf))
    assert qr_codes(pdf, tmp_path)[1][0].startswith(f"{PUBLIC}/tra-cuu?ma=")


def test_serve_warns_when_the_public_address_is_not_set(monkeypatch, tmp_path):
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("MOTCUA_DATABASE_URL", f"sqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("MOTCUA_DEMO_PASSWORD", PASSWORD)
    monkeypatch.delenv("MOTCUA_PUBLIC_BASE_URL", raising=False)
    # `serve` writes MOTCUA_SERVE_SCHEDULER into os.environ; recorded here so that it is
    # removed afterwards (else later tests' apps start an observing scheduler, /healthz changes)
    monkeypatch.setenv("MOTCUA_SERVE_SCHEDULER", "off")
    result = CliRunner().invoke(cli, ["serve", "--no-scheduler"])
    assert result.exit_code == 0, result.output
    assert "chưa đặt MOTCUA_PUBLIC_BASE_URL" in result.output
    assert "receipts will point at http://127.0.0.1:8000" in result.output
    monkeypatch.setenv("MOTCUA_PUBLIC_BASE_URL", PUBLIC)
    result = CliRunner().invoke(cli, ["serve", "--no-scheduler"])
    assert result.exit_code == 0, result.output
    assert "MOTCUA_PUBLIC_BASE_URL" not in result.output


def test_the_access_log_does_not_keep_the_lookup_secret():
    import logging

    from service.publicview import SecretRedaction

    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("203.0.113.5:5000", "GET",
                                "/tra-cuu?ma=000.01.31.H26-260312-0001&k=mQ7vX2pLk9RtYw4A",
                                "1.1", 200), None)
    assert SecretRedaction().filter(record)
    assert "mQ7v" not in record.getMessage()
    assert "/tra-cuu?ma=000.01.31.H26-260312-0001&k=***" in record.getMessage()
