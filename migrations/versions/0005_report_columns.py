"""Report columns: what the period figures need, stored once per dossier instead of derived
per report (ended day, pause, apology, end while awaiting a supplement, the day the due date
stopped moving), and the indexes that
let a report read a narrow index instead of the wide dossier rows.

The lifecycle keeps these columns (``engine.lifecycle.service``), like ``due_date``; they are
the clock's own verdict and ``engine.reports.anomalies`` flags any dossier whose events do not
replay to them. The back-fill below derives them the way the reports did before this revision.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Columns of the covering report index: the grouping keys, then every column the verdict reads.
REPORT_INDEX_COLUMNS = (
    "competent_agency", "received_at", "ended_on", "due_date", "channel", "end_kind",
    "supplement_count", "was_paused", "apology_on", "apology_late",
    "ended_awaiting_supplement", "clock_settled_on", "procedure_code", "procedure_version", "receiving_agency",
)
#: The dossiers whose due date moved (supplement, pause), by the day it stopped moving: a
#: report replays those that were still moving after its period end, found without a scan.
CLOCK_MOVED = "supplement_count > 0 OR was_paused"


def _local_date(column: str, dialect: str) -> str:
    """The Asia/Ho_Chi_Minh date of a stored UTC instant (UTC+07:00, no DST since 1975)."""
    if dialect == "sqlite":
        return f"date({column}, '+7 hours')"
    return f"CAST(timezone('Asia/Ho_Chi_Minh', {column}) AS DATE)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    false = sa.false()
    # Plain ADD COLUMN (SQLite supports it in place): a batch "move and copy" would drop the
    # dossier table, which the foreign keys of its events forbid once there are rows.
    op.add_column("dossier", sa.Column("ended_on", sa.Date(), nullable=True))
    op.add_column("dossier", sa.Column("was_paused", sa.Boolean(), nullable=False,
                                       server_default=false))
    op.add_column("dossier", sa.Column("apology_on", sa.Date(), nullable=True))
    op.add_column("dossier", sa.Column("apology_late", sa.Boolean(), nullable=False,
                                       server_default=false))
    op.add_column("dossier", sa.Column("ended_awaiting_supplement", sa.Boolean(),
                                       nullable=False, server_default=false))
    op.add_column("dossier", sa.Column("clock_settled_on", sa.Date(), nullable=True))
    # Back-fill: the same derivations the report queries made per row before this revision.
    ended = ("COALESCE(ended_at, CASE WHEN state IN ('withdrawn', 'stopped') "
             "THEN updated_at END)")
    op.execute(f"UPDATE dossier SET ended_on = {_local_date(ended, dialect)}")
    op.execute("UPDATE dossier SET was_paused = TRUE WHERE EXISTS (SELECT 1 FROM dossier_event e "
               "WHERE e.dossier_id = dossier.id AND e.action = 'pause')")
    op.execute(f"UPDATE dossier SET apology_on = (SELECT min({_local_date('e.at', dialect)}) "
               "FROM dossier_event e WHERE e.dossier_id = dossier.id "
               "AND e.action = 'apologise')")
    op.execute("UPDATE dossier SET apology_late = TRUE "
               "WHERE CAST(flags AS VARCHAR) LIKE '%\"apology_late\"%'")
    op.execute("UPDATE dossier SET ended_awaiting_supplement = TRUE "
               "WHERE end_kind IN ('withdrawn', 'stopped') AND EXISTS (SELECT 1 "
               "FROM dossier_event e WHERE e.dossier_id = dossier.id "
               "AND e.action IN ('withdraw', 'stop') "
               "AND e.state_before = 'awaiting_supplement')")
    # From which day the stored due date is final (engine.lifecycle.service._clock_settled_on):
    # none while a wait or pause is open, the end of processing once ended, else the day of
    # the last supplement or pause event.
    op.execute("UPDATE dossier SET clock_settled_on = CASE "
               "WHEN ended_awaiting_supplement OR state IN ('awaiting_supplement', 'paused') "
               "THEN NULL "
               "WHEN ended_at IS NOT NULL THEN ended_on "
               f"ELSE (SELECT max({_local_date('e.at', dialect)}) FROM dossier_event e "
               "WHERE e.dossier_id = dossier.id AND e.action IN "
               "('request_supplement', 'receive_supplement', 'pause', 'resume')) END "
               "WHERE clock_started_at IS NOT NULL")
    op.create_index("ix_dossier_report", "dossier", list(REPORT_INDEX_COLUMNS))
    op.create_index("ix_dossier_clock_moved", "dossier", ["clock_settled_on"],
                    sqlite_where=sa.text(CLOCK_MOVED), postgresql_where=sa.text(CLOCK_MOVED))


def downgrade() -> None:
    op.drop_index("ix_dossier_clock_moved", "dossier")
    op.drop_index("ix_dossier_report", "dossier")
    for name in ("clock_settled_on", "ended_awaiting_supplement", "apology_late", "apology_on",
                 "was_paused", "ended_on"):
        # SQLite 3.35+ drops a column in place (no batch copy: see upgrade).
        op.execute(f"ALTER TABLE dossier DROP COLUMN {name}")
