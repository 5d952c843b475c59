"""The xAPI export: one statement per completion (verb `completed`) and per module in progress (`progressed`).

Statements come in batches read by primary key, each batch in its own short transaction,
so an export of any size holds neither a connection nor the whole result for long. They are
made by tracker.xapi, as the LRS outbox makes them: the same completion has the same statement
id in both, so an LRS that got it live stores it once when an export is imported as well.
"""
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import and_, or_, select

from tracker import xapi
from tracker.content import ContentIndex
from tracker.models import User
from tracker.progress.model import progress
from tracker.xapi.rows import completed_lenses_of, row_statement

from .sql import completed

users = User.__table__


def statement_rows(conn, after_id: int, limit: int, since: datetime | None = None):
    """The next rows that make statements: completions, and modules in progress (since a moment, if given)."""
    completions = completed.is_not(None)
    in_progress = and_(progress.c.content_type == "module", completed.is_(None))
    if since is not None:
        completions = and_(completions, progress.c.completed_at >= since)
        in_progress = and_(in_progress, progress.c.last_heartbeat_at >= since)
    query = (
        select(progress, users.c.email, users.c.display_name, users.c.pseudonym)
        .select_from(progress.outerjoin(users, users.c.id == progress.c.user_id))
        .where(progress.c.id > after_id, or_(completions, in_progress))
        .order_by(progress.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()


def statement_batches(connect: Callable, index: ContentIndex, settings: xapi.XapiSettings, batch: int, since: datetime | None) -> Iterator[dict]:
    """Every statement, in progress row order; `connect()` gives a connection in a transaction.

    With `since`, only completions from then on and modules in progress active since then,
    so that another tool can import incrementally.
    """
    places = xapi.places_for(settings, index)
    after = 0
    while True:
        with connect() as conn:
            rows = statement_rows(conn, after, batch, since)
            done = completed_lenses_of(conn, rows)
        yield from (row_statement(places, row, done) for row in rows)
        if len(rows) < batch:
            return
        after = rows[-1].id
