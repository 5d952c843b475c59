"""Nudges: the record of each reminder email sent before a meeting, and a learner's choice to get them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 09:00:00.000000

`flask tracker nudges` claims a row of sent_nudges (INSERT ... ON CONFLICT DO NOTHING, committed)
before it sends the email the row stands for, so the unique constraint on (user_id, group_id,
meeting_number, kind) is what keeps two runs, overlapping ones too, from sending one email twice.
It leads with user_id, so it also finds a learner's rows for "Download my data" and "Delete my
data"; the index on (group_id, meeting_number) finds what a run has already sent for a meeting.
sent_at stays NULL when the mail server never confirmed the email (tracker/nudges/service.py).

users gains nudges_enabled, true unless the learner turned nudges off (My progress, or the
unsubscribe link in every nudge).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nudges_enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False))

    op.create_table('sent_nudges',
    sa.Column('id', KEY, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('meeting_number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('learner', 'facilitator')", name=op.f('ck_sent_nudges_kind_known')),
    sa.ForeignKeyConstraint(['group_id'], ['cohort_groups.id'], name=op.f('fk_sent_nudges_group_id_cohort_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_sent_nudges_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_nudges')),
    sa.UniqueConstraint('user_id', 'group_id', 'meeting_number', 'kind', name=op.f('uq_sent_nudges_once_per_meeting'))
    )
    with op.batch_alter_table('sent_nudges', schema=None) as batch_op:
        batch_op.create_index('ix_sent_nudges_group_meeting', ['group_id', 'meeting_number'], unique=False)


def downgrade():
    with op.batch_alter_table('sent_nudges', schema=None) as batch_op:
        batch_op.drop_index('ix_sent_nudges_group_meeting')
    op.drop_table('sent_nudges')
    # Not recreated on SQLite: dropping the old users table would cascade, with foreign keys on,
    # to every account's progress. SQLite (3.35+) drops a plain column in place.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('nudges_enabled')
