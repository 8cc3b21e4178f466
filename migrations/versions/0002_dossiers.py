"""Dossier engine: agencies, procedure versions, dossiers, events, hand-offs, documents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agency',
    sa.Column('code', sa.String(64), nullable=False),
    sa.Column('name', sa.String(255), nullable=False),
    sa.Column('short_name', sa.String(128), nullable=False),
    sa.Column('parent_code', sa.String(64), nullable=True),
    sa.Column('level', sa.String(8), nullable=False),
    sa.Column('place_name', sa.String(128), nullable=False),
    sa.Column('is_one_stop', sa.Boolean(), nullable=False),
    sa.Column('one_stop_code', sa.String(64), nullable=True),
    sa.Column('late_receipt_policy', sa.String(32), nullable=False),
    sa.Column('late_receipt_cutoff', sa.String(5), nullable=False),
    sa.Column('non_working_day_receipt', sa.String(32), nullable=False),
    sa.Column('due_time', sa.String(32), nullable=False),
    sa.Column('code_scheme', sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('agency_procedure',
    sa.Column('agency_code', sa.String(64), nullable=False),
    sa.Column('procedure_code', sa.String(32), nullable=False),
    sa.Column('relation', sa.String(16), nullable=False),
    sa.PrimaryKeyConstraint('agency_code', 'procedure_code', 'relation')
    )
    op.create_table('counter',
    sa.Column('scope', sa.String(128), nullable=False),
    sa.Column('value', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    op.create_table('dossier',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(64), nullable=False),
    sa.Column('secret', sa.String(64), nullable=False),
    sa.Column('procedure_code', sa.String(32), nullable=False),
    sa.Column('procedure_version', sa.Date(), nullable=False),
    sa.Column('procedure_name', sa.String(500), nullable=False),
    sa.Column('channel', sa.String(16), nullable=False),
    sa.Column('state', sa.String(32), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('receiving_agency', sa.String(64), nullable=False),
    sa.Column('competent_agency', sa.String(64), nullable=False),
    sa.Column('returning_agency', sa.String(64), nullable=False),
    sa.Column('boundary_free', sa.Boolean(), nullable=False),
    sa.Column('current_step', sa.String(64), nullable=True),
    sa.Column('assignee', sa.String(64), nullable=True),
    sa.Column('applicant_name', sa.String(255), nullable=False),
    sa.Column('applicant_id_number', sa.String(32), nullable=True),
    sa.Column('applicant_address', sa.String(500), nullable=True),
    sa.Column('applicant_phone', sa.String(32), nullable=True),
    sa.Column('applicant_email', sa.String(255), nullable=True),
    sa.Column('components', sa.JSON(), nullable=True),
    sa.Column('sets_count', sa.Integer(), nullable=False),
    sa.Column('return_method', sa.String(16), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clock_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transfer_due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('transferred_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('limit_amount', sa.Float(), nullable=False),
    sa.Column('limit_unit', sa.String(16), nullable=False),
    sa.Column('supplement_effect', sa.String(16), nullable=False),
    sa.Column('original_due_date', sa.Date(), nullable=True),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('appointment_date', sa.Date(), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('end_kind', sa.String(32), nullable=True),
    sa.Column('returned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_by', sa.String(255), nullable=True),
    sa.Column('supplement_count', sa.Integer(), nullable=False),
    sa.Column('apology_count', sa.Integer(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=True),
    sa.Column('calendar_version', sa.String(32), nullable=True),
    sa.Column('register_year', sa.Integer(), nullable=True),
    sa.Column('register_number', sa.Integer(), nullable=True),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_index(op.f('ix_dossier_assignee'), 'dossier', ['assignee'], unique=False)
    op.create_index(op.f('ix_dossier_competent_agency'), 'dossier', ['competent_agency'], unique=False)
    op.create_index(op.f('ix_dossier_due_date'), 'dossier', ['due_date'], unique=False)
    op.create_index(op.f('ix_dossier_procedure_code'), 'dossier', ['procedure_code'], unique=False)
    op.create_index(op.f('ix_dossier_receiving_agency'), 'dossier', ['receiving_agency'], unique=False)
    op.create_index(op.f('ix_dossier_state'), 'dossier', ['state'], unique=False)
    op.create_table('guidance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_code', sa.String(64), nullable=False),
    sa.Column('procedure_code', sa.String(32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(64), nullable=False),
    sa.Column('applicant_name', sa.String(255), nullable=False),
    sa.Column('applicant_phone', sa.String(32), nullable=True),
    sa.Column('missing', sa.JSON(), nullable=True),
    sa.Column('reason', sa.String(), nullable=False),
    sa.Column('request_id', sa.String(64), nullable=True),
    sa.Column('idempotency_key', sa.String(128), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_index(op.f('ix_guidance_agency_code'), 'guidance', ['agency_code'], unique=False)
    op.create_table('procedure_version',
    sa.Column('code', sa.String(32), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('name', sa.String(500), nullable=False),
    sa.Column('field', sa.String(255), nullable=False),
    sa.Column('level', sa.String(8), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=True),
    sa.Column('loaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code', 'effective_from')
    )
    op.create_table('dossier_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(64), nullable=False),
    sa.Column('actor_role', sa.String(16), nullable=False),
    sa.Column('actor_agency', sa.String(64), nullable=False),
    sa.Column('state_before', sa.String(32), nullable=False),
    sa.Column('state_after', sa.String(32), nullable=False),
    sa.Column('step_before', sa.String(64), nullable=True),
    sa.Column('step_after', sa.String(64), nullable=True),
    sa.Column('reason', sa.String(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.Column('request_id', sa.String(64), nullable=True),
    sa.Column('idempotency_key', sa.String(128), nullable=True),
    sa.Column('imported', sa.Boolean(), nullable=False),
    sa.Column('prev_hash', sa.String(64), nullable=False),
    sa.Column('hash', sa.String(64), nullable=False),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'seq', name='uq_dossier_event_seq'),
    sa.UniqueConstraint('idempotency_key')
    )
    op.create_index(op.f('ix_dossier_event_dossier_id'), 'dossier_event', ['dossier_id'], unique=False)
    op.create_table('dossier_step',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('step_id', sa.String(64), nullable=False),
    sa.Column('step_name', sa.String(255), nullable=False),
    sa.Column('unit', sa.String(255), nullable=False),
    sa.Column('role', sa.String(16), nullable=False),
    sa.Column('handed_by', sa.String(64), nullable=True),
    sa.Column('assignee', sa.String(64), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_by', sa.String(64), nullable=True),
    sa.Column('outcome', sa.String(32), nullable=True),
    sa.Column('classification', sa.String(16), nullable=True),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dossier_id', 'seq', name='uq_dossier_step_seq')
    )
    op.create_index(op.f('ix_dossier_step_dossier_id'), 'dossier_step', ['dossier_id'], unique=False)
    op.create_table('issued_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dossier_id', sa.Integer(), nullable=True),
    sa.Column('guidance_id', sa.Integer(), nullable=True),
    sa.Column('form', sa.String(32), nullable=False),
    sa.Column('form_set', sa.String(8), nullable=False),
    sa.Column('number', sa.String(64), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(64), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('copy_of', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['copy_of'], ['issued_document.id'], ),
    sa.ForeignKeyConstraint(['dossier_id'], ['dossier.id'], ),
    sa.ForeignKeyConstraint(['event_id'], ['dossier_event.id'], ),
    sa.ForeignKeyConstraint(['guidance_id'], ['guidance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_issued_document_dossier_id'), 'issued_document', ['dossier_id'], unique=False)


def downgrade() -> None:

    op.drop_index(op.f('ix_issued_document_dossier_id'), table_name='issued_document')
    op.drop_table('issued_document')
    op.drop_index(op.f('ix_dossier_step_dossier_id'), table_name='dossier_step')
    op.drop_table('dossier_step')
    op.drop_index(op.f('ix_dossier_event_dossier_id'), table_name='dossier_event')
    op.drop_table('dossier_event')
    op.drop_table('procedure_version')
    op.drop_index(op.f('ix_guidance_agency_code'), table_name='guidance')
    op.drop_table('guidance')
    op.drop_index(op.f('ix_dossier_state'), table_name='dossier')
    op.drop_index(op.f('ix_dossier_receiving_agency'), table_name='dossier')
    op.drop_index(op.f('ix_dossier_procedure_code'), table_name='dossier')
    op.drop_index(op.f('ix_dossier_due_date'), table_name='dossier')
    op.drop_index(op.f('ix_dossier_competent_agency'), table_name='dossier')
    op.drop_index(op.f('ix_dossier_assignee'), table_name='dossier')
    op.drop_table('dossier')
    op.drop_table('counter')
    op.drop_table('agency_procedure')
    op.drop_table('agency')
