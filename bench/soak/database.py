"""The soak's database: made afresh for a run, and read back at its end."""
import re

import psycopg

PROGRESS_COLUMNS = (
    "id, user_id, anonymous_token::text, content_id::text, content_type, content_title,"
    " total_time_spent_s, completed_at IS NOT NULL, time_to_complete_s"
)  # the row tuples the checks read, by position


def conninfo(url: str) -> str:
    """A SQLAlchemy-style URL as libpq takes it."""
    return re.sub(r"^postgres(ql)?(\+psycopg)?://", "postgresql://", url)


def recreate_database(server_url: str, name: str) -> str:
    """Drop and create database `name` on the server; return its URL."""
    with psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url.rstrip('/')}/{name}"


def connection_count(database_url: str) -> int:
    try:
        with psycopg.connect(conninfo(database_url), connect_timeout=5) as conn:
            return conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()[0]
    except psycopg.Error:
        return 0


def read_progress(database_url: str) -> tuple[list[tuple], dict[str, int], int]:
    """Every progress row, the user id of every email, and how many (learner, content) have two rows or more."""
    with psycopg.connect(conninfo(database_url)) as conn:
        rows = conn.execute(f"SELECT {PROGRESS_COLUMNS} FROM user_content_progress").fetchall()
        users = dict(conn.execute("SELECT email, id FROM users").fetchall())
        duplicates = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM user_content_progress GROUP BY user_id, anonymous_token, content_id"
            " HAVING count(*) > 1) AS d"
        ).fetchone()[0]
    return rows, users, duplicates


def database_figures(database_url: str, rows: list, by_person: dict) -> dict:
    """Sizes for capacity planning: rows per learner, bytes per row with and without indexes."""
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE user_content_progress")
        table, total, heap_row = conn.execute(
            "SELECT pg_relation_size('user_content_progress'), pg_total_relation_size('user_content_progress'),"
            " (SELECT avg(pg_column_size(p.*)) FROM user_content_progress p)"
        ).fetchone()
        indexes = conn.execute(
            "SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index"
            " WHERE indrelid = 'user_content_progress'::regclass ORDER BY 1"
        ).fetchall()
    count = len(rows) or 1
    learners = [len(contents) for contents in by_person.values() if contents]
    return {
        "rows": len(rows), "learners_with_rows": len(learners),
        "rows_per_learner_mean": round(sum(learners) / max(1, len(learners)), 2),
        "rows_per_learner_max": max(learners, default=0),
        "row_bytes_pg_column_size": round(float(heap_row or 0), 1),
        "table_bytes": table, "total_bytes_with_indexes": total,
        "table_bytes_per_row": round(table / count, 1), "total_bytes_per_row": round(total / count, 1),
        "indexes": {name: size for name, size in indexes},
    }
