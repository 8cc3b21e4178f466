"""Control and bidirectional characters in stored text, and the read journal's storage."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from engine.db import session_scope
from engine.readjournal import ReadFilter, ReadJournal, conditions, reads_of, record_read
from engine.text import unsafe_characters


def test_plain_vietnamese_text_is_safe():
    assert unsafe_characters("Nguyễn Thị Mai, thôn Đông (xã Vĩnh Bảo) – 0912 345 678") == []


@pytest.mark.parametrize("char", ["\x1b", "\x07", "\x7f", "\x85", "\u202e", "\u202a",
                                  "\u2066", "\u2069", "\u200e", "\u200f", "\u2028"])
def test_control_and_bidi_characters_are_found(char):
    assert unsafe_characters(f"Nguyễn{char}Mai") == [f"U+{ord(char):04X}"]


def test_line_breaks_only_in_multiline_text():
    text = "Thiếu tờ khai\n\tbản chính"
    assert unsafe_characters(text) == ["U+000A", "U+0009"]
    assert unsafe_characters(text, multiline=True) == []
    assert unsafe_characters("a\x1bb\nc", multiline=True) == ["U+001B"]


def test_each_character_is_named_once():
    assert unsafe_characters("\x1b[31m\x1b[0m") == ["U+001B"]


def test_reads_are_stored_and_filtered_by_local_day(session):
    # 23:30 on 5 March in Hà Nội is 16:30 UTC; 00:30 on 6 March local is 17:30 UTC on the 5th.
    for at, user in ((datetime(2026, 3, 5, 16, 30, tzinfo=UTC), "auditor"),
                     (datetime(2026, 3, 5, 17, 30, tzinfo=UTC), "leader")):
        record_read(session, username=user, role=user, agency_code="A", dossier_code="D-1",
                    what="detail", request_id="r" * 80, client_address="10.0.0.7", at=at)
    session.commit()
    on_5th = session.exec(select(ReadJournal).where(
        *conditions(ReadFilter(start=date(2026, 3, 5), end=date(2026, 3, 5))))).all()
    assert [r.username for r in on_5th] == ["auditor"]
    on_6th = session.exec(select(ReadJournal).where(
        *conditions(ReadFilter(start=date(2026, 3, 6), username="leader")))).all()
    assert [r.username for r in on_6th] == ["leader"]
    latest = reads_of(session, "D-1")
    assert [r.username for r in latest] == ["leader", "auditor"]
    assert len(latest[0].request_id) == 64  # cut to the column, not an error
    assert latest[0].at.utcoffset().total_seconds() == 0


def test_read_journal_commits_with_its_session(db_engine):
    with session_scope(db_engine) as session:
        record_read(session, username="clerk", role="clerk", agency_code="A",
                    dossier_code="D-2", what="document", document="receipt")
    with session_scope(db_engine) as session:
        assert [(r.what, r.document) for r in reads_of(session, "D-2")] == [
            ("document", "receipt")]
