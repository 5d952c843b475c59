"""The test databases: built by the migrations, emptied before each test, read straight, never through the app's session."""
import uuid

import flask_migrate
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from tracker import create_app
from tracker.db import db, dispose_engines
from tracker.models import Base, UserContentProgress

# Every table the app writes, parents first.
TABLES = tuple(table.name for table in Base.metadata.sorted_tables)
progress = UserContentProgress.__table__


def migrate(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TRACKER_CONTENT_CHECK_S": 0})
    with app.app_context():
        flask_migrate.upgrade()
    dispose_engines(app)


def empty_database(app) -> None:
    """Delete every learner, account and conversation, children first."""
    with app.app_context(), db.engine.begin() as conn:
        for table in reversed(TABLES):
            conn.execute(text(f"DELETE FROM {table}"))


def query_db(app, sql: str, **params) -> list:
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(text(sql), params).all()


class Snapshot(dict):
    """Every row of every table the app writes, {table: {primary key: row}}, as the driver returns them.

    Equal before and after means nothing was written: whole rows rather than counts or sums, so
    that an update which keeps every total (a title, a timestamp, a chunk id) shows too.
    """

    def count(self, table: str) -> int:
        return len(self[table])

    def sum(self, table: str, column: str) -> int:
        return sum(getattr(row, column) or 0 for row in self[table].values())


def every_row(conn) -> Snapshot:
    """The `Snapshot` of the database behind `conn`."""
    return Snapshot({table: {primary_key(table, row): row for row in conn.exec_driver_sql(f"SELECT * FROM {table}")} for table in TABLES})


def primary_key(table: str, row):
    """The row's primary key (`id` in most tables; a table keyed by another table's row has its own)."""
    return tuple(row._mapping[column.name] for column in Base.metadata.tables[table].primary_key.columns)


def snapshot(app) -> Snapshot:
    """The `Snapshot` of the app's database."""
    with app.app_context(), db.engine.connect() as conn:
        return every_row(conn)


def read_only_snapshot(path) -> Snapshot:
    """The `Snapshot` of a SQLite file, opened read-only so that reading it cannot change it."""
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true", poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return every_row(conn)
    finally:
        engine.dispose()


def progress_rows_of(app, token: str) -> dict:
    """An anonymous learner's progress rows straight from the database: {content_id: row}."""
    query = select(progress).where(progress.c.anonymous_token == uuid.UUID(token))
    return rows_by_content_id(app, query)


def account_progress_rows(app, email: str) -> dict:
    """An account's progress rows straight from the database: {content_id: row}."""
    with app.app_context(), db.engine.connect() as conn:
        user_id = conn.execute(text("SELECT id FROM users WHERE email = :email"), {"email": email}).scalar_one()
    return rows_by_content_id(app, select(progress).where(progress.c.user_id == user_id))


def rows_by_content_id(app, query) -> dict:
    with app.app_context(), db.engine.connect() as conn:
        return {str(row["content_id"]): dict(row) for row in conn.execute(query).mappings()}


def ledger_days(app, *, token: str | None = None, user_id: int | None = None) -> dict:
    """A learner's days in the daily ledger, straight from the database: {(module_id, utc_day): active_s}."""
    from datetime import date
    from uuid import UUID

    from sqlalchemy import select

    from tracker.db import db
    from tracker.models import DailyModuleTime

    table = DailyModuleTime.__table__
    owner = table.c.user_id == user_id if user_id is not None else table.c.anonymous_token == UUID(token)
    with app.app_context(), db.engine.connect() as conn:
        rows = conn.execute(select(table.c.module_id, table.c.utc_day, table.c.active_s).where(owner)).all()
    return {(module_id, day if isinstance(day, date) else date.fromisoformat(day)): seconds for module_id, day, seconds in rows}
