"""Dossier chain head: the hash of its last event, so that truncating the log is detected.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dossier", sa.Column("chain_head", sa.String(64), nullable=False,
                                       server_default=""))
    # Existing dossiers: the head is the hash of their last event.
    op.execute("UPDATE dossier SET chain_head = COALESCE((SELECT e.hash FROM dossier_event e "
               "WHERE e.dossier_id = dossier.id ORDER BY e.seq DESC LIMIT 1), '')")


def downgrade() -> None:
    op.drop_column("dossier", "chain_head")
