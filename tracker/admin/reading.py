"""The dashboard's database transactions: read-only work on large aggregates."""

from contextlib import contextmanager

from sqlalchemy import Connection, text

from tracker.db import transaction

# Grouping a million progress rows by learner needs more than PostgreSQL's default 4 MB of
# sort and hash memory to stay off disk, and JIT compilation costs more than it saves on
# queries of this size (measured in docs/DASHBOARD.md). Both settings end with the transaction.
TUNE_FOR_AGGREGATES = text("SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)")


@contextmanager
def report_transaction() -> Connection:
    """A transaction for dashboard queries, tuned for aggregates on PostgreSQL."""
    with transaction() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(TUNE_FOR_AGGREGATES)
        yield conn
