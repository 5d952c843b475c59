"""The SQL of the progress service, built once per shape and reused for every request.

The heartbeat statement is the hot path: one `INSERT ... ON CONFLICT DO UPDATE` over the
module, LO and lens rows, with the wall-clock budget computed inside the statement from
the row's current values. One statement means one round trip and no window in which two
concurrent heartbeats could both read the old total. PostgreSQL and SQLite run the same
text except for the names of the two-argument min and max functions.
"""
from functools import cache

from sqlalchemy import BigInteger, Connection, DateTime, Integer, String, Text, Uuid, bindparam, text
from sqlalchemy.dialects.postgresql import psycopg

# Lock order for every statement that touches several rows of one learner: modules, then
# LOs, then the lens. A heartbeat and a completion that share rows then take their row locks
# in the same order, so they queue behind each other instead of deadlocking.
LEVELS_IN_LOCK_ORDER = ("module", "lo", "lens")

CONFLICT_TARGETS = {
    "user": "(user_id, content_id) WHERE user_id IS NOT NULL",
    "anonymous": "(anonymous_token, content_id) WHERE anonymous_token IS NOT NULL",
}

SCALAR_MIN_MAX = {"postgresql": ("LEAST", "GREATEST"), "sqlite": ("MIN", "MAX")}

COLUMNS = (
    "user_id, anonymous_token, content_id, content_type, content_title, started_at,"
    " last_heartbeat_at, total_time_spent_s, credited_until_ms, last_credit_s"
)

COMMON_TYPES = (
    bindparam("user_id", type_=Integer),
    bindparam("anonymous_token", type_=Uuid),
    bindparam("now", type_=DateTime(timezone=True)),
)


def owner_kind(user_id) -> str:
    return "anonymous" if user_id is None else "user"


@cache
def heartbeat_statement(dialect: str, owner: str, levels: tuple[str, ...]):
    """Credit `delta` seconds to each level's row, within that row's wall-clock budget.

    Per row: available = now - max(credited_until, now - burst); credit = min(delta, available);
    credited_until advances by the credit. So a row never gains more than the elapsed time
    plus `burst` over any window, however many heartbeats arrive.
    """
    least, greatest = SCALAR_MIN_MAX[dialect]
    first_credit = f"{least}(:delta, :burst_s)"
    rows = ",\n".join(
        f"(:user_id, :anonymous_token, :{level}_id, '{level}', :{level}_title, :now, :now,"
        f" {first_credit}, :now_ms - :burst_s * 1000 + {first_credit} * 1000, {first_credit})"
        for level in levels
    )
    base = f"{greatest}(COALESCE(p.credited_until_ms, 0), :now_ms - :burst_s * 1000)"
    # EXCLUDED.last_credit_s holds min(delta, burst), the most this heartbeat may claim.
    credit = f"{greatest}(0, {least}(EXCLUDED.last_credit_s, (:now_ms - {base}) / 1000))"
    sql = f"""
INSERT INTO user_content_progress AS p ({COLUMNS})
VALUES {rows}
ON CONFLICT {CONFLICT_TARGETS[owner]} DO UPDATE SET
  total_time_spent_s = p.total_time_spent_s + {credit},
  credited_until_ms = {base} + {credit} * 1000,
  last_credit_s = {credit},
  last_heartbeat_at = EXCLUDED.last_heartbeat_at,
  content_title = CASE WHEN p.content_title = '' THEN EXCLUDED.content_title ELSE p.content_title END
RETURNING content_type, last_credit_s"""
    level_types = [bindparam(f"{level}_id", type_=Uuid) for level in levels]
    level_types += [bindparam(f"{level}_title", type_=Text) for level in levels]
    return text(sql).bindparams(
        *COMMON_TYPES,
        *level_types,
        bindparam("delta", type_=Integer),
        bindparam("burst_s", type_=BigInteger),
        bindparam("now_ms", type_=BigInteger),
    )


@cache
def heartbeat_sql_for_psycopg(owner: str, levels: tuple[str, ...]) -> str:
    """The heartbeat statement rendered once for psycopg, with its %(name)s placeholders."""
    return str(heartbeat_statement("postgresql", owner, levels).compile(dialect=psycopg.dialect()))


def execute_heartbeat(conn: Connection, owner: str, levels: tuple[str, ...], params: dict) -> list[tuple]:
    """Run the heartbeat statement; return its (content_type, credited seconds) rows."""
    if conn.dialect.name == "postgresql":
        # psycopg binds UUIDs and datetimes natively, so the statement can go straight to the
        # driver. That skips SQLAlchemy's per-execution bookkeeping, about 0.1 ms of CPU, which
        # is a sixth of a heartbeat's cost (measured with bench/heartbeat.py).
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(heartbeat_sql_for_psycopg(owner, levels), params)
            return cursor.fetchall()
    return conn.execute(heartbeat_statement(conn.dialect.name, owner, levels), params).all()


@cache
def lock_row_statement(owner: str):
    """Create the row if missing and lock it for the rest of the transaction.

    DO UPDATE (rather than DO NOTHING) is what takes the row lock on an existing row;
    it also back-fills a title that was stored empty.
    """
    sql = f"""
INSERT INTO user_content_progress AS p
  (user_id, anonymous_token, content_id, content_type, content_title, started_at, total_time_spent_s)
VALUES (:user_id, :anonymous_token, :content_id, :content_type, :content_title, :now, 0)
ON CONFLICT {CONFLICT_TARGETS[owner]} DO UPDATE SET
  content_title = CASE WHEN p.content_title = '' THEN EXCLUDED.content_title ELSE p.content_title END
RETURNING id, completed_at"""
    statement = text(sql).bindparams(
        *COMMON_TYPES,
        bindparam("content_id", type_=Uuid),
        bindparam("content_type", type_=String),
        bindparam("content_title", type_=Text),
    )
    return statement.columns(id=BigInteger, completed_at=DateTime(timezone=True))


# A completion is a snapshot of the time accumulated so far, and is never overwritten.
COMPLETE_ROW = text(
    "UPDATE user_content_progress"
    " SET completed_at = :now, time_to_complete_s = total_time_spent_s"
    " WHERE id = :row_id AND completed_at IS NULL"
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("row_id", type_=BigInteger))

# A transaction-scoped advisory lock on one learner (PostgreSQL): see service.serialise_completions.
LOCK_LEARNER = text("SELECT pg_advisory_xact_lock(hashtextextended(:learner, 0))")
