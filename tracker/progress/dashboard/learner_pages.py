"""Pages of the learner list, and the whole list for the export, as plain values."""

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, func, select, tuple_

from tracker.clock import as_utc
from tracker.learner import anonymous_label
from tracker.progress.model import progress

from .learners import (
    ACCOUNT,
    ANONYMOUS,
    LearnerQuery,
    ordered_learners,
)
from .sql import completed, owner_is


def learner_page(conn: Connection, query: LearnerQuery) -> dict:
    """One page of learners in the asked order, and the cursor of the next page (None on the last)."""
    statement, columns = ordered_learners(query)
    if query.after is not None:
        position, after = tuple_(*columns), tuple_(*query.after)
        statement = statement.where(position < after if query.descending else position > after)
    rows = conn.execute(statement.limit(query.limit + 1)).all()
    page = rows[: query.limit]
    after = position_of(page[-1], columns) if len(rows) > query.limit else None
    return {"learners": with_lens_counts(conn, page), "next": after}


def all_learners(conn: Connection, query: LearnerQuery, chunk: int = 1000) -> Iterator[dict]:
    """Every learner the query finds, in its order: one query, read chunk by chunk as the caller consumes it."""
    statement, _ = ordered_learners(query)
    # `with`: a caller that stops early (a client gone mid-download) still closes the server-side cursor.
    with conn.execution_options(yield_per=chunk).execute(statement) as result:
        for rows in result.partitions():
            yield from with_lens_counts(conn, rows)


def position_of(row, columns) -> tuple:
    """Where a row sits in the order: the cursor the next page starts after."""
    values = (row._mapping[column.name] for column in columns)
    return tuple(as_utc(value) if isinstance(value, datetime) else value for value in values)


def with_lens_counts(conn: Connection, page) -> list[dict]:
    """The page's rows as plain values, with each learner's completed lenses from one more query."""
    user_ids = [row.key for row in page if row.kind == ACCOUNT]
    tokens = [row.token for row in page if row.kind == ANONYMOUS]
    query = (
        select(progress.c.user_id, progress.c.anonymous_token, func.count().label("n"))
        .where(progress.c.content_type == "lens", completed.is_not(None), owner_is(user_ids, tokens))
        .group_by(progress.c.user_id, progress.c.anonymous_token)
    )
    lenses = {row.user_id or row.anonymous_token: row.n for row in conn.execute(query)} if page else {}
    return [
        {
            "kind": "account" if row.kind == ACCOUNT else "anonymous",
            "key": row.key,
            "label": (row.display_name or row.email) if row.kind == ACCOUNT else anonymous_label(row.token),
            "email": row.email,
            "modules_completed": row.modules_completed,
            "lenses_completed": lenses.get(row.key if row.kind == ACCOUNT else row.token, 0),
            "time_s": row.time_s,
            "last_active": as_utc(row.last_active),
        }
        for row in page
    ]
