"""Per content item: learners started and completed, completion rate, median and p90 time."""

from uuid import UUID

from sqlalchemy import Connection

from tracker.progress.model import progress

from .sql import item_stats_query

NO_LEARNERS = {"started": 0, "completed": 0, "completion_rate": None, "median_s": None, "p90_s": None}


def item_stats(conn: Connection, content_ids: list[UUID]) -> dict[UUID, dict]:
    """Stats of each item, from one aggregate query; items nobody started get zeros."""
    stats = {content_id: dict(NO_LEARNERS) for content_id in content_ids}
    if not content_ids:
        return stats
    query = item_stats_query(conn.dialect.name, progress.c.content_id.in_(content_ids))
    for row in conn.execute(query):
        stats[row.key] = {
            "started": row.started,
            "completed": row.completed,
            "completion_rate": row.completed / row.started if row.started else None,
            "median_s": seconds(row.median_s),
            "p90_s": seconds(row.p90_s),
        }
    return stats


def seconds(value) -> float | None:
    """Percentiles interpolate, so they can fall between whole seconds; keep one decimal."""
    return None if value is None else round(float(value), 1)
