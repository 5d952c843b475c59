"""The database extensions and engines: Flask-SQLAlchemy's, a small autocommit pool, and the app's Db over both."""
import sqlite3

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import create_engine, event
from sqlalchemy.exc import InvalidatePoolError

from tracker.database import Db
from tracker.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True)  # batch mode lets later migrations alter SQLite tables


# A request waits at most this long for a pooled connection, then gets 503 rather than hanging.
POOL_TIMEOUT_S = 5


def engine_options(url: str) -> dict:
    if url.startswith("sqlite"):
        # Several threads or gunicorn workers share one file: wait for the write lock, don't fail.
        return {"connect_args": {"timeout": 15}}
    # A sync worker serves one request at a time; a few pooled connections cover threads and CLIs.
    # Pre-ping costs one round trip per transaction and replaces a connection that died in the
    # pool (a restarted or failed-over server) before the request uses it.
    return {
        "pool_size": 5, "max_overflow": 10, "pool_recycle": 1800,
        "pool_timeout": POOL_TIMEOUT_S, "pool_pre_ping": True,
    }


def bound_postgresql_waits(engine, config) -> None:
    """Put a time limit on every wait for PostgreSQL, for every connection the engine opens.

    The limits travel in the connection's startup packet (libpq `options`), so they cost no
    round trip, neither per connection nor per request. The URL's own options come last and win.
    """
    if engine.dialect.name != "postgresql":
        return
    server_settings = {
        "statement_timeout": config["TRACKER_DB_STATEMENT_TIMEOUT_MS"],
        "lock_timeout": config["TRACKER_DB_LOCK_TIMEOUT_MS"],
        # A statement whose client is gone (a killed worker) is cancelled instead of committing
        # seconds that nobody was told about and that the learner's retry would then add again.
        "client_connection_check_interval": config["TRACKER_DB_CLIENT_CHECK_MS"],
    }
    options = " ".join(f"-c {name}={value}" for name, value in server_settings.items() if value)
    connect_timeout_s = config["TRACKER_DB_CONNECT_TIMEOUT_S"]

    @event.listens_for(engine, "do_connect")
    def add_time_limits(_dialect, _record, _cargs, cparams):
        cparams.setdefault("connect_timeout", connect_timeout_s)
        # Sent data that the server does not acknowledge (it vanished without closing the
        # connection) fails the request after this long instead of after TCP's many minutes.
        cparams.setdefault("tcp_user_timeout", connect_timeout_s * 1000)
        cparams["options"] = f"{options} {cparams.get('options', '')}".strip()


def discard_broken_connections(engine) -> None:
    """Hand out no connection that psycopg already knows to be dead; costs no round trip.

    For the heartbeat pool, which has no pre-ping (see init_autocommit_engine): a heartbeat that
    met a dead connection got 503, and psycopg marked that connection broken. The pool is LIFO,
    so that connection is the next one out: this check then replaces it and, since a dead
    connection usually means a restarted server, every connection opened before it.
    """
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "checkout")
    def refuse_broken(dbapi_connection, _record, _proxy):
        if dbapi_connection.closed or dbapi_connection.broken:
            raise InvalidatePoolError("a pooled connection to PostgreSQL was lost")


def prepare_engine(engine, config) -> None:
    """What every connection of either engine needs: SQLite's pragmas, or PostgreSQL's time limits."""
    enable_sqlite_pragmas(engine)
    bound_postgresql_waits(engine, config)


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


def init_autocommit_engine(app) -> None:
    """A second, small pool whose connections stay in autocommit mode, for single statements.

    Keeping them in that mode spares each heartbeat switching the mode there and back and
    resetting the connection on its way back to the pool.

    This pool has no pre-ping: it would double the heartbeat's round trips (2.00 instead of 1.00
    per heartbeat, counted with bench/heartbeat.py's proxy). A connection that died in the pool
    instead fails one heartbeat with 503, which the page retries (tracker.js), and
    discard_broken_connections then replaces the pool's connections.
    """
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"],
        "isolation_level": "AUTOCOMMIT", "pool_reset_on_return": None, "pool_pre_ping": False,
    }
    if not url.startswith("sqlite"):
        options["pool_use_lifo"] = True  # the connection that just failed is the next one checked
    engine = create_engine(url, **options)
    prepare_engine(engine, app.config)
    discard_broken_connections(engine)
    app.extensions["tracker.autocommit_engine"] = engine


def init_databases(app) -> Db:
    """The app's Db: Flask-SQLAlchemy's engine for transactions, and a second pool for single statements."""
    with app.app_context():
        engine = db.engine
    prepare_engine(engine, app.config)
    init_autocommit_engine(app)
    app.extensions["tracker.db"] = Db(engine, app.extensions["tracker.autocommit_engine"])
    return app.extensions["tracker.db"]


def dispose_engines(app) -> None:
    app.extensions["tracker.db"].dispose()
