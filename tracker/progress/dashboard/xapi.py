"""xAPI statements: one per completion (verb `completed`) and per module in progress (`progressed`).

Statements come in batches read by primary key, each batch in its own short transaction,
so an export of any size holds neither a connection nor the whole result for long.
Anonymous learners appear under a pseudonym derived from their token, never the token.
"""

import uuid
from datetime import datetime
from typing import Callable, Iterator

from sqlalchemy import and_, or_, select

from tracker.models import User
from tracker.clock import as_utc
from tracker.progress.model import progress

from .learners import anonymous_label
from .sql import completed

users = User.__table__
NAMESPACE = uuid.UUID("6c1f4c0e-3b8a-4c57-9a53-2f0b1f7e4d21")  # tracker's namespace for statement ids
VERBS = {
    "completed": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed"}},
    "progressed": {"id": "http://adlnet.gov/expapi/verbs/progressed", "display": {"en-US": "progressed"}},
}
ACTIVITY_TYPES = {
    "module": "http://adlnet.gov/expapi/activities/module",
    "lo": "http://adlnet.gov/expapi/activities/objective",
    "lens": "http://adlnet.gov/expapi/activities/lesson",
}


def iso_duration(seconds: int | None) -> str:
    """ISO 8601 duration, e.g. PT1H2M3S."""
    seconds = int(seconds or 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = (
        (f"{hours}H" if hours else "")
        + (f"{minutes}M" if minutes else "")
        + (f"{secs}S" if secs or not seconds else "")
    )
    return f"PT{parts}"


def statement_rows(conn, after_id: int, limit: int, since: datetime | None = None):
    """The next rows that make statements: completions, and modules in progress (since a moment, if given)."""
    completions = completed.is_not(None)
    in_progress = and_(progress.c.content_type == "module", completed.is_(None))
    if since is not None:
        completions = and_(completions, progress.c.completed_at >= since)
        in_progress = and_(in_progress, progress.c.last_heartbeat_at >= since)
    query = (
        select(progress, users.c.email, users.c.display_name)
        .select_from(progress.outerjoin(users, users.c.id == progress.c.user_id))
        .where(progress.c.id > after_id, or_(completions, in_progress))
        .order_by(progress.c.id)
        .limit(limit)
    )
    return conn.execute(query).all()


def statement_batches(connect: Callable, base_url: str, batch: int, since: datetime | None) -> Iterator[dict]:
    """Every statement, in progress row order; `connect()` gives a connection in a transaction.

    With `since`, only completions from then on and modules in progress active since then,
    so that another tool can import incrementally.
    """
    after = 0
    while True:
        with connect() as conn:
            rows = statement_rows(conn, after, batch, since)
        yield from (statement(row, base_url) for row in rows)
        if len(rows) < batch:
            return
        after = rows[-1].id


def actor(row, base_url: str) -> dict:
    if row.user_id is not None:
        return {"objectType": "Agent", "name": row.display_name or row.email, "mbox": f"mailto:{row.email}"}
    pseudonym = uuid.uuid5(NAMESPACE, f"anonymous:{row.anonymous_token}")
    return {
        "objectType": "Agent",
        "name": anonymous_label(row.anonymous_token),
        "account": {"homePage": base_url, "name": f"anonymous-{pseudonym}"},
    }


def statement(row, base_url: str) -> dict:
    verb = "completed" if row.time_to_complete_s is not None else "progressed"
    moment = as_utc(row.completed_at if verb == "completed" else row.last_heartbeat_at or row.started_at)
    seconds = row.time_to_complete_s if verb == "completed" else row.total_time_spent_s
    return {
        "id": str(uuid.uuid5(NAMESPACE, f"{row.id}:{verb}:{seconds}:{moment.isoformat()}")),
        "actor": actor(row, base_url),
        "verb": VERBS[verb],
        "object": {
            "objectType": "Activity",
            "id": f"{base_url}activities/{row.content_type}/{row.content_id}",
            "definition": {"name": {"en": row.content_title}, "type": ACTIVITY_TYPES[row.content_type]},
        },
        "result": {"completion": verb == "completed", "duration": iso_duration(seconds)},
        "timestamp": moment.isoformat(),
    }
