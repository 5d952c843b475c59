"""Tables. Plain SQLAlchemy, so the progress service can use them without Flask."""
import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(120), server_default="")
    is_admin: Mapped[bool] = mapped_column(server_default=text("false"))
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
