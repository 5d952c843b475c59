"""Indexes for the admin dashboard's aggregate queries.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 09:00:00.000000

The plans these indexes serve are in docs/DASHBOARD.md. Neither index holds a column that a
heartbeat changes, so heartbeats stay HOT updates; docs/DASHBOARD.md explains why there is
deliberately no index on last_heartbeat_at.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        # Per-item stats (started, completed, median and p90 time) read only this index.
        batch_op.create_index('ix_progress_content_time_to_complete', ['content_id', 'time_to_complete_s'], unique=False)
        # Completions per day and level over the last 30 days.
        batch_op.create_index('ix_progress_completed_at_type', ['completed_at', 'content_type'], unique=False, postgresql_where=sa.text('completed_at IS NOT NULL'), sqlite_where=sa.text('completed_at IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_completed_at_type', postgresql_where=sa.text('completed_at IS NOT NULL'), sqlite_where=sa.text('completed_at IS NOT NULL'))
        batch_op.drop_index('ix_progress_content_time_to_complete')
