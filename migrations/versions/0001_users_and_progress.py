"""Users, and progress per learner and content item (lens, LO, module).

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 10:23:51.161987

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('display_name', sa.String(length=120), server_default='', nullable=False),
    sa.Column('is_admin', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('email = lower(email)', name=op.f('ck_users_email_lowercase')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    op.create_table('user_content_progress',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('anonymous_token', sa.Uuid(), nullable=True),
    sa.Column('content_id', sa.Uuid(), nullable=False),
    sa.Column('content_type', sa.String(length=10), nullable=False),
    sa.Column('content_title', sa.Text(), server_default='', nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_heartbeat_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('total_time_spent_s', sa.Integer(), server_default='0', nullable=False),
    sa.Column('time_to_complete_s', sa.Integer(), nullable=True),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    # The wall-clock budget's high-water mark, in epoch milliseconds; see tracker/progress/statements.py.
    sa.Column('credited_until_ms', sa.BigInteger(), nullable=True),
    sa.Column('last_credit_s', sa.Integer(), nullable=True),
    sa.CheckConstraint("content_type IN ('lens', 'lo', 'module')", name=op.f('ck_user_content_progress_content_type_known')),
    sa.CheckConstraint('(user_id IS NULL) <> (anonymous_token IS NULL)', name=op.f('ck_user_content_progress_exactly_one_owner')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_content_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_content_progress'))
    )
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        batch_op.create_index('uq_progress_anonymous_content', ['anonymous_token', 'content_id'], unique=True, postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
        batch_op.create_index('uq_progress_user_content', ['user_id', 'content_id'], unique=True, postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))



def downgrade():
    with op.batch_alter_table('user_content_progress', schema=None) as batch_op:
        batch_op.drop_index('uq_progress_user_content', postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))
        batch_op.drop_index('uq_progress_anonymous_content', postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))

    op.drop_table('user_content_progress')
    op.drop_table('users')
