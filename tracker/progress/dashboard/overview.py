"""The overview: who was active lately, time tracked, completions per day, and the module table."""

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection, Float, case, cast, func, select

from tracker.content import ContentIndex
from tracker.progress.model import progress

from .items import item_stats
from .sql import day_of, epoch_s

LEVELS = ("lens", "lo", "module")


def activity(conn: Connection, now: datetime) -> dict:
    """Active learners in the last 24 h and 7 d, and an estimate of the hours tracked in the last 7 d.

    Active means a heartbeat within the window. The table keeps totals, not a log of
    heartbeats, so time in the window is estimated per module row: its total, times the share
    of its active span (started_at to last_heartbeat_at) that lies inside the window.
    Grouping by learner first and counting groups is cheaper than COUNT(DISTINCT ...).
    """
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    last = progress.c.last_heartbeat_at
    dialect = conn.dialect.name
    start, end, since = epoch_s(progress.c.started_at, dialect), epoch_s(last, dialect), week_ago.timestamp()
    inside = case((start >= since, 1.0), (end > start, (end - since) / (end - start)), else_=1.0)
    share = case((progress.c.content_type == "module", cast(progress.c.total_time_spent_s, Float) * inside), else_=0.0)
    per_learner = (
        select(func.max(last).label("last"), func.sum(share).label("seconds"))
        .where(last >= week_ago)
        .group_by(progress.c.user_id, progress.c.anonymous_token)
        .subquery("per_learner")
    )
    query = select(
        func.count(case((per_learner.c.last >= day_ago, 1))).label("day"),
        func.count().label("week"),
        func.coalesce(func.sum(per_learner.c.seconds), 0).label("week_seconds"),
    )
    row = conn.execute(query).one()
    return {"active_24h": row.day, "active_7d": row.week, "tracked_7d_s": round(row.week_seconds)}


def completions_per_day(conn: Connection, today: date, days: int = 30) -> dict:
    """Completions per UTC day and level for the last `days` days (today included): {level: [counts]}."""
    first = today - timedelta(days=days - 1)
    day = day_of(progress.c.completed_at, conn.dialect.name)
    query = (
        select(day.label("day"), progress.c.content_type, func.count().label("n"))
        .where(progress.c.completed_at >= datetime.combine(first, time.min, tzinfo=timezone.utc))
        .group_by(day, progress.c.content_type)
    )
    dates = [first + timedelta(days=offset) for offset in range(days)]
    counts = {level: dict.fromkeys(dates, 0) for level in LEVELS}
    for row in conn.execute(query):
        day = row.day if isinstance(row.day, date) else date.fromisoformat(row.day)
        counts[row.content_type][day] = row.n
    return {"days": dates, "series": {level: list(counts[level].values()) for level in LEVELS}}


def module_table(conn: Connection, index: ContentIndex) -> list[dict]:
    """Each module: learners started and completed, completion rate and median time to complete."""
    modules = list(index.modules)
    stats = item_stats(conn, [m.id for m in modules])
    return [{"module": module, **stats[module.id]} for module in modules]


def overview(conn: Connection, index: ContentIndex, now: datetime) -> dict:
    """Everything the overview's live part shows."""
    return {
        "now": now,
        **activity(conn, now),
        "per_day": completions_per_day(conn, now.date()),
        "modules": module_table(conn, index),
    }
