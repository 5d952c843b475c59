"""A learner's progress as a whole: moving it into an account, exporting it, deleting it."""
from uuid import UUID

from sqlalchemy import Connection, and_, case, delete, exists, func, or_, select, update

from tracker.answers.store import all_answers, answers, claim_anonymous_answers, delete_answers
from tracker.chat.store import claim_anonymous_chats, delete_chats, sessions
from tracker.clock import as_utc
from tracker.cohorts.store import delete_memberships
from tracker.content import ContentIndex
from tracker.database import Db
from tracker.learner import Learner, owned_by
from tracker.lrs.outbox import delete_unsent as delete_unsent_statements, move_anonymous as move_anonymous_statements
from tracker.nudges.store import delete_sent_to
from tracker.xapi import XapiSettings

from .daily import delete_days, move_anonymous_days
from .model import progress
from .service import complete_finished_outcomes_and_modules, serialise_completions

EXPORT_COLUMNS = (
    "content_type", "content_id", "content_title", "started_at", "last_heartbeat_at",
    "total_time_spent_s", "time_to_complete_s", "completed_at",
)


def claim_anonymous_progress(db: Db, index: ContentIndex, anonymous_token: UUID, user_id: int, lrs: XapiSettings | None = None) -> int:
    """Move everything an anonymous token owns into an account, in one transaction; return how many progress rows it owned.

    `lrs`: with an LRS configured, LOs and modules that the move completes queue their statements.
    """
    with db.transaction() as conn:
        return move_anonymous_progress(conn, index, anonymous_token, user_id, lrs)


def move_anonymous_progress(conn: Connection, index: ContentIndex, anonymous_token: UUID, user_id: int, lrs: XapiSettings | None = None) -> int:
    """Move everything an anonymous token owns into an account; return how many progress rows it owned.

    Where both have a row for the same content, the times add up and the earlier completion
    wins, with its own time_to_complete_s; the anonymous row is then deleted. Tutor chats and
    answers to questions move along (for the same question, the answer saved last wins). An LO
    or module whose required lenses are complete only once both are put together completes now.
    Claiming again finds nothing left to move, so it is idempotent.
    """
    account = Learner(user_id=user_id)
    # Completions in other tabs, by either learner, wait for the move: none misses what moves in.
    serialise_completions(conn, account)
    serialise_completions(conn, Learner(anonymous_token=anonymous_token))
    claim_anonymous_chats(conn, anonymous_token, user_id)
    claim_anonymous_answers(conn, anonymous_token, user_id)
    # Statements queued or sent as the anonymous learner keep their actor, and go with the account when it is deleted.
    move_anonymous_statements(conn, anonymous_token, user_id)
    anonymous = progress.alias("anonymous")
    owned = conn.execute(select(progress.c.id).where(progress.c.anonymous_token == anonymous_token)).all()
    if not owned:
        return 0
    anonymous_completed_first = and_(
        anonymous.c.completed_at.is_not(None),
        or_(progress.c.completed_at.is_(None), anonymous.c.completed_at < progress.c.completed_at),
    )
    anonymous_heard_last = or_(
        progress.c.last_heartbeat_at.is_(None), anonymous.c.last_heartbeat_at > progress.c.last_heartbeat_at
    )
    conn.execute(
        update(progress)
        .where(
            progress.c.user_id == user_id,
            anonymous.c.anonymous_token == anonymous_token,
            anonymous.c.content_id == progress.c.content_id,
        )
        .values(
            total_time_spent_s=progress.c.total_time_spent_s + anonymous.c.total_time_spent_s,
            started_at=earlier(anonymous.c.started_at, progress.c.started_at),
            last_heartbeat_at=later(anonymous.c.last_heartbeat_at, progress.c.last_heartbeat_at),
            credited_until_ms=later(anonymous.c.credited_until_ms, progress.c.credited_until_ms),
            # The chunk the page sent last: a retry of it, now sent as the account, counts once.
            last_chunk_id=case(
                (anonymous_heard_last, func.coalesce(anonymous.c.last_chunk_id, progress.c.last_chunk_id)),
                else_=func.coalesce(progress.c.last_chunk_id, anonymous.c.last_chunk_id),
            ),
            completed_at=case((anonymous_completed_first, anonymous.c.completed_at), else_=progress.c.completed_at),
            time_to_complete_s=case(
                (anonymous_completed_first, anonymous.c.time_to_complete_s), else_=progress.c.time_to_complete_s
            ),
        )
    )
    account_content = select(progress.c.content_id).where(progress.c.user_id == user_id).scalar_subquery()
    conn.execute(
        delete(progress).where(progress.c.anonymous_token == anonymous_token, progress.c.content_id.in_(account_content))
    )
    conn.execute(
        update(progress)
        .where(progress.c.anonymous_token == anonymous_token)
        .values(user_id=user_id, anonymous_token=None)
    )
    move_anonymous_days(conn, anonymous_token, user_id)
    complete_finished_outcomes_and_modules(conn, index, account, lrs)
    return len(owned)


def claim_late_anonymous_progress(db: Db, index: ContentIndex, anonymous_token: UUID, user_id: int, lrs: XapiSettings | None = None) -> int:
    """Claim again whatever reached a claimed token afterwards: a heartbeat or an answer in flight during the login.

    One cheap look when nothing did, which is nearly always.
    """
    owns_something = select(or_(
        exists().where(progress.c.anonymous_token == anonymous_token),
        exists().where(sessions.c.anonymous_token == anonymous_token),
        exists().where(answers.c.anonymous_token == anonymous_token),
    ))
    with db.transaction() as conn:
        if not conn.execute(owns_something).scalar():
            return 0
        return move_anonymous_progress(conn, index, anonymous_token, user_id, lrs)


def earlier(a, b):
    return case((b.is_(None), a), (a.is_(None), b), (a < b, a), else_=b)


def later(a, b):
    return case((b.is_(None), a), (a.is_(None), b), (a > b, a), else_=b)


def progress_rows(conn: Connection, learner: Learner) -> list[dict]:
    """Every progress row of the learner, as plain values, modules first."""
    columns = [progress.c[name] for name in EXPORT_COLUMNS]
    order = case({"module": 0, "lo": 1, "lens": 2}, value=progress.c.content_type)
    query = select(*columns).where(owned_by(progress, learner)).order_by(order, progress.c.started_at, progress.c.id)
    return [
        {name: as_utc(value) if name.endswith("_at") else value for name, value in row._mapping.items()}
        for row in conn.execute(query)
    ]


def export_answers(db: Db, learner: Learner) -> list[dict]:
    """Every answer of the learner to a lens's question, as plain values, oldest first."""
    with db.transaction() as conn:
        return all_answers(conn, learner)


def delete_progress(db: Db, learner: Learner) -> int:
    """Remove every progress row, day of the ledger, tutor chat, answer, group membership and record of a nudge
    sent to the learner (the account stays); return how many records there were."""
    with db.transaction() as conn:
        return sum(delete_learning_records(conn, learner).values())


def delete_learning_records(conn: Connection, learner: Learner) -> dict[str, int]:
    """Remove what "Delete my data" removes, inside the caller's transaction; return how many of each kind there were.

    Deleting the progress rows deletes their LRS progress marks with them (ON DELETE CASCADE).
    """
    removed = {
        "progress records": conn.execute(delete(progress).where(owned_by(progress, learner))).rowcount,
        "days of the time ledger": delete_days(conn, learner),
        "tutor chat messages": delete_chats(conn, learner),
        "answers to questions": delete_answers(conn, learner),
        # Nothing more about the learner goes to the LRS; what already went is listed when they delete the account.
        "statements not yet sent to the LRS": delete_unsent_statements(conn, learner),
    }
    if learner.user_id is not None:
        removed["group memberships"] = delete_memberships(conn, learner.user_id)
        removed["records of nudges sent"] = delete_sent_to(conn, learner.user_id)
    return removed
