"""Report columns, second step: fewer dossiers replayed by a period report.

- ``clock_settled_on`` becomes the day the due date last moved (last supplement or pause event,
  or the end that closed a pause) for ended dossiers too — 0005 stored the end day, so a
  dossier running at a period end and ending later was replayed whenever its due date had
  ever moved; empty when the due date never moved.
- ``first_wait_on``: the day of the first supplement request or pause. Before it the due date
  is the original one (``original_due_date``), so a report whose period ends earlier — or inside
  the only supplement wait — judges on stored columns.
- ``ix_dossier_report`` gets both columns (``original_due_date``, ``first_wait_on``) so that the
  report still reads only the narrow index.

The back-fill reads the events that carry a clock record (imports add synthetic events without
one, which the clock never sees), like ``engine.lifecycle.service.store_report_columns``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: 0005's covering index, then the two columns the earlier-period verdicts read.
OLD_REPORT_INDEX_COLUMNS = (
    "competent_agency", "received_at", "ended_on", "due_date", "channel", "end_kind",
    "supplement_count", "was_paused", "apology_on", "apology_late",
    "ended_awaiting_supplement", "clock_settled_on", "procedure_code", "procedure_version",
    "receiving_agency",
)
REPORT_INDEX_COLUMNS = (*OLD_REPORT_INDEX_COLUMNS, "original_due_date", "first_wait_on")
WAIT_STARTS = "('request_supplement', 'pause')"
MOVES = "('request_supplement', 'receive_supplement', 'pause', 'resume')"
PAUSES, RESUMES = "('pause')", "('resume')"


def _local_date(column: str, dialect: str) -> str:
    """The Asia/Ho_Chi_Minh date of a stored UTC instant (UTC+07:00, no DST since 1975)."""
    if dialect == "sqlite":
        return f"date({column}, '+7 hours')"
    return f"CAST(timezone('Asia/Ho_Chi_Minh', {column}) AS DATE)"


def _has_clock(dialect: str) -> str:
    """The event carries a clock record (the clock replays only those)."""
    if dialect == "sqlite":
        return "json_extract(e.payload, '$.clock') IS NOT NULL"
    return "(e.payload -> 'clock') IS NOT NULL"


def _events(actions: str, dialect: str) -> str:
    return (f"FROM dossier_event e WHERE e.dossier_id = dossier.id AND e.action IN {actions} "
            f"AND {_has_clock(dialect)}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("dossier", sa.Column("first_wait_on", sa.Date(), nullable=True))
    op.execute(f"UPDATE dossier SET first_wait_on = (SELECT min({_local_date('e.at', dialect)}) "
               f"{_events(WAIT_STARTS, dialect)}) WHERE supplement_count > 0 OR was_paused")
    # engine.lifecycle.service._clock_settled_on: none while a wait or pause is open; a pause
    # still open at the end (no resume after the last pause) was closed by the end.
    last_pause = f"(SELECT max(e.at) {_events(PAUSES, dialect)})"
    last_resume = f"(SELECT max(e.at) {_events(RESUMES, dialect)})"
    op.execute("UPDATE dossier SET clock_settled_on = CASE "
               "WHEN ended_awaiting_supplement OR state IN ('awaiting_supplement', 'paused') "
               "THEN NULL "
               f"WHEN ended_at IS NOT NULL AND {last_pause} IS NOT NULL "
               f"AND ({last_resume} IS NULL OR {last_resume} < {last_pause}) THEN ended_on "
               f"ELSE (SELECT max({_local_date('e.at', dialect)}) {_events(MOVES, dialect)}) END")
    op.drop_index("ix_dossier_report", "dossier")
    op.create_index("ix_dossier_report", "dossier", list(REPORT_INDEX_COLUMNS))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("ix_dossier_report", "dossier")
    # SQLite 3.35+ drops a column in place (no batch copy: see 0005).
    op.execute("ALTER TABLE dossier DROP COLUMN first_wait_on")
    op.create_index("ix_dossier_report", "dossier", list(OLD_REPORT_INDEX_COLUMNS))
    # 0005's meaning: the end day once ended.
    op.execute("UPDATE dossier SET clock_settled_on = CASE "
               "WHEN ended_awaiting_supplement OR state IN ('awaiting_supplement', 'paused') "
               "THEN NULL "
               "WHEN ended_at IS NOT NULL THEN ended_on "
               f"ELSE (SELECT max({_local_date('e.at', dialect)}) FROM dossier_event e "
               f"WHERE e.dossier_id = dossier.id AND e.action IN {MOVES}) END "
               "WHERE clock_started_at IS NOT NULL")
