"""Text rules: NFC everywhere, and a folded form for accent-insensitive search."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any


def nfc(value: Any, *, strip: bool = False) -> Any:
    """``value`` with every string NFC-normalised, through dicts (keys too), lists and tuples.

    The one normaliser of the project: NFD text looks identical on screen but compares, sorts
    and searches differently, and breaks copying from a PDF (domain §7.7). ``strip`` also
    trims each string, for what people type into a form. Other values are kept as they are.
    """
    if isinstance(value, str):
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        return value.strip() if strip else value
    if isinstance(value, Mapping):
        return {nfc(k, strip=strip): nfc(v, strip=strip) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(nfc(v, strip=strip) for v in value)
    return value


def fold(text: str) -> str:
    """Lower-case without diacritics, so "dang ky khai sinh" finds "Đăng ký khai sinh".

    đ/Đ is a separate letter, not a combining mark, so it is mapped by hand.
    """
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.lower().split())


#: Bidirectional formatting characters: embeddings and overrides (U+202A–U+202E), isolates
#: (U+2066–U+2069) and the invisible direction marks (U+200E, U+200F, U+061C). Vietnamese text
#: never needs them, and they make a name or a reason display differently from what is stored
#: ("Trojan Source", CVE-2021-42574).
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                          "\u200e\u200f\u061c")
#: What a multi-line field (a reason, a note) may hold besides printable text.
LINE_BREAKS = frozenset("\t\n\r")


def unsafe_characters(text: str, *, multiline: bool = False) -> list[str]:
    """The characters of ``text`` that no stored text may hold, as ``U+XXXX`` (first seen first).

    C0 and C1 control characters (ESC starts terminal escape sequences in logs and exports),
    DEL, the line and paragraph separators, and the bidirectional formatting characters above.
    Tab and line breaks are allowed only where ``multiline`` says the field is multi-line.
    """
    found: list[str] = []
    for char in text:
        code = ord(char)
        if multiline and char in LINE_BREAKS:
            continue
        if (code < 0x20 or 0x7F <= code <= 0x9F or char in "\u2028\u2029"
                or char in BIDI_CONTROLS):
            name = f"U+{code:04X}"
            if name not in found:
                found.append(name)
    return found
