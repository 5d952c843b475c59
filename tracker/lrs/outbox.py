"""The LRS outbox table: queueing statements, reading the queue, and a learner's rows of it. No Flask.

Functions take a connection and run inside the caller's transaction.
"""
import json
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, delete, func, insert, select, update

from tracker.clock import as_utc
from tracker.learner import Learner, owned_by
from tracker.models import LrsStatement

outbox = LrsStatement.__table__
queued = (outbox.c.sent_at.is_(None), outbox.c.rejected_at.is_(None))


def queue_statements(conn: Connection, learner: Learner, statements: list[dict], now: datetime) -> int:
    """Add statements to the queue; one already there (same id) is left as it is. Return how many were added."""
    if not statements:
        return 0
    ids = [UUID(s["id"]) for s in statements]
    present = set(conn.execute(select(outbox.c.statement_id).where(outbox.c.statement_id.in_(ids))).scalars())
    rows = [
        {
            "statement_id": UUID(s["id"]),
            "user_id": learner.user_id,
            "anonymous_token": learner.anonymous_token,
            "verb": s["verb"]["display"]["en-US"],
            "statement": json.dumps(s, ensure_ascii=False, separators=(",", ":")),
            "queued_at": now,
        }
        for s in statements
        if UUID(s["id"]) not in present
    ]
    if rows:
        conn.execute(insert(outbox), rows)
    return len(rows)


def next_batch(conn: Connection, size: int) -> list:
    """The oldest queued statements, in the order they were queued."""
    query = select(outbox.c.id, outbox.c.statement_id, outbox.c.statement, outbox.c.attempts).where(*queued)
    return conn.execute(query.order_by(outbox.c.id).limit(size)).all()


def mark_sent(conn: Connection, row_ids: list[int], now: datetime) -> None:
    conn.execute(
        update(outbox).where(outbox.c.id.in_(row_ids), *queued)
        .values(sent_at=now, attempts=outbox.c.attempts + 1, last_error=None)
    )


def mark_failed(conn: Connection, row_ids: list[int], error: str) -> None:
    """A send that may succeed later: count the attempt and keep the reason."""
    conn.execute(
        update(outbox).where(outbox.c.id.in_(row_ids), *queued)
        .values(attempts=outbox.c.attempts + 1, last_error=error[:2000])
    )


def set_aside(conn: Connection, row_id: int, message: str, now: datetime) -> None:
    """The LRS refused this statement: keep it, with the LRS's message, out of the queue."""
    conn.execute(
        update(outbox).where(outbox.c.id == row_id, *queued)
        .values(rejected_at=now, attempts=outbox.c.attempts + 1, last_error=message[:2000])
    )


def queue_counts(conn: Connection) -> dict:
    """How many statements are queued, sent and set aside, and since when the oldest has been waiting."""
    queued_n, oldest = conn.execute(select(func.count(), func.min(outbox.c.queued_at)).where(*queued)).one()
    sent_n = conn.execute(select(func.count()).where(outbox.c.sent_at.is_not(None))).scalar_one()
    rejected_n = conn.execute(select(func.count()).where(outbox.c.rejected_at.is_not(None))).scalar_one()
    return {"queued": queued_n, "oldest_queued_at": oldest, "sent": sent_n, "rejected": rejected_n}


def outbox_report(db, limit: int = 100) -> dict:
    """What the admin's LRS page shows: the counts, and the statements set aside (newest first)."""
    with db.transaction() as conn:
        counts, set_aside = queue_counts(conn), rejected_statements(conn, limit)
    return {**counts, "oldest_queued_at": as_utc(counts["oldest_queued_at"]), "set_aside": set_aside}


def rejected_statements(conn: Connection, limit: int = 100) -> list[dict]:
    """Statements the LRS refused, newest first, with its message."""
    query = (
        select(outbox.c.id, outbox.c.statement_id, outbox.c.verb, outbox.c.statement, outbox.c.rejected_at, outbox.c.last_error)
        .where(outbox.c.rejected_at.is_not(None))
        .order_by(outbox.c.rejected_at.desc(), outbox.c.id.desc())
        .limit(limit)
    )
    return [
        {
            "statement_id": row.statement_id, "verb": row.verb, "rejected_at": as_utc(row.rejected_at), "message": row.last_error,
            "object": activity_name(json.loads(row.statement)),
        }
        for row in conn.execute(query)
    ]


def sent_statements(conn: Connection, learner: Learner) -> list[dict]:
    """The learner's statements the LRS has accepted, oldest first: what deleting here cannot take back."""
    query = (
        select(outbox.c.statement_id, outbox.c.verb, outbox.c.statement, outbox.c.sent_at)
        .where(owned_by(outbox, learner), outbox.c.sent_at.is_not(None))
        .order_by(outbox.c.id)
    )
    return [
        {
            "statement_id": row.statement_id,
            "verb": row.verb,
            "object": activity_name(json.loads(row.statement)),
            "sent_at": row.sent_at,
        }
        for row in conn.execute(query)
    ]


def activity_name(statement: dict) -> str:
    """The statement's activity as its title reads (in whichever language it was made)."""
    return next(iter(statement["object"].get("definition", {}).get("name", {}).values()), statement["object"]["id"])


def delete_owned(conn: Connection, learner: Learner) -> int:
    """Remove every outbox row of the learner, queued, sent or set aside; return how many."""
    return conn.execute(delete(outbox).where(owned_by(outbox, learner))).rowcount


def delete_unsent(conn: Connection, learner: Learner) -> int:
    """Remove the learner's statements that have not reached the LRS (queued or set aside); return how many.

    The record of what was sent stays while the account does: it is what the learner must ask the LRS to erase.
    """
    return conn.execute(delete(outbox).where(owned_by(outbox, learner), outbox.c.sent_at.is_(None))).rowcount


def move_anonymous(conn: Connection, anonymous_token: UUID, user_id: int) -> None:
    """A claimed token's statements now belong to the account (their actor stays as it was sent or queued)."""
    conn.execute(
        update(outbox).where(outbox.c.anonymous_token == anonymous_token).values(user_id=user_id, anonymous_token=None)
    )
