"""The daily ledger of active time: seconds per learner, module and UTC day.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 12:00:00.000000

The heartbeat statement adds its module row's credited seconds here in the same statement
(tracker/progress/statements.py), split at UTC midnight when the credited span crosses it, so
"time in the last 7 days" and a learner's week-by-week chart are exact. Days before this
migration have no rows: the totals in user_content_progress hold that time, undivided.

The unique indexes lead with the owner, as progress's do: the heartbeat's upsert, a learner's
chart, export, delete and claim all find their rows through them. The index on utc_day serves
the dashboard's window ("the last 7 days") without reading every learner's rows.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('daily_module_time',
    sa.Column('id', KEY, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('anonymous_token', sa.Uuid(), nullable=True),
    sa.Column('module_id', sa.Uuid(), nullable=False),
    sa.Column('utc_day', sa.Date(), nullable=False),
    sa.Column('active_s', sa.Integer(), server_default='0', nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (anonymous_token IS NULL)', name=op.f('ck_daily_module_time_exactly_one_owner')),
    sa.CheckConstraint('active_s >= 0', name=op.f('ck_daily_module_time_active_s_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_daily_module_time_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_module_time'))
    )
    with op.batch_alter_table('daily_module_time', schema=None) as batch_op:
        batch_op.create_index('uq_daily_module_time_user', ['user_id', 'module_id', 'utc_day'], unique=True, postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))
        batch_op.create_index('uq_daily_module_time_anonymous', ['anonymous_token', 'module_id', 'utc_day'], unique=True, postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
        batch_op.create_index('ix_daily_module_time_utc_day', ['utc_day'], unique=False)


def downgrade():
    with op.batch_alter_table('daily_module_time', schema=None) as batch_op:
        batch_op.drop_index('ix_daily_module_time_utc_day')
        batch_op.drop_index('uq_daily_module_time_anonymous', postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
        batch_op.drop_index('uq_daily_module_time_user', postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))
    op.drop_table('daily_module_time')
