"""A read's journal entry may be committed without waiting for the disk (PostgreSQL's
``synchronous_commit``, for that transaction only), and is written all the same."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from engine.db import session_scope
from engine.readjournal import reads_of, record_read


@pytest.mark.parametrize("wait_for_disk", [True, False])
def test_an_entry_written_without_waiting_turns_only_its_transaction_asynchronous(
        db_engine, wait_for_disk):
    postgres = db_engine.dialect.name == "postgresql"
    with session_scope(db_engine) as session:
        record_read(session, username="clerk", role="clerk", agency_code="A",
                    dossier_code="D-9", what="detail", wait_for_disk=wait_for_disk)
        if postgres:
            setting = session.execute(text("SHOW synchronous_commit")).scalar_one()
            assert setting == ("on" if wait_for_disk else "off")
    with session_scope(db_engine) as session:
        assert [r.what for r in reads_of(session, "D-9")] == ["detail"]
        if postgres:  # the next transaction on the connection waits for the disk again
            assert session.execute(text("SHOW synchronous_commit")).scalar_one() == "on"
