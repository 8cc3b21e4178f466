"""Service: users and auditor grants, settings, calendar journal, dossier search text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('app_setting',
    sa.Column('key', sa.String(64), nullable=False),
    sa.Column('value', sa.String(500), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('app_user',
    sa.Column('username', sa.String(64), nullable=False),
    sa.Column('full_name', sa.String(255), nullable=False),
    sa.Column('role', sa.String(16), nullable=False),
    sa.Column('agency_code', sa.String(64), nullable=False),
    sa.Column('password_hash', sa.String(255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('auditor_grant',
    sa.Column('username', sa.String(64), nullable=False),
    sa.Column('agency_code', sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint('username', 'agency_code')
    )
    op.create_table('calendar_journal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(64), nullable=False),
    sa.Column('agency_code', sa.String(64), nullable=False),
    sa.Column('change', sa.JSON(), nullable=True),
    sa.Column('reprojected', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    # Folded (lower-case, no diacritics) code + applicant, for accent-insensitive search.
    op.add_column('dossier', sa.Column('search_text', sa.String(700), nullable=False,
                                       server_default=''))


def downgrade() -> None:

    op.drop_column('dossier', 'search_text')
    op.drop_table('calendar_journal')
    op.drop_table('auditor_grant')
    op.drop_table('app_user')
    op.drop_table('app_setting')
