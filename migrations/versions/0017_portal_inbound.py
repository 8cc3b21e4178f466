"""Dossiers taken in from the national portal (Cổng Dịch vụ công quốc gia, issue 17): on the
dossier, the portal's dossier id (``portal_id``, its ``MaHoSo``; unique, so a second delivery
of the same dossier can never create a second one) and the digest of what the portal sent
(``portal_digest``: a repeat with another body is a conflict, not a silent replay). Both
nullable: dossiers received at the counter or on MotCua's own form have neither.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("dossier", sa.Column("portal_id", sa.String(64), nullable=True))
    op.add_column("dossier", sa.Column("portal_digest", sa.String(64), nullable=True))
    # A unique index (not a constraint): SQLite adds it without copying the table; NULLs
    # (every dossier not from the portal) never collide.
    op.create_index(op.f("ix_dossier_portal_id"), "dossier", ["portal_id"], unique=True)


def downgrade() -> None:
    op.drop_index(op.f("ix_dossier_portal_id"), table_name="dossier")
    for name in ("portal_digest", "portal_id"):
        op.execute(f"ALTER TABLE dossier DROP COLUMN {name}")
