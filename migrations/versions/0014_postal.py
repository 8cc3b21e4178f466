"""The postal channel (bưu chính công ích, issue 16): on the dossier, the day the post office
delivered a dossier sent by post, and for a result returned by post the recipient's address,
the tracking number of the hand-over to the post office and the day it was delivered
(``engine.lifecycle.postal``). All nullable: nothing to fill for existing dossiers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    ("postal_delivered_on", sa.Date()),
    ("recipient_address", sa.String(500)),
    ("postal_tracking_number", sa.String(40)),
    ("result_delivered_on", sa.Date()),
)


def upgrade() -> None:
    for name, type_ in COLUMNS:
        op.add_column("dossier", sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    for name, _type in reversed(COLUMNS):
        # SQLite 3.35+ drops a column in place (no batch copy of the table and its indexes).
        op.execute(f"ALTER TABLE dossier DROP COLUMN {name}")
