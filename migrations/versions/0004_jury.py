"""jury: panel, criteria, conflicts, assignments, scorecards, discussion, crowd snapshots

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 11:30:11.218812
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('jury_configs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.String(length=20), nullable=False),
    sa.Column('ranking_rule', sa.String(length=20), nullable=False),
    sa.Column('jury_weight', sa.String(length=20), nullable=False),
    sa.Column('preselect_top_n', sa.Integer(), nullable=False),
    sa.Column('prize_pot_cents', sa.Integer(), nullable=False),
    sa.Column('prize_places', sa.Integer(), nullable=False),
    sa.Column('prize_mode', sa.String(length=20), nullable=False),
    sa.Column('prize_fixed_cents', sa.JSON(), nullable=False),
    sa.Column('crowd_min_pledge_cents', sa.Integer(), nullable=False),
    sa.Column('jurors_per_entry', sa.Integer(), nullable=True),
    sa.Column('disagreement_points', sa.Integer(), nullable=False),
    sa.Column('tie_vote', sa.JSON(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=True),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('crowd_min_pledge_cents >= 0', name=op.f('ck_jury_configs_crowd_min_non_negative')),
    sa.CheckConstraint('prize_places >= 0', name=op.f('ck_jury_configs_places_non_negative')),
    sa.CheckConstraint('prize_pot_cents >= 0', name=op.f('ck_jury_configs_pot_non_negative')),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_configs_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_configs')),
    sa.UniqueConstraint('contest_id', name=op.f('uq_jury_configs_contest_id'))
    )
    op.create_table('jury_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('weight', sa.String(length=20), nullable=False),
    sa.Column('scale_min', sa.Integer(), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.Column('anchors', sa.JSON(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.CheckConstraint('scale_max > scale_min', name=op.f('ck_jury_criteria_scale_ordered')),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_criteria_contest_id_contests'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_criteria'))
    )
    with op.batch_alter_table('jury_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_criteria_contest_id'), ['contest_id'], unique=False)

    op.create_table('jury_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_members_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_jury_members_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_members')),
    sa.UniqueConstraint('contest_id', 'user_id', name=op.f('uq_jury_members_contest_id_user_id'))
    )
    with op.batch_alter_table('jury_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_members_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_members_user_id'), ['user_id'], unique=False)

    op.create_table('crowd_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('backers', sa.Integer(), nullable=False),
    sa.Column('amount_cents', sa.Integer(), nullable=False),
    sa.Column('threshold_cents', sa.Integer(), nullable=False),
    sa.Column('percent', sa.Integer(), nullable=False),
    sa.Column('minimum_cents', sa.Integer(), nullable=False),
    sa.Column('frozen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_crowd_snapshots_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_crowd_snapshots_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_crowd_snapshots')),
    sa.UniqueConstraint('contest_id', 'project_id', name=op.f('uq_crowd_snapshots_contest_id_project_id'))
    )
    with op.batch_alter_table('crowd_snapshots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_crowd_snapshots_contest_id'), ['contest_id'], unique=False)

    op.create_table('jury_assignments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('juror_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_assignments_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['juror_id'], ['users.id'], name=op.f('fk_jury_assignments_juror_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_jury_assignments_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_assignments')),
    sa.UniqueConstraint('juror_id', 'project_id', name=op.f('uq_jury_assignments_juror_id_project_id'))
    )
    with op.batch_alter_table('jury_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_assignments_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_assignments_juror_id'), ['juror_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_assignments_project_id'), ['project_id'], unique=False)

    op.create_table('jury_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_jury_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_comments_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_jury_comments_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_comments'))
    )
    with op.batch_alter_table('jury_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_comments_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_comments_project_id'), ['project_id'], unique=False)

    op.create_table('jury_conflicts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('juror_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_jury_conflicts_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['declared_by_id'], ['users.id'], name=op.f('fk_jury_conflicts_declared_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['juror_id'], ['users.id'], name=op.f('fk_jury_conflicts_juror_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_jury_conflicts_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jury_conflicts')),
    sa.UniqueConstraint('juror_id', 'project_id', name=op.f('uq_jury_conflicts_juror_id_project_id'))
    )
    with op.batch_alter_table('jury_conflicts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jury_conflicts_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_conflicts_juror_id'), ['juror_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_jury_conflicts_project_id'), ['project_id'], unique=False)

    op.create_table('scorecards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('juror_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contests.id'], name=op.f('fk_scorecards_contest_id_contests'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['juror_id'], ['users.id'], name=op.f('fk_scorecards_juror_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_scorecards_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorecards')),
    sa.UniqueConstraint('juror_id', 'project_id', name=op.f('uq_scorecards_juror_id_project_id'))
    )
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scorecards_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecards_juror_id'), ['juror_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_scorecards_project_id'), ['project_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scorecards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scorecards_project_id'))
        batch_op.drop_index(batch_op.f('ix_scorecards_juror_id'))
        batch_op.drop_index(batch_op.f('ix_scorecards_contest_id'))

    op.drop_table('scorecards')
    with op.batch_alter_table('jury_conflicts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_conflicts_project_id'))
        batch_op.drop_index(batch_op.f('ix_jury_conflicts_juror_id'))
        batch_op.drop_index(batch_op.f('ix_jury_conflicts_contest_id'))

    op.drop_table('jury_conflicts')
    with op.batch_alter_table('jury_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_comments_project_id'))
        batch_op.drop_index(batch_op.f('ix_jury_comments_contest_id'))

    op.drop_table('jury_comments')
    with op.batch_alter_table('jury_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_assignments_project_id'))
        batch_op.drop_index(batch_op.f('ix_jury_assignments_juror_id'))
        batch_op.drop_index(batch_op.f('ix_jury_assignments_contest_id'))

    op.drop_table('jury_assignments')
    with op.batch_alter_table('crowd_snapshots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_crowd_snapshots_contest_id'))

    op.drop_table('crowd_snapshots')
    with op.batch_alter_table('jury_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_jury_members_contest_id'))

    op.drop_table('jury_members')
    with op.batch_alter_table('jury_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jury_criteria_contest_id'))

    op.drop_table('jury_criteria')
    op.drop_table('jury_configs')
