"""Tutor chat: a session per learner, module and lens, and its messages.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('chat_sessions',
    sa.Column('id', KEY, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('anonymous_token', sa.Uuid(), nullable=True),
    sa.Column('module_id', sa.Uuid(), nullable=False),
    sa.Column('lens_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    # When the running answer's claim runs out; NULL while no answer streams. See tracker/chat/service.py.
    sa.Column('streaming_until', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (anonymous_token IS NULL)', name=op.f('ck_chat_sessions_exactly_one_owner')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_chat_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_sessions'))
    )
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.create_index('uq_chat_sessions_anonymous_lens', ['anonymous_token', 'module_id', 'lens_id'], unique=True, postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
        batch_op.create_index('uq_chat_sessions_user_lens', ['user_id', 'module_id', 'lens_id'], unique=True, postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))

    op.create_table('chat_messages',
    sa.Column('id', KEY, nullable=False),
    sa.Column('session_id', KEY, nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.Column('status', sa.String(length=12), server_default='complete', nullable=False),
    sa.CheckConstraint("role IN ('learner', 'tutor')", name=op.f('ck_chat_messages_role_known')),
    sa.CheckConstraint("status IN ('complete', 'interrupted')", name=op.f('ck_chat_messages_status_known')),
    sa.ForeignKeyConstraint(['session_id'], ['chat_sessions.id'], name=op.f('fk_chat_messages_session_id_chat_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_messages'))
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_session_created', ['session_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_session_created')
    op.drop_table('chat_messages')
    with op.batch_alter_table('chat_sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_chat_sessions_user_lens', postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))
        batch_op.drop_index('uq_chat_sessions_anonymous_lens', postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
    op.drop_table('chat_sessions')
