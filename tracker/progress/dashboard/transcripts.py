"""A learner's tutor chats, read-only, for the admin's learner page."""

from sqlalchemy import Connection, select

from tracker.content import ContentIndex
from tracker.models import ChatMessage, ChatSession
from tracker.clock import as_utc
from tracker.learner import Learner

sessions = ChatSession.__table__
messages = ChatMessage.__table__


def chat_transcripts(conn: Connection, index: ContentIndex, learner: Learner) -> list[dict]:
    """Each of the learner's chat sessions with its messages in order, from one query."""
    owner = (
        sessions.c.user_id == learner.user_id
        if learner.user_id is not None
        else sessions.c.anonymous_token == learner.anonymous_token
    )
    query = (
        select(
            sessions.c.id,
            sessions.c.module_id,
            sessions.c.lens_id,
            messages.c.role,
            messages.c.text,
            messages.c.status,
            messages.c.created_at,
        )
        .select_from(sessions.join(messages, messages.c.session_id == sessions.c.id))
        .where(owner)
        .order_by(sessions.c.created_at, sessions.c.id, messages.c.created_at, messages.c.id)
    )
    transcripts = {}
    for row in conn.execute(query):
        if row.id not in transcripts:
            module, lens = index.modules_by_id.get(row.module_id), index.lenses_by_id.get(row.lens_id)
            transcripts[row.id] = {
                "module_title": module.title if module else "(a module no longer in the course)",
                "lens_title": lens.title if lens else "(a lens no longer in the course)",
                "messages": [],
            }
        transcripts[row.id]["messages"].append(
            {
                "role": row.role,
                "text": row.text,
                "interrupted": row.status == "interrupted",
                "at": as_utc(row.created_at),
            }
        )
    return list(transcripts.values())
