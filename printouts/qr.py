"""The status QR code on the receipt (TT 01/2018 Art 19(2) allows barcodes and QR codes).

It points to the public status page with the dossier code *and* the dossier's secret, so a
citizen can look up their own dossier but nobody can enumerate codes (they are sequential).
"""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Mapping
from urllib.parse import urlencode

import segno

ENV_VAR = "MOTCUA_PUBLIC_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def public_base_url(env: Mapping[str, str] | None = None) -> str:
    """Where citizens reach this server (the receipt's printed address and QR code): the
    setting, else the local development address."""
    env = os.environ if env is None else env
    return (env.get(ENV_VAR, "").strip() or DEFAULT_BASE_URL).rstrip("/")


def unset_base_url_warning(env: Mapping[str, str] | None = None) -> str | None:
    """The start-up warning when the public address is not set: every receipt printed would
    send citizens to 127.0.0.1, which only the server itself can open. None when it is set."""
    env = os.environ if env is None else env
    if env.get(ENV_VAR, "").strip():
        return None
    return (f"Cảnh báo: chưa đặt {ENV_VAR}; mã QR và địa chỉ tra cứu in trên Giấy tiếp nhận "
            f"sẽ trỏ tới {DEFAULT_BASE_URL}/tra-cuu, người dân không mở được. Đặt {ENV_VAR} là "
            f"địa chỉ công khai của máy chủ (VD: https://dichvucong.example.gov.vn). / "
            f"Warning: {ENV_VAR} is unset; receipts will point at {DEFAULT_BASE_URL}.")


def status_url(base_url: str, code: str, secret: str) -> str:
    """``{base}/tra-cuu?ma=CODE&k=SECRET`` (both parts URL-encoded)."""
    return f"{base_url.rstrip('/')}/tra-cuu?{urlencode({'ma': code, 'k': secret})}"


def qr_png_data_uri(data: str) -> str:
    """A QR code as a small PNG data URI (4 px a module, 4-module quiet zone).

    PNG rather than SVG: WeasyPrint draws an SVG path of a few hundred segments in Python,
    about 25 ms a code; the stylesheet prints the PNG with ``image-rendering: pixelated`` so
    it stays sharp (no interpolation) at any resolution.

    8-bit grey rather than segno's 1-bit PNG: WeasyPrint converts a 1-bit image to RGB and
    encodes that as PNG again when it loads it, then writes three channels; an 8-bit grey PNG
    is loaded as it is and written as one channel (same pixels, 1.4 ms a receipt instead of
    3.6 ms).
    """
    from PIL import Image  # a WeasyPrint dependency

    segno_png = io.BytesIO()
    segno.make(data, error="m", micro=False).save(segno_png, kind="png", scale=4, border=4)
    buffer = io.BytesIO()
    Image.open(segno_png).convert("L").save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
