"""One learner in full: who they are, every module they started with its LOs and lenses, and their tutor chats."""

from sqlalchemy import Connection, func, select

from tracker.content import ContentIndex
from tracker.models import User
from tracker.clock import as_utc
from tracker.learner import Learner, anonymous_label, owned_by
from tracker.progress.model import progress
from tracker.progress.state import started_modules

from .sql import completed
from .transcripts import chat_transcripts

users = User.__table__


def find_account(conn: Connection, user_id: int) -> dict | None:
    row = conn.execute(select(users.c.id, users.c.email, users.c.display_name).where(users.c.id == user_id)).first()
    if row is None:
        return None
    return {"learner": Learner(user_id=row.id), "label": row.display_name or row.email, "email": row.email}


def find_anonymous(conn: Connection, row_id: int) -> dict | None:
    """The anonymous learner who owns this progress row."""
    token = conn.execute(
        select(progress.c.anonymous_token).where(progress.c.id == row_id, progress.c.anonymous_token.is_not(None))
    ).scalar()
    if token is None:
        return None
    return {"learner": Learner(anonymous_token=token), "label": anonymous_label(token), "email": None}


def learner_detail(conn: Connection, index: ContentIndex, found: dict) -> dict:
    """The learner's modules (as the learner pages compute them) and totals at module level."""
    learner = found["learner"]
    totals = conn.execute(
        select(
            func.coalesce(func.sum(progress.c.total_time_spent_s), 0).label("time_s"),
            func.count(completed).label("modules_completed"),
            func.max(progress.c.last_heartbeat_at).label("last_active"),
        ).where(owned_by(progress, learner), progress.c.content_type == "module")
    ).one()
    return {
        "label": found["label"],
        "email": found["email"],
        "time_s": totals.time_s,
        "modules_completed": totals.modules_completed,
        "last_active": as_utc(totals.last_active),
        "modules": started_modules(conn, index, learner),
        "chats": chat_transcripts(conn, index, learner),
    }
