"""The daily ledger, `daily_module_time`: reading it, and moving, exporting and deleting a learner's days.

The heartbeat statement writes it (statements.py); nothing else adds seconds. Days before
migration 0006 have no rows, so a learner's days add up to less than their totals when they
learned before it.
"""
from datetime import date, timedelta

from sqlalchemy import Connection, and_, delete, func, select, update

from tracker.learner import Learner, owned_by
from tracker.models import DailyModuleTime

days = DailyModuleTime.__table__

EXPORT_COLUMNS = ("module_id", "utc_day", "active_s")


def as_date(value) -> date:
    """SQLite hands a DATE back as text when it comes out of an expression."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def move_anonymous_days(conn: Connection, anonymous_token, user_id: int) -> None:
    """An anonymous token's days into the account: the seconds of a day both have add up.

    Runs after the progress rows have moved, in the claim's transaction: progress rows are
    locked before ledger rows there as in the heartbeat, so the two cannot deadlock.
    """
    anonymous = days.alias("anonymous")
    same_day = and_(
        anonymous.c.anonymous_token == anonymous_token,
        anonymous.c.module_id == days.c.module_id,
        anonymous.c.utc_day == days.c.utc_day,
    )
    conn.execute(update(days).where(days.c.user_id == user_id, same_day).values(active_s=days.c.active_s + anonymous.c.active_s))
    account = days.alias("account")
    already_there = (
        select(account.c.id)
        .where(
            account.c.user_id == user_id,
            account.c.module_id == days.c.module_id,
            account.c.utc_day == days.c.utc_day,
        )
        .exists()
    )
    conn.execute(delete(days).where(days.c.anonymous_token == anonymous_token, already_there))
    conn.execute(update(days).where(days.c.anonymous_token == anonymous_token).values(user_id=user_id, anonymous_token=None))


def delete_days(conn: Connection, learner: Learner) -> int:
    return conn.execute(delete(days).where(owned_by(days, learner))).rowcount


def export_days(conn: Connection, learner: Learner) -> list[dict]:
    """The learner's active seconds per module and UTC day, oldest first."""
    query = (
        select(*(days.c[name] for name in EXPORT_COLUMNS))
        .where(owned_by(days, learner))
        .order_by(days.c.utc_day, days.c.module_id)
    )
    return [{**row._mapping, "utc_day": as_date(row.utc_day)} for row in conn.execute(query)]


def week_start(day: date) -> date:
    """The Monday of the ISO week of `day`."""
    return day - timedelta(days=day.weekday())


def seconds_per_week(conn: Connection, learner: Learner, today: date, weeks: int) -> list[tuple[date, int]]:
    """(Monday, active seconds) for the last `weeks` ISO weeks, this one included, oldest first; 0 for a week without time."""
    first = week_start(today) - timedelta(weeks=weeks - 1)
    query = (
        select(days.c.utc_day, func.sum(days.c.active_s))
        .where(owned_by(days, learner), days.c.utc_day >= first)
        .group_by(days.c.utc_day)
    )
    totals = dict.fromkeys((first + timedelta(weeks=n) for n in range(weeks)), 0)
    for day, seconds in conn.execute(query):
        totals[week_start(as_date(day))] += seconds
    return list(totals.items())


def activity_in_days(conn: Connection, today: date) -> dict:
    """Learners with time today, learners and seconds in the last 7 UTC days (today and the 6 before).

    Read from the ledger's index on utc_day: a week's rows, never every learner's. Grouping by
    learner first and counting the groups is cheaper than COUNT(DISTINCT ...) over two columns.
    """
    week_ago = today - timedelta(days=6)
    per_learner = (
        select(func.max(days.c.utc_day).label("last_day"), func.sum(days.c.active_s).label("seconds"))
        .where(days.c.utc_day >= week_ago)
        .group_by(days.c.user_id, days.c.anonymous_token)
        .subquery("per_learner")
    )
    query = select(
        func.count().filter(per_learner.c.last_day >= today).label("today"),
        func.count().label("week"),
        func.coalesce(func.sum(per_learner.c.seconds), 0).label("week_seconds"),
    )
    row = conn.execute(query).one()
    return {"active_today": row.today, "active_7d": row.week, "tracked_7d_s": int(row.week_seconds)}
