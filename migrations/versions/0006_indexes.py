"""indexes: the public list's default order, and one open pledge per backer and project

- ix_projects_newest on projects (published_at DESC NULLS LAST, id DESC): the campaign list's default
  order (`crowdfund.services.campaigns._ordering(Sort.NEWEST)`). SQLite cannot write NULLS LAST in an
  index; its DESC already sorts NULLs last, so there the index is (published_at DESC, id DESC).
- uq_pledges_one_open_per_backer: a partial unique index on pledges (project_id, backer_id) WHERE
  status IN ('active', 'pending_setup'), backing the service's row-locked check.

Revision ID: 0006_indexes
Revises: 0005
Create Date: 2026-11-27 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_indexes"
down_revision = "0005"
branch_labels = None
depends_on = None

_OPEN = "status IN ('active', 'pending_setup')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index("ix_projects_newest", "projects",
                        [sa.text("published_at DESC NULLS LAST"), sa.text("id DESC")])
    else:
        op.create_index("ix_projects_newest", "projects", [sa.text("published_at DESC"), sa.text("id DESC")])
    op.create_index("uq_pledges_one_open_per_backer", "pledges", ["project_id", "backer_id"], unique=True,
                    postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))


def downgrade() -> None:
    op.drop_index("uq_pledges_one_open_per_backer", table_name="pledges")
    op.drop_index("ix_projects_newest", table_name="projects")
