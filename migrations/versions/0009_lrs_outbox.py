"""The LRS outbox, the marks that space out `progressed` statements, and each account's xAPI pseudonym.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00.000000

lrs_outbox holds xAPI statements for a Learning Record Store: a completion writes its own in its
transaction, `flask tracker lrs-push` sends them oldest first (the partial index on id is its
queue) and marks what the LRS accepted (sent_at) or refused (rejected_at, with the LRS's message
in last_error). statement_id is unique, so the same statement is never queued twice. Rows are
kept after sending: a learner deleting their account is shown what already went to the LRS.

lrs_progress_marks records, per module row, when the worker last queued a `progressed` statement
for it, so it queues at most one per TRACKER_LRS_PROGRESS_EVERY_S.

users gains pseudonym, a random UUID: the learner's account name in xAPI statements. Existing
accounts get one here.
"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    # Added in place (no table rebuild on SQLite, which would cascade to every account's rows); the
    # column stays nullable for that reason, and every account gets a value here and at sign-up.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('pseudonym', sa.Uuid(), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute("UPDATE users SET pseudonym = gen_random_uuid() WHERE pseudonym IS NULL")
    else:
        users = sa.table('users', sa.column('id', sa.Integer()), sa.column('pseudonym', sa.Uuid()))
        for (user_id,) in bind.execute(sa.select(users.c.id).where(users.c.pseudonym.is_(None))).all():
            bind.execute(users.update().where(users.c.id == user_id).values(pseudonym=uuid.uuid4()))
    op.create_index('uq_users_pseudonym', 'users', ['pseudonym'], unique=True)

    op.create_table('lrs_outbox',
    sa.Column('id', KEY, nullable=False),
    sa.Column('statement_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('anonymous_token', sa.Uuid(), nullable=True),
    sa.Column('verb', sa.String(length=16), nullable=False),
    sa.Column('statement', sa.Text(), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint('(user_id IS NULL) <> (anonymous_token IS NULL)', name=op.f('ck_lrs_outbox_exactly_one_owner')),
    sa.CheckConstraint('sent_at IS NULL OR rejected_at IS NULL', name=op.f('ck_lrs_outbox_sent_or_rejected')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lrs_outbox_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lrs_outbox')),
    sa.UniqueConstraint('statement_id', name=op.f('uq_lrs_outbox_statement_id'))
    )
    with op.batch_alter_table('lrs_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_lrs_outbox_queued', ['id'], unique=False,
                              postgresql_where=sa.text('sent_at IS NULL AND rejected_at IS NULL'),
                              sqlite_where=sa.text('sent_at IS NULL AND rejected_at IS NULL'))
        batch_op.create_index('ix_lrs_outbox_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_lrs_outbox_anonymous_token', ['anonymous_token'], unique=False)

    op.create_table('lrs_progress_marks',
    sa.Column('progress_id', KEY, nullable=False),
    sa.Column('reported_heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('queued_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['progress_id'], ['user_content_progress.id'], name=op.f('fk_lrs_progress_marks_progress_id_user_content_progress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('progress_id', name=op.f('pk_lrs_progress_marks'))
    )


def downgrade():
    op.drop_table('lrs_progress_marks')
    with op.batch_alter_table('lrs_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_lrs_outbox_anonymous_token')
        batch_op.drop_index('ix_lrs_outbox_user_id')
        batch_op.drop_index('ix_lrs_outbox_queued')
    op.drop_table('lrs_outbox')
    op.drop_index('uq_users_pseudonym', table_name='users')
    # Not recreated on SQLite: dropping the old users table would cascade, with foreign keys on,
    # to every account's progress. SQLite (3.35+) drops a plain column in place.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('pseudonym')
