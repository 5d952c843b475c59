"""All the SQL of the chat tables: sessions, their messages, the claim on a session's answer stream,
and what progress needs of them (the completion gate; claim, export and delete with a learner's data)."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.models import ChatMessage, ChatSession
from tracker.clock import as_utc
from tracker.learner import Learner, owned_by

sessions = ChatSession.__table__
messages = ChatMessage.__table__


@dataclass(frozen=True)
class Message:
    id: int
    role: str  # "learner" or "tutor"
    text: str
    status: str  # "complete", or "interrupted" for an answer that broke off
    created_at: datetime


def find_session(conn: Connection, learner: Learner, module_id: UUID, lens_id: UUID):
    query = select(sessions.c.id, sessions.c.streaming_until).where(
        owned_by(sessions, learner), sessions.c.module_id == module_id, sessions.c.lens_id == lens_id
    )
    return conn.execute(query).one_or_none()


def ensure_session(conn: Connection, learner: Learner, module_id: UUID, lens_id: UUID, now: datetime):
    """The learner's session for this lens, created if missing; safe against a concurrent first message."""
    owner = sessions.c.user_id if learner.user_id is not None else sessions.c.anonymous_token
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        dialect_insert(sessions)
        .values(user_id=learner.user_id, anonymous_token=learner.anonymous_token,
                module_id=module_id, lens_id=lens_id, created_at=now)
        .on_conflict_do_nothing(index_elements=[owner, "module_id", "lens_id"], index_where=owner.is_not(None))
    )
    return find_session(conn, learner, module_id, lens_id)


def conversation(conn: Connection, learner: Learner, module_id: UUID, lens_id: UUID) -> list[Message]:
    """The learner's messages about one lens of one module, oldest first."""
    session = find_session(conn, learner, module_id, lens_id)
    return read_messages(conn, session.id) if session else []


def read_messages(conn: Connection, session_id: int) -> list[Message]:
    query = (
        select(messages.c.id, messages.c.role, messages.c.text, messages.c.status, messages.c.created_at)
        .where(messages.c.session_id == session_id)
        .order_by(messages.c.created_at, messages.c.id)
    )
    return [Message(row.id, row.role, row.text, row.status, as_utc(row.created_at)) for row in conn.execute(query)]


def add_message(conn: Connection, session_id: int, role: str, text: str, now: datetime, status="complete") -> Message:
    values = {"session_id": session_id, "role": role, "text": text, "status": status, "created_at": now}
    message_id = conn.execute(insert(messages).values(values).returning(messages.c.id)).scalar_one()
    return Message(message_id, role, text, status, now)


def is_streaming(session, now: datetime) -> bool:
    return session is not None and session.streaming_until is not None and as_utc(session.streaming_until) > now


def claim_stream(conn: Connection, session_id: int, now: datetime, until: datetime) -> bool:
    """Take the session's one answer stream until `until`; False when another stream holds it.

    One conditional UPDATE: of two concurrent claims, the second waits for the first's row
    lock and then no longer matches, so it can never take a stream that is running.
    """
    claimed = conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, or_(sessions.c.streaming_until.is_(None), sessions.c.streaming_until < now))
        .values(streaming_until=until)
    )
    return claimed.rowcount == 1


def release_stream(conn: Connection, session_id: int, until: datetime) -> None:
    """Give the claim back, unless it ran out and another stream has taken it since."""
    conn.execute(
        update(sessions)
        .where(sessions.c.id == session_id, sessions.c.streaming_until == until)
        .values(streaming_until=None)
    )


def messages_to_tutor(conn: Connection, learner: Learner, lens_id: UUID) -> int:
    """How many messages the learner has sent in chats about this lens, in any module."""
    query = select(func.count()).where(
        messages.c.session_id == sessions.c.id,
        messages.c.role == "learner",
        sessions.c.lens_id == lens_id,
        owned_by(sessions, learner),
    )
    return conn.execute(query).scalar_one()


def claim_anonymous_chats(conn: Connection, anonymous_token: UUID, user_id: int) -> None:
    """Move an anonymous token's chats into the account.

    Where the account already talks about the same lens in the same module, the anonymous
    messages join the account's session (history is ordered by time) and the anonymous one goes.
    """
    anonymous, account = sessions.alias("anonymous"), sessions.alias("account")
    same_lens = and_(
        anonymous.c.anonymous_token == anonymous_token,
        account.c.user_id == user_id,
        account.c.module_id == anonymous.c.module_id,
        account.c.lens_id == anonymous.c.lens_id,
    )
    account_session = select(account.c.id).where(same_lens, anonymous.c.id == messages.c.session_id).scalar_subquery()
    merged = select(anonymous.c.id).where(same_lens)
    conn.execute(update(messages).where(messages.c.session_id.in_(merged)).values(session_id=account_session))
    conn.execute(delete(sessions).where(sessions.c.id.in_(merged)))
    conn.execute(
        update(sessions).where(sessions.c.anonymous_token == anonymous_token).values(user_id=user_id, anonymous_token=None)
    )


def all_messages(conn: Connection, learner: Learner) -> list[dict]:
    """Every chat message of the learner, as plain values, by conversation and time."""
    query = (
        select(sessions.c.module_id, sessions.c.lens_id, messages.c.role, messages.c.text, messages.c.status, messages.c.created_at)
        .join(messages, messages.c.session_id == sessions.c.id)
        .where(owned_by(sessions, learner))
        .order_by(sessions.c.id, messages.c.created_at, messages.c.id)
    )
    return [{**row._mapping, "created_at": as_utc(row.created_at)} for row in conn.execute(query)]


def delete_chats(conn: Connection, learner: Learner) -> int:
    """Remove the learner's chat sessions and their messages; return how many messages there were."""
    owned = select(sessions.c.id).where(owned_by(sessions, learner))
    deleted = conn.execute(delete(messages).where(messages.c.session_id.in_(owned))).rowcount
    conn.execute(delete(sessions).where(owned_by(sessions, learner)))
    return deleted
