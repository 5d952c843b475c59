"""Learners' answers to the questions of a lens.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00.000000

One row per learner (an account or an anonymous token), lens and question: a question id can
appear in two lenses. Saving is one INSERT ... ON CONFLICT DO UPDATE on the partial unique index
of the owner's kind (tracker/answers/store.py), so the two indexes are what makes it atomic.
They lead with the owner, so they also serve a learner's lens page, export, delete and claim.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KEY = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade():
    op.create_table('question_answers',
    sa.Column('id', KEY, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('anonymous_token', sa.Uuid(), nullable=True),
    sa.Column('lens_id', sa.Uuid(), nullable=False),
    sa.Column('question_id', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(user_id IS NULL) <> (anonymous_token IS NULL)', name=op.f('ck_question_answers_exactly_one_owner')),
    sa.CheckConstraint('length(text) BETWEEN 1 AND 4000', name=op.f('ck_question_answers_text_length')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_question_answers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_answers'))
    )
    with op.batch_alter_table('question_answers', schema=None) as batch_op:
        batch_op.create_index('uq_question_answers_anonymous_question', ['anonymous_token', 'lens_id', 'question_id'], unique=True, postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
        batch_op.create_index('uq_question_answers_user_question', ['user_id', 'lens_id', 'question_id'], unique=True, postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('question_answers', schema=None) as batch_op:
        batch_op.drop_index('uq_question_answers_user_question', postgresql_where=sa.text('user_id IS NOT NULL'), sqlite_where=sa.text('user_id IS NOT NULL'))
        batch_op.drop_index('uq_question_answers_anonymous_question', postgresql_where=sa.text('anonymous_token IS NOT NULL'), sqlite_where=sa.text('anonymous_token IS NOT NULL'))
    op.drop_table('question_answers')
