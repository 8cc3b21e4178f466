"""Reports that do not queue (issue 18): the cache of closed periods' reports and the data
version it is checked against.

- ``report_data_version``: one row (``id = 1``) whose ``version`` moves whenever something may
  have changed a period already over — a backdated action, an imported history, a calendar
  edit or re-projection (``engine.data_version``). Read by primary key: never a scan.
- ``report_cache``: one row per report asked for (kind, period, reader's scope, parameters and
  the fingerprint of the code computing it, hashed into ``key``), with the data version it was
  computed at; a row whose version is not the current one is computed again and replaced
  (``engine.reports.cache``). Shared by every worker process, unlike a cache in memory.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    version = op.create_table(
        "report_data_version",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0, "source": ""}])
    op.create_table(
        "report_cache",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("data_version", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_report_cache_key", "report_cache", ["key"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_report_cache_key", table_name="report_cache")
    op.drop_table("report_cache")
    op.drop_table("report_data_version")
