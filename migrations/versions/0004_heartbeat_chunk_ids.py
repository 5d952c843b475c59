"""The id of the last heartbeat chunk credited to each progress row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000

A page gives every chunk of active seconds it sends an id. When a delivery's answer is lost and
the page sends the same chunk again, the heartbeat statement finds the id here and credits
nothing (tracker/progress/statements.py). Not indexed: the statement reads it from rows it has
already found by their unique key, and an index on a column every heartbeat writes would stop
heartbeats from being HOT updates.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_chunk_id', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        batch_op.drop_column('last_chunk_id')
