"""Db: how the services reach the database. No Flask here; tracker/db.py makes the engines."""
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, text

# Grouping a million progress rows by learner needs more than PostgreSQL's default 4 MB of
# sort and hash memory to stay off disk, and JIT compilation costs more than it saves on
# queries of this size (measured in docs/DASHBOARD.md). Both settings end with the transaction.
TUNE_FOR_AGGREGATES = text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")


class Db:
    """How services reach the database. Each service entry point takes one and says which
    boundary its work needs; the functions it calls take the connection, so they compose.

    - transaction(): BEGIN ... COMMIT, rolled back on any error; for work of several statements.
    - single_statement(): a connection of the autocommit pool, no BEGIN or COMMIT: for work that
      is one statement, which the database applies atomically by itself (the heartbeat). Two
      round trips fewer than a transaction; a second statement there would not be atomic.
    - report(): a transaction tuned for the dashboard's aggregates over all learners.
    """

    def __init__(self, engine: Engine, autocommit_engine: Engine):
        self.engine, self.autocommit_engine = engine, autocommit_engine

    @contextmanager
    def transaction(self) -> Connection:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def single_statement(self) -> Connection:
        with self.autocommit_engine.connect() as conn:
            yield conn

    @contextmanager
    def report(self) -> Connection:
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(TUNE_FOR_AGGREGATES)
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        self.autocommit_engine.dispose()
