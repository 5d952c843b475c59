"""Cohorts of a course, their meeting dates, groups, memberships, facilitators and invite links.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 13:00:00.000000

A cohort meets on a weekly rule (weekday, local time, IANA time zone) or on dates of its own
(cohort_meetings); a group may meet in a weekly slot of its own. A learner is in at most one group
per cohort: group_memberships repeats the group's cohort_id, the unique constraint on
(user_id, cohort_id) enforces the rule, and the key (group_id, cohort_id) to cohort_groups keeps
that cohort_id the group's own, also when a learner is moved. The constraint leads with user_id,
so it also finds a learner's memberships (My progress, export, delete, access checks).

An invite keeps only its token's SHA-256: the database never holds a working link. users gains
is_facilitator, the role that lets an account be a group's facilitator; admins stay is_admin.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Never recreated on SQLite: with foreign keys on, dropping the old users table would cascade to
    # every account's progress, chats and answers. SQLite adds (and, 3.35+, drops) a plain column in place.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.add_column(sa.Column('is_facilitator', sa.Boolean(), server_default=sa.text('false'), nullable=False))

    op.create_table('cohorts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_slug', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False),
    sa.Column('weekly_weekday', sa.SmallInteger(), nullable=True),
    sa.Column('weekly_local_time', sa.Time(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('(weekly_weekday IS NULL) = (weekly_local_time IS NULL)', name=op.f('ck_cohorts_weekly_rule_whole')),
    sa.CheckConstraint('weekly_weekday BETWEEN 0 AND 6', name=op.f('ck_cohorts_weekly_weekday_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohorts')),
    sa.UniqueConstraint('course_slug', 'name', name=op.f('uq_cohorts_course_name'))
    )
    op.create_table('cohort_meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('meeting_number', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('meeting_number >= 1', name=op.f('ck_cohort_meetings_meeting_number_positive')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_meetings_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_meetings')),
    sa.UniqueConstraint('cohort_id', 'meeting_number', name=op.f('uq_cohort_meetings_cohort_number'))
    )
    op.create_table('cohort_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('weekly_weekday', sa.SmallInteger(), nullable=True),
    sa.Column('weekly_local_time', sa.Time(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    sa.CheckConstraint('(weekly_weekday IS NULL) = (weekly_local_time IS NULL) AND (weekly_weekday IS NULL) = (time_zone IS NULL)', name=op.f('ck_cohort_groups_weekly_slot_whole')),
    sa.CheckConstraint('weekly_weekday BETWEEN 0 AND 6', name=op.f('ck_cohort_groups_weekly_weekday_known')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_cohort_groups_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_groups')),
    sa.UniqueConstraint('cohort_id', 'name', name=op.f('uq_cohort_groups_cohort_name')),
    sa.UniqueConstraint('id', 'cohort_id', name=op.f('uq_cohort_groups_id_cohort'))
    )
    op.create_table('group_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id', 'cohort_id'], ['cohort_groups.id', 'cohort_groups.cohort_id'], name=op.f('fk_group_memberships_group_id_cohort_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_memberships')),
    sa.UniqueConstraint('user_id', 'cohort_id', name=op.f('uq_group_memberships_one_group_per_cohort'))
    )
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.create_index('ix_group_memberships_group_id', ['group_id'], unique=False)

    op.create_table('group_facilitators',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['cohort_groups.id'], name=op.f('fk_group_facilitators_group_id_cohort_groups'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_group_facilitators_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_facilitators')),
    sa.UniqueConstraint('group_id', 'user_id', name=op.f('uq_group_facilitators_group_user'))
    )
    with op.batch_alter_table('group_facilitators', schema=None) as batch_op:
        batch_op.create_index('ix_group_facilitators_user_id', ['user_id'], unique=False)

    op.create_table('group_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_group_invites_created_by_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['cohort_groups.id'], name=op.f('fk_group_invites_group_id_cohort_groups'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_invites')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_group_invites_token_sha256'))
    )
    with op.batch_alter_table('group_invites', schema=None) as batch_op:
        batch_op.create_index('ix_group_invites_group_id', ['group_id'], unique=False)


def downgrade():
    with op.batch_alter_table('group_invites', schema=None) as batch_op:
        batch_op.drop_index('ix_group_invites_group_id')
    op.drop_table('group_invites')
    with op.batch_alter_table('group_facilitators', schema=None) as batch_op:
        batch_op.drop_index('ix_group_facilitators_user_id')
    op.drop_table('group_facilitators')
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.drop_index('ix_group_memberships_group_id')
    op.drop_table('group_memberships')
    op.drop_table('cohort_groups')
    op.drop_table('cohort_meetings')
    op.drop_table('cohorts')
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:  # in place, as in upgrade()
        batch_op.drop_column('is_facilitator')
