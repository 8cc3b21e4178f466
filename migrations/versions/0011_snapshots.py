"""Snapshots: the day's indicators per agency, stored after the day's end (``engine.reports``).

One row per (agency, day, computation): ``figures`` holds the agency's counts of the day,
``receiving`` the same split by receiving agency (read only for auditors, whose view includes
the dossiers received by their agencies). A re-run keeps the earlier row with ``current`` false
and records who, when and why on the new one (the journal); a partial unique index allows one
current row per agency and day, on SQLite and PostgreSQL alike (both support ``WHERE`` on an
index, and the snapshot insert names it in its ``ON CONFLICT``).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CURRENT = sa.text('"current"')


def upgrade() -> None:
    op.create_table(
        "indicator_snapshot",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("receiving", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("computed_by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("current", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # The journal of one agency's day (every computation, current or not).
    op.create_index("ix_indicator_snapshot_agency_day", "indicator_snapshot",
                    ["agency_code", "day"])
    # One current row per agency and day; day first: the chart reads a range of days.
    op.create_index("uq_indicator_snapshot_current", "indicator_snapshot",
                    ["day", "agency_code"], unique=True,
                    sqlite_where=CURRENT, postgresql_where=CURRENT)


def downgrade() -> None:
    op.drop_index("uq_indicator_snapshot_current", table_name="indicator_snapshot")
    op.drop_index("ix_indicator_snapshot_agency_day", table_name="indicator_snapshot")
    op.drop_table("indicator_snapshot")
