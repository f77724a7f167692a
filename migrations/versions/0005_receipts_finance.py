"""receipts and finance: receipts with gap-free counters, receipt addresses, donation profiles, payouts

New tables only; no column is added to an existing table.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 12:04:32.890675
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('receipt_counters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('issuer_key', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_sequence', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_sequence >= 0', name=op.f('ck_receipt_counters_sequence_non_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_counters')),
    sa.UniqueConstraint('issuer_key', 'year', name=op.f('uq_receipt_counters_issuer_key_year'))
    )
    op.create_table('payout_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('xml', sa.LargeBinary(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('total_cents', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payout_exports_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payout_exports')),
    sa.UniqueConstraint('message_id', name=op.f('uq_payout_exports_message_id'))
    )
    op.create_table('receipt_addresses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=160), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_receipt_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_addresses')),
    sa.UniqueConstraint('user_id', name=op.f('uq_receipt_addresses_user_id'))
    )
    op.create_table('donation_profiles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('tax_office', sa.String(length=120), nullable=False),
    sa.Column('tax_number', sa.String(length=40), nullable=False),
    sa.Column('notice_date', sa.Date(), nullable=False),
    sa.Column('notice_kind', sa.String(length=30), nullable=False),
    sa.Column('assessment_period', sa.String(length=160), nullable=False),
    sa.Column('place', sa.String(length=80), nullable=False),
    sa.Column('signatory', sa.String(length=160), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_donation_profiles_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_donation_profiles')),
    sa.UniqueConstraint('project_id', name=op.f('uq_donation_profiles_project_id'))
    )
    op.create_table('payouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('iban', sa.String(length=34), nullable=False),
    sa.Column('bic', sa.String(length=11), nullable=False),
    sa.Column('recipient_name', sa.String(length=160), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('export_id', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('requested', 'approved', 'exported')", name=op.f('ck_payouts_status_known')),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_payouts_amount_positive')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_payouts_approved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['export_id'], ['payout_exports.id'], name=op.f('fk_payouts_export_id_payout_exports')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_payouts_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_payouts_project_id_projects')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_payouts_requested_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payouts')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_payouts_ledger_entry_id'))
    )
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payouts_export_id'), ['export_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payouts_project_id'), ['project_id'], unique=False)

    op.create_table('receipts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=24), nullable=False),
    sa.Column('issuer_key', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('source_key', sa.String(length=60), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('refund_entry_id', sa.Integer(), nullable=True),
    sa.Column('cancels_id', sa.Integer(), nullable=True),
    sa.Column('backer_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('pdf', sa.LargeBinary(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('numbered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retention_until', sa.Date(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.CheckConstraint("status IN ('numbered', 'issued')", name=op.f('ck_receipts_status_known')),
    sa.CheckConstraint('amount_cents >= 0', name=op.f('ck_receipts_amount_non_negative')),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_receipts_sequence_positive')),
    sa.ForeignKeyConstraint(['backer_id'], ['users.id'], name=op.f('fk_receipts_backer_id_users')),
    sa.ForeignKeyConstraint(['cancels_id'], ['receipts.id'], name=op.f('fk_receipts_cancels_id_receipts')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_receipts_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_receipts_project_id_projects')),
    sa.ForeignKeyConstraint(['refund_entry_id'], ['ledger_entries.id'], name=op.f('fk_receipts_refund_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipts')),
    sa.UniqueConstraint('issuer_key', 'year', 'sequence', name=op.f('uq_receipts_issuer_key_year_sequence')),
    sa.UniqueConstraint('number', name=op.f('uq_receipts_number')),
    sa.UniqueConstraint('refund_entry_id', name=op.f('uq_receipts_refund_entry_id')),
    sa.UniqueConstraint('source_key', name=op.f('uq_receipts_source_key'))
    )
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_receipts_backer_id'), ['backer_id'], unique=False)
        batch_op.create_index('ix_receipts_issue_date', ['issue_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_receipts_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('receipts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_receipts_project_id'))
        batch_op.drop_index(batch_op.f('ix_receipts_pledge_id'))
        batch_op.drop_index('ix_receipts_issue_date')
        batch_op.drop_index(batch_op.f('ix_receipts_backer_id'))

    op.drop_table('receipts')
    with op.batch_alter_table('payouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payouts_project_id'))
        batch_op.drop_index(batch_op.f('ix_payouts_export_id'))

    op.drop_table('payouts')
    op.drop_table('donation_profiles')
    op.drop_table('receipt_addresses')
    op.drop_table('payout_exports')
    op.drop_table('receipt_counters')
