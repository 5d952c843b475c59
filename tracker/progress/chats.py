"""A learner's tutor chats as part of their progress: the completion gate, and claim, export and delete."""
from uuid import UUID

from sqlalchemy import Connection, and_, delete, exists, select, update

from tracker.models import ChatMessage, ChatSession

from .model import Learner, as_utc

sessions = ChatSession.__table__
messages = ChatMessage.__table__


def owns_session(learner: Learner, table=sessions):
    if learner.user_id is not None:
        return table.c.user_id == learner.user_id
    return table.c.anonymous_token == learner.anonymous_token


def has_written_to_tutor(conn: Connection, learner: Learner, lens_id: UUID) -> bool:
    """Whether the learner has sent at least one message in a chat about this lens, in any module."""
    query = select(
        exists().where(
            messages.c.session_id == sessions.c.id,
            messages.c.role == "learner",
            sessions.c.lens_id == lens_id,
            owns_session(learner),
        )
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


def export_chats(conn: Connection, learner: Learner) -> list[dict]:
    """Every chat message of the learner, as plain values, by conversation and time."""
    query = (
        select(sessions.c.module_id, sessions.c.lens_id, messages.c.role, messages.c.text, messages.c.status, messages.c.created_at)
        .join(messages, messages.c.session_id == sessions.c.id)
        .where(owns_session(learner))
        .order_by(sessions.c.id, messages.c.created_at, messages.c.id)
    )
    return [{**row._mapping, "created_at": as_utc(row.created_at)} for row in conn.execute(query)]


def delete_chats(conn: Connection, learner: Learner) -> int:
    """Remove the learner's chat sessions and their messages; return how many messages there were."""
    owned = select(sessions.c.id).where(owns_session(learner))
    deleted = conn.execute(delete(messages).where(messages.c.session_id.in_(owned))).rowcount
    conn.execute(delete(sessions).where(owns_session(learner)))
    return deleted
