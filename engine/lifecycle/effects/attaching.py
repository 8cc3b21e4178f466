"""Effect of the internal action ``attach``: staff attach files at the current step.

The state and the clock do not change; what matters is the event, whose payload names each
file's SHA-256, size and type (``engine.files.journal``), so that the hash chain covers them.
The files are already in the store; the rows are written by the caller after the event.
"""

from __future__ import annotations

import re

from engine.lifecycle.context import ActionContext
from engine.lifecycle.errors import InvalidInput

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


def on_attach(ctx: ActionContext) -> None:
    """An ``attach`` names at least one file, each well formed: the event is all the journal
    will ever know of them."""
    files = ctx.payload.get("files")
    if not isinstance(files, list) or not files:
        raise InvalidInput("phải chọn ít nhất một tệp để đính kèm", field="files")
    for entry in files:
        if not (isinstance(entry, dict) and _SHA256.match(str(entry.get("sha256", "")))
                and isinstance(entry.get("size"), int) and entry["size"] > 0
                and entry.get("media_type") in _TYPES and entry.get("file_name")):
            raise InvalidInput("thông tin tệp đính kèm không hợp lệ", field="files")
