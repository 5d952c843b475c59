"""Database extensions and the two ways routes get a connection."""
import sqlite3
from contextlib import contextmanager

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask import current_app
from sqlalchemy import Connection, create_engine, event

from tracker.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)  # batch mode lets later migrations alter SQLite tables


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Several threads or gunicorn workers share one file: wait for the write lock, don't fail.
        return {"connect_args": {"timeout": 15}}
    # A sync worker serves one request at a time; a few pooled connections cover threads and CLIs.
    return {"pool_size": 5, "max_overflow": 10, "pool_recycle": 1800}


def enable_sqlite_pragmas(engine) -> None:
    """WAL lets readers run beside the writer; SQLite needs foreign keys switched on per connection."""

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()


@contextmanager
def transaction() -> Connection:
    """A connection in a transaction that commits on success and rolls back on any error."""
    with db.engine.begin() as conn:
        yield conn


def init_autocommit_engine(app) -> None:
    """A second, small pool whose connections stay in autocommit mode, for single statements.

    Keeping them in that mode spares each heartbeat switching the mode there and back and
    resetting the connection on its way back to the pool.
    """
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = {**app.config["SQLALCHEMY_ENGINE_OPTIONS"], "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None}
    engine = create_engine(url, **options)
    enable_sqlite_pragmas(engine)
    app.extensions["tracker.autocommit_engine"] = engine


def dispose_engines(app) -> None:
    with app.app_context():
        db.engine.dispose()
    app.extensions["tracker.autocommit_engine"].dispose()


@contextmanager
def single_statement() -> Connection:
    """A connection without BEGIN/COMMIT, for work that is one atomic statement.

    Saves two round trips per request on the heartbeat path; use it only when the
    caller runs exactly one statement, which the database applies atomically by itself.
    """
    with current_app.extensions["tracker.autocommit_engine"].connect() as conn:
        yield conn
