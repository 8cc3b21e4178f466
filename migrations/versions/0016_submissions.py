"""Online submission (issue 16): the spent proof-of-work challenges of the public form
(``service/pow.py``), so that a solved challenge is used once.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pow_challenge_used",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_pow_challenge_used_expires_at"), "pow_challenge_used",
                    ["expires_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pow_challenge_used_expires_at"), table_name="pow_challenge_used")
    op.drop_table("pow_challenge_used")
