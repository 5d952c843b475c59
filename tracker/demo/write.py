"""Bulk writes of simulated learners: COPY on PostgreSQL, batched multi-row inserts on SQLite."""

import uuid
from datetime import datetime

from sqlalchemy import Connection, insert, select, text

from tracker.database import Db
from tracker.models import DailyModuleTime, User, UserContentProgress

users = User.__table__
progress = UserContentProgress.__table__
days = DailyModuleTime.__table__
CHUNK = 2000
USER_COLUMNS = ("email", "password_hash", "display_name", "is_admin", "created_at", "pseudonym")
PROGRESS_COLUMNS = (
    "user_id",
    "anonymous_token",
    "content_id",
    "content_type",
    "content_title",
    "started_at",
    "last_heartbeat_at",
    "total_time_spent_s",
    "time_to_complete_s",
    "completed_at",
    "credited_until_ms",
    "last_credit_s",
)


def progress_row(owner_ids: tuple, content_id, row) -> tuple:
    last = row.last_heartbeat_at
    return (
        *owner_ids,
        content_id,
        row.content_type,
        row.title,
        row.started_at,
        last,
        row.total_time_spent_s,
        row.time_to_complete_s,
        row.completed_at,
        int(last.timestamp() * 1000) if last else None,
        min(30, row.total_time_spent_s),
    )


DAY_COLUMNS = ("user_id", "anonymous_token", "module_id", "utc_day", "active_s")


def day_row(owner_ids: tuple, key: tuple, seconds: int) -> tuple:
    module_id, day = key
    return (*owner_ids, module_id, day, seconds)


def insert_accounts(conn: Connection, accounts: list[dict], password_hash: str, now: datetime) -> dict:
    """Insert the accounts; return {email: id}."""
    if not accounts:
        return {}
    values = [(a["email"], password_hash, a["display_name"], False, now, uuid.uuid4()) for a in accounts]
    if conn.dialect.name == "postgresql":
        copy_rows(conn, "users", USER_COLUMNS, values)
    else:
        conn.execute(insert(users), [dict(zip(USER_COLUMNS, v)) for v in values])
    emails = [a["email"] for a in accounts]
    return dict(conn.execute(select(users.c.email, users.c.id).where(users.c.email.in_(emails))).all())


def insert_progress(conn: Connection, rows) -> int:
    if conn.dialect.name == "postgresql":
        return copy_rows(conn, "user_content_progress", PROGRESS_COLUMNS, rows)
    batch, count = [], 0
    for row in rows:
        batch.append(dict(zip(PROGRESS_COLUMNS, row)))
        if len(batch) == 5000:
            conn.execute(insert(progress), batch)
            count, batch = count + len(batch), []
    if batch:
        conn.execute(insert(progress), batch)
    return count + len(batch)


def insert_days(conn: Connection, rows) -> int:
    """The ledger's days of the simulated learners, as the heartbeats would have written them."""
    if conn.dialect.name == "postgresql":
        return copy_rows(conn, "daily_module_time", DAY_COLUMNS, rows)
    values = [dict(zip(DAY_COLUMNS, row)) for row in rows]
    for first in range(0, len(values), 5000):
        conn.execute(insert(days), values[first:first + 5000])
    return len(values)


def copy_rows(conn: Connection, table: str, columns: tuple, rows) -> int:
    """COPY rows into a table through the connection's own transaction."""
    count = 0
    with conn.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def refresh_statistics(db: Db) -> None:
    """Fresh planner statistics and visibility map, so the dashboard's index-only scans apply at once."""
    with db.single_statement() as conn:  # VACUUM runs outside any transaction
        if conn.dialect.name == "postgresql":
            conn.execute(text("VACUUM (ANALYZE) users, user_content_progress, daily_module_time"))
        else:
            conn.execute(text("ANALYZE"))
