"""The national portal's outbound sync (issue 17): longer outbox keys and the per-dossier order.

- ``outbox_message.key`` grows from 64 to 128 characters: a portal record's key is readable,
  ``portal:<dossier code>:<event seq>`` (``engine.sync.record.record_key``), and a dossier code
  may itself be 64 characters long;
- ``ix_outbox_portal_open``: the portal's messages not delivered yet, by dossier and id — what
  ``engine.outbox.claim`` looks up so that a dossier's records go out in order (a record is not
  claimed while an earlier one of its dossier is undelivered). Partial, so it holds only the
  portal's backlog, never the delivered history.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PORTAL_OPEN = "channel = 'portal' AND state <> 'delivered'"


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("key", existing_type=sa.String(64), type_=sa.String(128),
                           existing_nullable=False)
    op.create_index("ix_outbox_portal_open", "outbox_message", ["dossier_code", "id"],
                    sqlite_where=sa.text(PORTAL_OPEN), postgresql_where=sa.text(PORTAL_OPEN))


def downgrade() -> None:
    op.drop_index("ix_outbox_portal_open", table_name="outbox_message")
    op.execute("DELETE FROM outbox_message WHERE channel = 'portal'")
    with op.batch_alter_table("outbox_message") as batch:
        batch.alter_column("key", existing_type=sa.String(128), type_=sa.String(64),
                           existing_nullable=False)
