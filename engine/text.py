"""Text rules: NFC everywhere, and a folded form for accent-insensitive search."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    """NFC form (NFD looks identical on screen but breaks search, sorting and PDF copy)."""
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lower-case without diacritics, so "dang ky khai sinh" finds "Đăng ký khai sinh".

    đ/Đ is a separate letter, not a combining mark, so it is mapped by hand.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())
