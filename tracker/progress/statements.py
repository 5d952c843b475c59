"""The SQL of the progress service, built once per shape and reused for every request.

The heartbeat statement is the hot path: one `INSERT ... ON CONFLICT DO UPDATE` over the
module, LO and lens rows, with the wall-clock budget computed inside the statement from
the row's current values. One statement means one round trip and no window in which two
concurrent heartbeats could both read the old total. PostgreSQL and SQLite run the same
text except for the names of the two-argument min and max functions.
"""
from functools import cache

from sqlalchemy import BigInteger, Connection, DateTime, Integer, String, Text, Uuid, bindparam, text
from psycopg.types.numeric import Int8
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


OWNER_COLUMNS = {"user": "user_id", "anonymous": "anonymous_token"}


@cache
def heartbeat_statement(dialect: str, owner: str, levels: tuple[str, ...]):
    """Credit `delta` seconds to each level's row, within that row's wall-clock budget.

    Per row: base = max(credited_until, now - reach); credit = min(delta, now - base);
    credited_until = base + credit. `reach` is how far back this heartbeat's seconds may lie:
    the burst for live time, the age of the oldest second for a backlog (service.reach_s). So
    every credited second is a distinct second of the server's clock, none in the future: a
    row never gains more than the elapsed time plus the reach over any window, however many
    heartbeats arrive, and no second is credited twice.

    A chunk sent again (same `chunk_id`) is credited nothing on any level. The `claim` CTE
    looks at the lens row, so that an LO or module row credited with other lenses' chunks in
    between still sees the repeat; each row's own last_chunk_id catches a repeat that runs
    concurrently with its first delivery (the row lock makes the second one see the first).
    """
    least, greatest = SCALAR_MIN_MAX[dialect]
    owner_column = OWNER_COLUMNS[owner]
    claim = "(SELECT s FROM claim)"
    rows = ",\n".join(
        f"(:user_id, :anonymous_token, :{level}_id, '{level}', :{level}_title, :started_at, :now,"
        f" {claim}, :now_ms - :reach_s * 1000 + {claim} * 1000, {claim}, :chunk_id)"
        for level in levels
    )
    base = f"{greatest}(COALESCE(p.credited_until_ms, 0), :now_ms - :reach_s * 1000)"
    repeat = "p.last_chunk_id = EXCLUDED.last_chunk_id"  # NULL, so not a repeat, without a chunk id
    # EXCLUDED.last_credit_s holds the claim: min(delta, reach), or 0 for a repeat the lens row saw.
    credit = (
        f"CASE WHEN {repeat} THEN 0"
        f" ELSE {greatest}(0, {least}(EXCLUDED.last_credit_s, (:now_ms - {base}) / 1000)) END"
    )
    sql = f"""
WITH claim AS (
  SELECT CASE WHEN EXISTS (
    SELECT 1 FROM user_content_progress
    WHERE {owner_column} = :{owner_column} AND content_id = :lens_id AND last_chunk_id = :chunk_id
  ) THEN 0 ELSE {least}(:delta, :reach_s) END AS s
)
INSERT INTO user_content_progress AS p ({COLUMNS}, last_chunk_id)
VALUES {rows}
ON CONFLICT {CONFLICT_TARGETS[owner]} DO UPDATE SET
  total_time_spent_s = p.total_time_spent_s + {credit},
  credited_until_ms = CASE WHEN EXCLUDED.last_credit_s = 0 OR {repeat}
    THEN p.credited_until_ms ELSE {base} + {credit} * 1000 END,
  last_credit_s = {credit},
  last_chunk_id = COALESCE(EXCLUDED.last_chunk_id, p.last_chunk_id),
  last_heartbeat_at = CASE WHEN EXCLUDED.last_credit_s = 0 OR {repeat}
    THEN p.last_heartbeat_at ELSE EXCLUDED.last_heartbeat_at END,
  content_title = CASE WHEN p.content_title = '' THEN EXCLUDED.content_title ELSE p.content_title END
RETURNING content_type, last_credit_s"""
    level_types = [bindparam(f"{level}_id", type_=Uuid) for level in levels]
    level_types += [bindparam(f"{level}_title", type_=Text) for level in levels]
    return text(sql).bindparams(
        *COMMON_TYPES,
        *level_types,
        bindparam("started_at", type_=DateTime(timezone=True)),
        bindparam("delta", type_=Integer),
        bindparam("reach_s", type_=BigInteger),
        bindparam("now_ms", type_=BigInteger),
        bindparam("chunk_id", type_=BigInteger),
    )


@cache
def heartbeat_sql_for_psycopg(owner: str, levels: tuple[str, ...]) -> str:
    """The heartbeat statement rendered once for psycopg, with its %(name)s placeholders."""
    return str(heartbeat_statement("postgresql", owner, levels).compile(dialect=psycopg.dialect()))


VARYING_INTEGERS = ("chunk_id", "reach_s", "user_id")


def execute_heartbeat(conn: Connection, owner: str, levels: tuple[str, ...], params: dict) -> list[tuple]:
    """Run the heartbeat statement; return its (content_type, credited seconds) rows."""
    if conn.dialect.name == "postgresql":
        # psycopg binds UUIDs and datetimes natively, so the statement can go straight to the
        # driver. That skips SQLAlchemy's per-execution bookkeeping, about 0.1 ms of CPU, which
        # is a sixth of a heartbeat's cost (measured with bench/heartbeat.py).
        # psycopg picks int2, int4, int8 or numeric by an integer's size, and keeps a prepared
        # statement per combination of types: numbers whose size varies go as int8 always, so
        # that every heartbeat reuses the one prepared statement.
        params = {**params, **{name: Int8(params[name]) for name in VARYING_INTEGERS if params[name] is not None}}
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
