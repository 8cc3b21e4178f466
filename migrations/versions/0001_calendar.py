"""Working calendar: per-agency day entries and office hours (domain §5.4).

Revision ID: 0001
Revises:
Create Date: 2026-02-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # agency_code '' is the national override layer; days not listed follow the national
    # calendar shipped with the code (announced years + estimates).
    op.create_table(
        "calendar_day",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        # holiday | compensatory | swapped_off | makeup_workday | local_off
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("legal_basis", sa.String(500), nullable=False, server_default=""),
        sa.Column("confirmed", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("estimated", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False, server_default=""),
        sa.UniqueConstraint("agency_code", "day", name="uq_calendar_day_agency_day"),
    )
    # sessions: "07:30-11:30,13:30-17:00"; agency_code '' is the national default.
    op.create_table(
        "office_hours",
        sa.Column("agency_code", sa.String(64), primary_key=True),
        sa.Column("sessions", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("office_hours")
    op.drop_table("calendar_day")
