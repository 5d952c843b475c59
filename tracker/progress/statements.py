"""The SQL of the progress service, built once per shape and reused for every request.

The heartbeat statement is the hot path: one `INSERT ... ON CONFLICT DO UPDATE` over the
module, LO and lens rows, with the wall-clock budget computed inside the statement from
the row's current values. One statement means one round trip and no window in which two
concurrent heartbeats could both read the old total. PostgreSQL and SQLite run the same
text except for the names of the two-argument min and max functions.

The daily ledger (`daily_module_time`) is written from what the module row was credited: on
PostgreSQL by a data-modifying CTE of the same statement, on SQLite (which has none) by a
second statement in the same transaction.
"""
from datetime import date, timedelta
from functools import cache

from sqlalchemy import BigInteger, Connection, Date, DateTime, Integer, String, Text, Uuid, bindparam, text
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
RETURNING content_type, last_credit_s, credited_until_ms"""
    if "module" in levels and dialect == "postgresql":
        sql = postgresql_with_ledger(sql, owner)
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
        *([bindparam("live_end_ms", type_=BigInteger)] if "module" in levels and dialect == "postgresql" else []),
    )


@cache
def heartbeat_sql_for_psycopg(owner: str, levels: tuple[str, ...]) -> str:
    """The heartbeat statement rendered once for psycopg, with its %(name)s placeholders."""
    return str(heartbeat_statement("postgresql", owner, levels).compile(dialect=psycopg.dialect()))


VARYING_INTEGERS = ("chunk_id", "reach_s", "user_id", "live_end_ms")


def execute_heartbeat(conn: Connection, owner: str, levels: tuple[str, ...], params: dict) -> list[tuple]:
    """Run the heartbeat statement; return its (content_type, credited seconds) rows."""
    if conn.dialect.name == "postgresql":
        # psycopg binds UUIDs and datetimes natively, so the statement can go straight to the
        # driver. That skips SQLAlchemy's per-execution bookkeeping, about 0.1 ms of CPU, which
        # is a sixth of a heartbeat's cost (measured with bench/heartbeat.py).
        # psycopg picks int2, int4, int8 or numeric by an integer's size, and keeps a prepared
        # statement per combination of types: numbers whose size varies go as int8 always, so
        # that every heartbeat reuses the one prepared statement.
        params = {**params, **{name: Int8(params[name]) for name in VARYING_INTEGERS if params.get(name) is not None}}
        with conn.connection.driver_connection.cursor() as cursor:
            cursor.execute(heartbeat_sql_for_psycopg(owner, levels), params)
            return [(level, credit) for level, credit, _ in cursor.fetchall()]
    return sqlite_heartbeat(conn, owner, levels, params)


DAY_MS = 86_400_000

# When the module row's credited seconds were spent: the span [end - credit, end]. Live seconds
# (:live_end_ms is the request's moment) were measured by the page just before it sent them: a
# credit is the last seconds of the heartbeat's delta, whatever the budget withheld. Queued
# seconds (:live_end_ms is NULL) lie where the budget put them, from the oldest one's moment on,
# up to the row's new credited_until. A credit is never longer than a heartbeat's maximum delta,
# so the span crosses at most one UTC midnight: the seconds after it go to the span's last day,
# the rest to the day before, and rounded to whole seconds the two add up to the credit exactly.
SPAN_DAYS = f"""
ends AS (
  SELECT COALESCE(:live_end_ms, credited_until_ms) AS end_ms, last_credit_s AS credit
  FROM credited WHERE content_type = 'module' AND last_credit_s > 0
),
spans AS (
  SELECT end_ms / {DAY_MS} AS last_day, credit,
    (end_ms - GREATEST(end_ms - credit * 1000, end_ms / {DAY_MS} * {DAY_MS}) + 500) / 1000 AS after_midnight_s
  FROM ends
),
ledger AS (
  INSERT INTO daily_module_time AS d (user_id, anonymous_token, module_id, utc_day, active_s)
  SELECT :user_id, :anonymous_token, :module_id, DATE '1970-01-01' + CAST(last_day - back.days AS integer),
    CASE back.days WHEN 0 THEN after_midnight_s ELSE credit - after_midnight_s END
  FROM spans CROSS JOIN (VALUES (0), (1)) AS back(days)
  WHERE CASE back.days WHEN 0 THEN after_midnight_s ELSE credit - after_midnight_s END > 0
  ON CONFLICT {{conflict}} DO UPDATE SET active_s = d.active_s + EXCLUDED.active_s
)"""

LEDGER_CONFLICT_TARGETS = {
    "user": "(user_id, module_id, utc_day) WHERE user_id IS NOT NULL",
    "anonymous": "(anonymous_token, module_id, utc_day) WHERE anonymous_token IS NOT NULL",
}


def postgresql_with_ledger(sql: str, owner: str) -> str:
    """The heartbeat statement with its upsert as the `credited` CTE, feeding the ledger's upsert.

    The progress rows are locked first (the upsert), the ledger row after, in every statement
    that writes both, so heartbeats and claims of one learner cannot deadlock on them.
    """
    claim, upsert = sql.split("\nINSERT INTO user_content_progress", 1)
    ledger = SPAN_DAYS.format(conflict=LEDGER_CONFLICT_TARGETS[owner])
    return (
        f"{claim},\ncredited AS (\nINSERT INTO user_content_progress{upsert}\n),{ledger}\n"
        "SELECT content_type, last_credit_s, credited_until_ms FROM credited"
    )


def span_days(end_ms: int, credit_s: int) -> list[tuple[date, int]]:
    """The (UTC day, seconds) of the credited span that ends at end_ms, as SPAN_DAYS splits it in SQL."""
    last_day = end_ms // DAY_MS
    after = (end_ms - max(end_ms - credit_s * 1000, last_day * DAY_MS) + 500) // 1000
    epoch = date(1970, 1, 1)
    days = [(epoch + timedelta(days=last_day - 1), credit_s - after), (epoch + timedelta(days=last_day), after)]
    return [(day, seconds) for day, seconds in days if seconds > 0]


@cache
def ledger_statement(owner: str):
    """SQLite's ledger upsert: one (day, seconds) of the module row's credited span."""
    sql = f"""
INSERT INTO daily_module_time AS d (user_id, anonymous_token, module_id, utc_day, active_s)
VALUES (:user_id, :anonymous_token, :module_id, :utc_day, :active_s)
ON CONFLICT {LEDGER_CONFLICT_TARGETS[owner]} DO UPDATE SET active_s = d.active_s + EXCLUDED.active_s"""
    return text(sql).bindparams(
        bindparam("user_id", type_=Integer), bindparam("anonymous_token", type_=Uuid),
        bindparam("module_id", type_=Uuid), bindparam("utc_day", type_=Date), bindparam("active_s", type_=Integer),
    )


def sqlite_heartbeat(conn: Connection, owner: str, levels: tuple[str, ...], params: dict) -> list[tuple]:
    """The heartbeat statement, then the ledger's, both written or neither.

    SQLite cannot put an INSERT in a CTE. On an autocommit connection (Db.single_statement; the
    driver's isolation_level is None there) the two run in a transaction of their own; inside a
    caller's transaction (a completion's pending seconds) they are part of it.
    """
    if conn.connection.driver_connection.isolation_level is not None:
        return credit_and_record_days(conn, owner, levels, params)
    conn.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        credits = credit_and_record_days(conn, owner, levels, params)
    except BaseException:
        conn.exec_driver_sql("ROLLBACK")
        raise
    conn.exec_driver_sql("COMMIT")
    return credits


def credit_and_record_days(conn: Connection, owner: str, levels: tuple[str, ...], params: dict) -> list[tuple]:
    rows = conn.execute(heartbeat_statement("sqlite", owner, levels), params).all()
    for level, credit, credited_until_ms in rows:
        if level == "module" and credit:
            end_ms = credited_until_ms if params["live_end_ms"] is None else params["live_end_ms"]
            for day, seconds in span_days(end_ms, credit):
                conn.execute(ledger_statement(owner), {
                    "user_id": params["user_id"], "anonymous_token": params["anonymous_token"],
                    "module_id": params["module_id"], "utc_day": day, "active_s": seconds,
                })
    return [(level, credit) for level, credit, _ in rows]


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
# RETURNING what an xAPI statement of the completion says, exactly as the export will read it back.
COMPLETE_ROW = text(
    "UPDATE user_content_progress"
    " SET completed_at = :now, time_to_complete_s = total_time_spent_s"
    " WHERE id = :row_id AND completed_at IS NULL"
    " RETURNING content_type, content_id, content_title, time_to_complete_s"
).bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("row_id", type_=BigInteger)).columns(
    content_type=String, content_id=Uuid, content_title=Text, time_to_complete_s=Integer
)

# A transaction-scoped advisory lock on one learner (PostgreSQL): see service.serialise_completions.
LOCK_LEARNER = text("SELECT pg_advisory_xact_lock(hashtextextended(:learner, 0))")
