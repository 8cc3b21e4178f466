"""Security: scoped idempotency keys, shared rate limits, revocable sessions, a read journal.

- ``idempotency_record``: a key is scoped to its user and route and carries the hash of its
  request body; the row is written in the transaction of the request it answers, so that a
  concurrent repeat waits for it and then replays it (``engine.lifecycle.idempotency``).
- ``rate_limit_hit``: the hits of every limiter (login, citizen lookup), shared by all
  processes and kept across restarts (``service.ratelimit``).
- ``auth_session``: one row per web session or API token, revoked at logout, on a password
  change or by an administrator (``service.sessions``).
- ``read_journal``: who read which dossier's personal data (detail, documents), for auditors;
  not part of the hash-chained event log (``engine.readjournal``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("scope_hash", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("route", sa.String(128), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("guidance_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope_hash"),
    )
    op.create_table(
        "rate_limit_hit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("bucket", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_rate_limit_hit_bucket_at", "rate_limit_hit", ["bucket", "at"])
    op.create_table(
        "auth_session",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(64), nullable=True),
        sa.Column("revoked_reason", sa.String(64), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(["username"], ["app_user.username"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_auth_session_username", "auth_session", ["username"])
    op.create_table(
        "read_journal",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("agency_code", sa.String(64), nullable=False),
        sa.Column("dossier_code", sa.String(64), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("document", sa.String(64), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_read_journal_dossier_at", "read_journal", ["dossier_code", "at"])
    op.create_index("ix_read_journal_at", "read_journal", ["at"])
    op.add_column("app_user", sa.Column("password_changed_at", sa.DateTime(timezone=True),
                                        nullable=True))


def downgrade() -> None:
    op.drop_column("app_user", "password_changed_at")
    op.drop_index("ix_read_journal_at", "read_journal")
    op.drop_index("ix_read_journal_dossier_at", "read_journal")
    op.drop_table("read_journal")
    op.drop_index("ix_auth_session_username", "auth_session")
    op.drop_table("auth_session")
    op.drop_index("ix_rate_limit_hit_bucket_at", "rate_limit_hit")
    op.drop_table("rate_limit_hit")
    op.drop_table("idempotency_record")
