"""The overview: who was active lately, time tracked, completions per day, and the module table."""

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Connection, func, select

from tracker.content import ContentIndex
from tracker.progress.daily import activity_in_days
from tracker.progress.model import progress

from .items import item_stats
from .sql import day_of

LEVELS = ("lens", "lo", "module")


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
        **activity_in_days(conn, now.date()),
        "per_day": completions_per_day(conn, now.date()),
        "modules": module_table(conn, index),
    }
