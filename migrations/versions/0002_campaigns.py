"""campaigns: project details, team, updates, rewards, pledges

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:56:54.505931
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('project_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=160), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_project_updates_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_updates_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_updates'))
    )
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_updates_project_id'), ['project_id'], unique=False)

    op.create_table('rewards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('min_amount_cents', sa.Integer(), nullable=False),
    sa.Column('quantity_total', sa.Integer(), nullable=True),
    sa.Column('quantity_claimed', sa.Integer(), nullable=False),
    sa.Column('delivery_estimate', sa.String(length=7), nullable=False),
    sa.CheckConstraint('min_amount_cents >= 100', name=op.f('ck_rewards_min_amount_at_least_one_euro')),
    sa.CheckConstraint('quantity_claimed >= 0', name=op.f('ck_rewards_claimed_non_negative')),
    sa.CheckConstraint('quantity_total IS NULL OR quantity_claimed <= quantity_total', name=op.f('ck_rewards_never_oversold')),
    sa.CheckConstraint('quantity_total IS NULL OR quantity_total >= 0', name=op.f('ck_rewards_quantity_non_negative')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_rewards_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rewards'))
    )
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rewards_project_id'), ['project_id'], unique=False)

    op.create_table('team_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('role', sa.String(length=120), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_team_members_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team_members'))
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_project_id'), ['project_id'], unique=False)

    op.create_table('pledges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('backer_id', sa.Integer(), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=True),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('anonymous', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_cents > 0', name=op.f('ck_pledges_amount_positive')),
    sa.ForeignKeyConstraint(['backer_id'], ['users.id'], name=op.f('fk_pledges_backer_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_pledges_project_id_projects')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_pledges_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pledges'))
    )
    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pledges_backer_id'), ['backer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pledges_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_pledges_project_status', ['project_id', 'status'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cover_image', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('recipient_name', sa.String(length=160), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recipient_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('recipient_tax_privileged', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('published_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_projects_state_deadline', ['state', 'deadline'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index('ix_projects_state_deadline')
        batch_op.drop_column('published_at')
        batch_op.drop_column('recipient_tax_privileged')
        batch_op.drop_column('recipient_address')
        batch_op.drop_column('recipient_name')
        batch_op.drop_column('cover_image')

    with op.batch_alter_table('pledges', schema=None) as batch_op:
        batch_op.drop_index('ix_pledges_project_status')
        batch_op.drop_index(batch_op.f('ix_pledges_project_id'))
        batch_op.drop_index(batch_op.f('ix_pledges_backer_id'))

    op.drop_table('pledges')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_project_id'))

    op.drop_table('team_members')
    with op.batch_alter_table('rewards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rewards_project_id'))

    op.drop_table('rewards')
    with op.batch_alter_table('project_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_updates_project_id'))

    op.drop_table('project_updates')
