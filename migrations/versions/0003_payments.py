"""payments: pledge provider refs, attempts, webhook events, ledger, matching

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 11:10:47.010808
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('webhook_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=80), nullable=False),
    sa.Column('object_id', sa.String(length=100), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_webhook_events_event_id'))
    )
    op.create_table('matching_pots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sponsor_name', sa.String(length=160), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=True),
    sa.Column('budget_cents', sa.Integer(), nullable=False),
    sa.Column('ratio_percent', sa.Integer(), nullable=False),
    sa.Column('cap_per_pledge_cents', sa.Integer(), nullable=True),
    sa.Column('cap_per_backer_cents', sa.Integer(), nullable=True),
    sa.Column('cap_per_project_cents', sa.Integer(), nullable=True),
    sa.Column('district_slugs', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('counts_toward_threshold', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('budget_cents >= 0', name=op.f('ck_matching_pots_budget_non_negative')),
    sa.CheckConstraint('ratio_percent > 0', name=op.f('ck_matching_pots_ratio_positive')),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_matching_pots_contest_id_contests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matching_pots'))
    )
    op.create_table('payment_customers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_payment_customers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_customers')),
    sa.UniqueConstraint('customer_id', name=op.f('uq_payment_customers_customer_id')),
    sa.UniqueConstraint('user_id', 'provider', name=op.f('uq_payment_customers_user_id_provider'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=True),
    sa.Column('pot_id', sa.Integer(), nullable=True),
    sa.Column('provider_ref', sa.String(length=100), nullable=True),
    sa.Column('idempotency_key', sa.String(length=120), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ledger_entries_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_ledger_entries_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['pot_id'], ['matching_pots.id'], name=op.f('fk_ledger_entries_pot_id_matching_pots')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_ledger_entries_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_entries_pledge_id'), ['pledge_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ledger_entries_pot_id'), ['pot_id'], unique=False)
        batch_op.create_index('ix_ledger_entries_project_kind', ['project_id', 'kind'], unique=False)
        batch_op.create_index('uq_ledger_entries_idempotency', ['idempotency_key'], unique=True)

    op.create_table('matches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pot_id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('backer_id', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['backer_id'], ['users.id'], name=op.f('fk_matches_backer_id_users')),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_matches_pledge_id_pledges')),
    sa.ForeignKeyConstraint(['pot_id'], ['matching_pots.id'], name=op.f('fk_matches_pot_id_matching_pots')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_matches_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_matches')),
    sa.UniqueConstraint('pledge_id', name=op.f('uq_matches_pledge_id'))
    )
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_matches_backer_id'), ['backer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_pot_id'), ['pot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_matches_project_id'), ['project_id'], unique=False)

    op.create_table('payment_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pledge_id', sa.Integer(), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('payment_intent_id', sa.String(length=64), nullable=True),
    sa.Column('error_code', sa.String(length=80), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['pledge_id'], ['pledges.id'], name=op.f('fk_payment_attempts_pledge_id_pledges')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_attempts')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_payment_attempts_idempotency_key')),
    sa.UniqueConstraint('payment_intent_id', name=op.f('uq_payment_attempts_payment_intent_id')),
    sa.UniqueConstraint('pledge_id', 'attempt_no', name=op.f('uq_payment_attempts_pledge_id_attempt_no'))
    )
    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_attempts_pledge_id'), ['pledge_id'], unique=False)

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('setup_intent_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payment_method_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('payment_method_type', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('payment_intent_id', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('paid_cents', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('refunded_cents', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('action_required_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_pledges_payment_intent_id'), ['payment_intent_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_pledges_setup_intent_id'), ['setup_intent_id'])
        batch_op.create_check_constraint(
            'refund_within_paid', 'refunded_cents >= 0 AND refunded_cents <= paid_cents'
        )



def downgrade() -> None:
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_pledges_refund_within_paid'), type_='check')
        batch_op.drop_constraint(batch_op.f('uq_pledges_setup_intent_id'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_pledges_payment_intent_id'))
        batch_op.drop_column('paid_at')
        batch_op.drop_column('action_required_at')
        batch_op.drop_column('refunded_cents')
        batch_op.drop_column('paid_cents')
        batch_op.drop_column('payment_intent_id')
        batch_op.drop_column('payment_method_type')
        batch_op.drop_column('payment_method_id')
        batch_op.drop_column('setup_intent_id')
        batch_op.drop_column('customer_id')

    with op.batch_alter_table('payment_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payment_attempts_pledge_id'))

    op.drop_table('payment_attempts')
    with op.batch_alter_table('matches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_matches_project_id'))
        batch_op.drop_index(batch_op.f('ix_matches_pot_id'))
        batch_op.drop_index(batch_op.f('ix_matches_backer_id'))

    op.drop_table('matches')
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_ledger_entries_idempotency')
        batch_op.drop_index('ix_ledger_entries_project_kind')
        batch_op.drop_index(batch_op.f('ix_ledger_entries_pot_id'))
        batch_op.drop_index(batch_op.f('ix_ledger_entries_pledge_id'))

    op.drop_table('ledger_entries')
    op.drop_table('payment_customers')
    op.drop_table('matching_pots')
    op.drop_table('webhook_events')
