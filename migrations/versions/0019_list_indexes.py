"""The work queue served by indexes (issue 18): one index range per scope column.

At 1M dossiers the officer's inbox (``GET /api/v1/dossiers``) was a parallel sequential scan
of the whole table and a top-N sort (211 ms): nothing served "this agency, not terminal, by
due date". ``engine.lifecycle.worklist`` now reads one ordered index range per scope column
(competent agency for officers and leaders; receiving, then returning agency for clerks) and
merges them:

- ``ix_dossier_{competent,receiving,returning}_open``: ``(agency, coalesce(due_date,
  '9999-12-31'), id)`` over the open dossiers only (partial: the terminal states are most of
  the table and never in the default inbox) — the inbox by urgency, read in order;
- ``ix_dossier_{…}_due``: the same over every dossier — a closed state by urgency, or the open
  and closed together (without it such a list sorts the whole scope, which PostgreSQL then
  reads sequentially once the scope is a seventh of the table);
- ``ix_dossier_{…}_id``: ``(agency, id)`` over every dossier — the counter's search newest
  first across dates. These replace 0002's single-column ``ix_dossier_competent_agency`` and
  ``ix_dossier_receiving_agency``, which they cover;
- ``ix_dossier_applicant_phone``, ``ix_dossier_applicant_id_number``: the counter's exact
  search by a whole phone number or CCCD (``queries.dossier_search``).

The predicate and the expression are the query's word for word (``engine.lifecycle.models``
``QUEUE_OPEN``, ``DUE_KEY_SQL``): SQLite uses a partial or expression index only then.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here (a migration does not follow later code): the terminal states of 0019.
QUEUE_OPEN = "state NOT IN ('refused_at_reception', 'returned', 'stopped', 'withdrawn')"
DUE_KEY_SQL = "coalesce(due_date, '9999-12-31')"
SCOPES = ("competent", "receiving", "returning")


def upgrade() -> None:
    for scope in SCOPES:
        column = f"{scope}_agency"
        op.create_index(f"ix_dossier_{scope}_open", "dossier",
                        [column, sa.text(DUE_KEY_SQL), "id"],
                        sqlite_where=sa.text(QUEUE_OPEN), postgresql_where=sa.text(QUEUE_OPEN))
        op.create_index(f"ix_dossier_{scope}_due", "dossier", [column, sa.text(DUE_KEY_SQL), "id"])
        op.create_index(f"ix_dossier_{scope}_id", "dossier", [column, "id"])
    op.drop_index("ix_dossier_competent_agency", table_name="dossier")
    op.drop_index("ix_dossier_receiving_agency", table_name="dossier")
    op.create_index("ix_dossier_applicant_phone", "dossier", ["applicant_phone"])
    op.create_index("ix_dossier_applicant_id_number", "dossier", ["applicant_id_number"])


def downgrade() -> None:
    op.drop_index("ix_dossier_applicant_id_number", table_name="dossier")
    op.drop_index("ix_dossier_applicant_phone", table_name="dossier")
    op.create_index("ix_dossier_receiving_agency", "dossier", ["receiving_agency"])
    op.create_index("ix_dossier_competent_agency", "dossier", ["competent_agency"])
    for scope in reversed(SCOPES):
        for kind in ("id", "due", "open"):
            op.drop_index(f"ix_dossier_{scope}_{kind}", table_name="dossier")
