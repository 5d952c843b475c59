"""Tables. Plain SQLAlchemy, so the progress service can use them without Flask."""
import uuid
from datetime import date, datetime, time

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigIntegerKey = BigInteger().with_variant(Integer(), "sqlite")

CONTENT_TYPES = ("lens", "lo", "module")


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Emails are stored lower-cased, which makes the unique constraint case-insensitive.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        Index("uq_users_pseudonym", "pseudonym", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120), server_default="")
    is_admin: Mapped[bool] = mapped_column(server_default=text("false"))
    # May be made a facilitator of cohort groups, and then sees those groups' learners (tracker/cohorts/access.py).
    is_facilitator: Mapped[bool] = mapped_column(server_default=text("false"))
    # Whether `flask tracker nudges` may email this learner before a meeting they are behind for (tracker/nudges/).
    nudges_enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    # Who the learner is in xAPI statements (an account's name under TRACKER_BASE_URL): random, so
    # an LRS can tell a learner's statements apart without learning their email or tracker's user id.
    pseudonym: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    # Flask-Login's user interface, spelled out so this module needs no Flask import.
    is_active = True
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)


class UserContentProgress(Base):
    """One learner's time and completion on one lens, learning outcome or module."""

    __tablename__ = "user_content_progress"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (anonymous_token IS NULL)", name="exactly_one_owner"),
        CheckConstraint("content_type IN ('lens', 'lo', 'module')", name="content_type_known"),
        Index(
            "uq_progress_user_content",
            "user_id",
            "content_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_progress_anonymous_content",
            "anonymous_token",
            "content_id",
            unique=True,
            postgresql_where=text("anonymous_token IS NOT NULL"),
            sqlite_where=text("anonymous_token IS NOT NULL"),
        ),
        # The admin dashboard's indexes (migration 0002; plans in docs/DASHBOARD.md). None holds a
        # column a heartbeat changes, so heartbeats stay HOT updates.
        Index("ix_progress_content_time_to_complete", "content_id", "time_to_complete_s"),
        Index(
            "ix_progress_completed_at_type",
            "completed_at",
            "content_type",
            postgresql_where=text("completed_at IS NOT NULL"),
            sqlite_where=text("completed_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anonymous_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    content_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    content_type: Mapped[str] = mapped_column(String(10))
    content_title: Mapped[str] = mapped_column(Text, server_default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    total_time_spent_s: Mapped[int] = mapped_column(Integer, server_default="0")
    time_to_complete_s: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The wall-clock budget: seconds are credited only up to this instant (epoch milliseconds,
    # an integer so that the same budget arithmetic runs on PostgreSQL and SQLite).
    credited_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    # What the latest heartbeat credited; RETURNING cannot see the old total, so the statement records it.
    last_credit_s: Mapped[int | None] = mapped_column(Integer)
    # The id of the last chunk of seconds credited here: a chunk sent again (its first answer was
    # lost) carries the same id and is credited nothing.
    last_chunk_id: Mapped[int | None] = mapped_column(BigInteger)


class DailyModuleTime(Base):
    """Active seconds of one learner in one module on one UTC day: the ledger behind "this week".

    Written by the heartbeat's own statement from its module row's credited span (split at
    midnight), so the days of a module add up to what its progress row gained since migration 0006.
    """

    __tablename__ = "daily_module_time"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (anonymous_token IS NULL)", name="exactly_one_owner"),
        CheckConstraint("active_s >= 0", name="active_s_not_negative"),
        Index(
            "uq_daily_module_time_user",
            "user_id",
            "module_id",
            "utc_day",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_daily_module_time_anonymous",
            "anonymous_token",
            "module_id",
            "utc_day",
            unique=True,
            postgresql_where=text("anonymous_token IS NOT NULL"),
            sqlite_where=text("anonymous_token IS NOT NULL"),
        ),
        Index("ix_daily_module_time_utc_day", "utc_day"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anonymous_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    module_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    utc_day: Mapped[date] = mapped_column(Date)
    active_s: Mapped[int] = mapped_column(Integer, server_default="0")


class ChatSession(Base):
    """One learner's conversation with the tutor about one lens of one module."""

    __tablename__ = "chat_sessions"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (anonymous_token IS NULL)", name="exactly_one_owner"),
        Index(
            "uq_chat_sessions_user_lens",
            "user_id",
            "module_id",
            "lens_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_chat_sessions_anonymous_lens",
            "anonymous_token",
            "module_id",
            "lens_id",
            unique=True,
            postgresql_where=text("anonymous_token IS NOT NULL"),
            sqlite_where=text("anonymous_token IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anonymous_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    module_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    lens_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # While the tutor answers, this holds when the answer's claim runs out; NULL when nobody streams.
    # Claiming is one conditional UPDATE, so two tabs can never stream into one conversation at once.
    streaming_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChatMessage(Base):
    """One message of a chat session, from the learner or the tutor."""

    __tablename__ = "chat_messages"
    __table_args__ = (
        CheckConstraint("role IN ('learner', 'tutor')", name="role_known"),
        CheckConstraint("status IN ('complete', 'interrupted')", name="status_known"),
        Index("ix_chat_messages_session_created", "session_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    session_id: Mapped[int] = mapped_column(BigIntegerKey, ForeignKey("chat_sessions.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # "interrupted": the tutor's answer broke off, and this is the part that arrived.
    status: Mapped[str] = mapped_column(String(12), server_default="complete")


class QuestionAnswer(Base):
    """One learner's answer to one question of one lens, in their own words.

    Keyed by lens and question: a question id can appear in two lenses, and each has its own
    answer. Saving again replaces the text and `updated_at`; `answered_at` stays the first time.
    """

    __tablename__ = "question_answers"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (anonymous_token IS NULL)", name="exactly_one_owner"),
        # The service strips and checks the text first; this keeps any other writer to the same rule.
        CheckConstraint("length(text) BETWEEN 1 AND 4000", name="text_length"),
        Index(
            "uq_question_answers_user_question",
            "user_id",
            "lens_id",
            "question_id",
            unique=True,
            postgresql_where=text("user_id IS NOT NULL"),
            sqlite_where=text("user_id IS NOT NULL"),
        ),
        Index(
            "uq_question_answers_anonymous_question",
            "anonymous_token",
            "lens_id",
            "question_id",
            unique=True,
            postgresql_where=text("anonymous_token IS NOT NULL"),
            sqlite_where=text("anonymous_token IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anonymous_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    lens_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    question_id: Mapped[str] = mapped_column(Text)  # the author's `id::`, not always a UUID
    text: Mapped[str] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# Cohorts: a course run for learners who start together and meet in small groups. The rules (who
# may join, how meetings are scheduled, what is due by each) are in tracker/cohorts/.


class Cohort(Base):
    """One run of a course: a start date, and when its meetings are (a weekly rule, or dates in cohort_meetings)."""

    __tablename__ = "cohorts"
    __table_args__ = (
        UniqueConstraint("course_slug", "name", name="uq_cohorts_course_name"),
        CheckConstraint("weekly_weekday BETWEEN 0 AND 6", name="weekly_weekday_known"),
        CheckConstraint("(weekly_weekday IS NULL) = (weekly_local_time IS NULL)", name="weekly_rule_whole"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_slug: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    # An IANA name: the weekly rule's clock, and the one meeting dates are entered and shown in.
    time_zone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    weekly_weekday: Mapped[int | None] = mapped_column(SmallInteger)  # 0 is Monday, as date.weekday()
    weekly_local_time: Mapped[time | None] = mapped_column(Time)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CohortMeeting(Base):
    """When a cohort's meeting takes place, for a cohort with dates of its own rather than a weekly rule."""

    __tablename__ = "cohort_meetings"
    __table_args__ = (
        UniqueConstraint("cohort_id", "meeting_number", name="uq_cohort_meetings_cohort_number"),
        CheckConstraint("meeting_number >= 1", name="meeting_number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    meeting_number: Mapped[int] = mapped_column(Integer)  # the course's meeting of this number (1, 2, …)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CohortGroup(Base):
    """A small group of a cohort's learners with its facilitators; it may meet in a weekly slot of its own."""

    __tablename__ = "cohort_groups"
    __table_args__ = (
        UniqueConstraint("cohort_id", "name", name="uq_cohort_groups_cohort_name"),
        # What group_memberships' (group_id, cohort_id) refers to: a membership's cohort is its group's.
        UniqueConstraint("id", "cohort_id", name="uq_cohort_groups_id_cohort"),
        CheckConstraint("weekly_weekday BETWEEN 0 AND 6", name="weekly_weekday_known"),
        CheckConstraint(
            "(weekly_weekday IS NULL) = (weekly_local_time IS NULL) AND (weekly_weekday IS NULL) = (time_zone IS NULL)",
            name="weekly_slot_whole",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    weekly_weekday: Mapped[int | None] = mapped_column(SmallInteger)
    weekly_local_time: Mapped[time | None] = mapped_column(Time)
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GroupMembership(Base):
    """A learner (an account) in a group. cohort_id repeats the group's, so that the unique
    constraint keeps a learner to one group per cohort, and the key to cohort_groups keeps it true."""

    __tablename__ = "group_memberships"
    __table_args__ = (
        UniqueConstraint("user_id", "cohort_id", name="uq_group_memberships_one_group_per_cohort"),
        ForeignKeyConstraint(
            ["group_id", "cohort_id"], ["cohort_groups.id", "cohort_groups.cohort_id"], ondelete="CASCADE"
        ),
        Index("ix_group_memberships_group_id", "group_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(Integer)
    cohort_id: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GroupFacilitator(Base):
    """An account that facilitates a group, and so may see its members' progress."""

    __tablename__ = "group_facilitators"
    __table_args__ = (
        UniqueConstraint("group_id", "user_id", name="uq_group_facilitators_group_user"),
        Index("ix_group_facilitators_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cohort_groups.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GroupInvite(Base):
    """A link that lets whoever opens it join a group. Only the token's SHA-256 is kept: the
    database never holds a working link, so the link is shown once, when it is made."""

    __tablename__ = "group_invites"
    __table_args__ = (Index("ix_group_invites_group_id", "group_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("cohort_groups.id", ondelete="CASCADE"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # hex
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # NULL: never
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SentNudge(Base):
    """One nudge email for one meeting of a group: to a learner who is behind, or a facilitator's summary.

    The row is claimed (inserted and committed) before the email goes out, and the unique
    constraint is what keeps two runs of `flask tracker nudges`, even overlapping ones, from
    sending the same email twice. sent_at stays NULL when the mail server never confirmed it.
    """

    __tablename__ = "sent_nudges"
    __table_args__ = (
        UniqueConstraint("user_id", "group_id", "meeting_number", "kind", name="uq_sent_nudges_once_per_meeting"),
        CheckConstraint("kind IN ('learner', 'facilitator')", name="kind_known"),
        Index("ix_sent_nudges_group_meeting", "group_id", "meeting_number"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    group_id: Mapped[int] = mapped_column(ForeignKey("cohort_groups.id", ondelete="CASCADE"))
    meeting_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# The LRS outbox (tracker/lrs/): xAPI statements waiting for, or already sent to, a Learning Record
# Store. A completion writes its statements here in its own transaction; `flask tracker lrs-push`
# sends them, oldest first.


class LrsStatement(Base):
    """One xAPI statement for the LRS: queued, sent (sent_at), or set aside because the LRS refused it (rejected_at)."""

    __tablename__ = "lrs_outbox"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (anonymous_token IS NULL)", name="exactly_one_owner"),
        CheckConstraint("sent_at IS NULL OR rejected_at IS NULL", name="sent_or_rejected"),
        # What the worker reads next: the queue, oldest first.
        Index(
            "ix_lrs_outbox_queued",
            "id",
            postgresql_where=text("sent_at IS NULL AND rejected_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND rejected_at IS NULL"),
        ),
        Index("ix_lrs_outbox_user_id", "user_id"),
        Index("ix_lrs_outbox_anonymous_token", "anonymous_token"),
    )

    id: Mapped[int] = mapped_column(BigIntegerKey, primary_key=True)
    # The statement's own id: deterministic, so the same completion is never queued twice.
    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    anonymous_token: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    verb: Mapped[str] = mapped_column(String(16))
    statement: Mapped[str] = mapped_column(Text)  # the JSON the LRS gets, exactly
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    # The last failure: the LRS's message for a rejected statement, or why a send must be retried.
    last_error: Mapped[str | None] = mapped_column(Text)


class LrsProgressMark(Base):
    """When the worker last queued a `progressed` statement for a module row, and the heartbeat it reported.

    Keyed by the progress row, so a claim carries it into the account and deleting the row deletes it.
    """

    __tablename__ = "lrs_progress_marks"

    progress_id: Mapped[int] = mapped_column(
        BigIntegerKey, ForeignKey("user_content_progress.id", ondelete="CASCADE"), primary_key=True
    )
    reported_heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
