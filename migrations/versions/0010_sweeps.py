"""Sweeps: the record of each sweep run, the sweep's marks and indexes, the agencies' settings.

- ``sweep_run``: one row per sweep (``engine.timed.runs.SweepRun``), for /healthz and
  /metrics, and the calendars and settings it judged with (a later sweep that sees them
  changed looks again at the dossiers it had set aside).
- ``dossier.sweep_version``, ``dossier.sweep_next_at``, ``dossier_step.sweep_next_at``: the
  sweep's mark on a row — the version it judged and the instant from which a new warning can
  come — so that a sweep reads, from an index alone, only the rows that may have something new.
- Three partial indexes, on the rows a sweep can find something about (open dossiers by their
  appointment date; open dossiers waiting for a transfer, a supplement or an acceptance; open
  hand-off rows by their due instant), each carrying the mark and the id so that choosing the
  candidates never reads a table row. The conditions are ``engine.lifecycle.models.SWEEP_*``,
  repeated here because a migration must not change when the code does.
- ``agency``: the warning horizon, the supplement wait and the acceptance delay, with their
  defaults written into the existing rows (docs/notifications.md, "Settings").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SWEEP_OPEN = "ended_on IS NULL"
SWEEP_WAITING = ("ended_on IS NULL AND (state IN ('received', 'awaiting_supplement') "
                 "OR (boundary_free AND clock_started_at IS NULL))")
SWEEP_OPEN_STEP = "finished_at IS NULL"

AGENCY_SETTINGS = (
    ("warn_ahead_amount", sa.Integer(), "1"),
    ("warn_ahead_unit", sa.String(16), "'working_days'"),
    ("supplement_wait_days", sa.Integer(), "10"),
    ("accept_within_hours", sa.Integer(), "0"),
)


def _partial(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(name, table, columns, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    op.create_table(
        "sweep_run",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=True),
        sa.Column("new_messages", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("full", sa.Boolean(), nullable=False),
        sa.Column("judged_with", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sweep_run_started_at", "sweep_run", ["started_at"])
    # Nullable columns without a default: SQLite adds them in place, PostgreSQL without a
    # rewrite of the table.
    op.add_column("dossier", sa.Column("sweep_version", sa.Integer(), nullable=True))
    op.add_column("dossier", sa.Column("sweep_next_at", sa.DateTime(timezone=True),
                                       nullable=True))
    op.add_column("dossier_step", sa.Column("sweep_next_at", sa.DateTime(timezone=True),
                                            nullable=True))
    # Each list ends with its condition's columns: SQLite counts them as read, and without
    # them would visit the table rows to check a condition the index already guarantees.
    _partial("ix_dossier_sweep_due", "dossier",
             ["appointment_date", "version", "sweep_version", "sweep_next_at", "id",
              "ended_on"], SWEEP_OPEN)
    _partial("ix_dossier_sweep_waiting", "dossier",
             ["version", "sweep_version", "sweep_next_at", "id", "ended_on", "state",
              "boundary_free", "clock_started_at"], SWEEP_WAITING)
    _partial("ix_dossier_step_sweep", "dossier_step",
             ["due_at", "sweep_next_at", "id", "finished_at"], SWEEP_OPEN_STEP)
    for name, type_, default in AGENCY_SETTINGS:
        op.add_column("agency", sa.Column(name, type_, nullable=False,
                                          server_default=sa.text(default)))


def downgrade() -> None:
    # SQLite 3.35+ drops a column in place (no batch copy: see 0005).
    for name, _type, _default in reversed(AGENCY_SETTINGS):
        op.execute(f"ALTER TABLE agency DROP COLUMN {name}")
    op.drop_index("ix_dossier_step_sweep", table_name="dossier_step")
    op.drop_index("ix_dossier_sweep_waiting", table_name="dossier")
    op.drop_index("ix_dossier_sweep_due", table_name="dossier")
    op.execute("ALTER TABLE dossier_step DROP COLUMN sweep_next_at")
    op.execute("ALTER TABLE dossier DROP COLUMN sweep_next_at")
    op.execute("ALTER TABLE dossier DROP COLUMN sweep_version")
    op.drop_index("ix_sweep_run_started_at", table_name="sweep_run")
    op.drop_table("sweep_run")
