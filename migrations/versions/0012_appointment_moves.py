"""Appointment moves: each re-projection after a calendar edit that moved a dossier's due date
or appointment is recorded on the dossier (``engine.lifecycle.moves``), one row per move, keyed
by the dossier version the move wrote, so a re-run writes nothing twice (issue 15).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointment_move",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("dossier_version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("old_due", sa.Date(), nullable=True),
        sa.Column("new_due", sa.Date(), nullable=True),
        sa.Column("old_appointment", sa.Date(), nullable=True),
        sa.Column("new_appointment", sa.Date(), nullable=True),
        sa.Column("calendar_version", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["dossier_id"], ["dossier.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("dossier_id", "dossier_version",
                            name="uq_appointment_move_version"),
    )
    op.create_index(op.f("ix_appointment_move_dossier_id"), "appointment_move", ["dossier_id"],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_appointment_move_dossier_id"), table_name="appointment_move")
    op.drop_table("appointment_move")
