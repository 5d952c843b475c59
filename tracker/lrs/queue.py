"""What goes into the LRS outbox: the statements of a completion, in its transaction, and
`progressed` statements spaced out per learner and module. No Flask here."""
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, or_, select, union_all
from sqlalchemy.dialects import postgresql, sqlite

from tracker import xapi
from tracker.clock import as_utc
from tracker.content import ContentIndex
from tracker.database import Db
from tracker.learner import Learner
from tracker.models import DailyModuleTime, LrsProgressMark, User
from tracker.progress.model import progress
from tracker.xapi.rows import completed_lenses_of, row_statement

from .outbox import queue_statements

users = User.__table__
days = DailyModuleTime.__table__
marks = LrsProgressMark.__table__


def learner_actor(conn: Connection, settings: xapi.XapiSettings, learner: Learner) -> dict:
    """The learner as the statements' actor (an account's pseudonym and email are read here)."""
    if learner.user_id is None:
        return xapi.actor(settings, anonymous_token=learner.anonymous_token)
    row = conn.execute(
        select(users.c.pseudonym, users.c.email, users.c.display_name).where(users.c.id == learner.user_id)
    ).one()
    return xapi.actor(settings, xapi.Account(row.pseudonym, row.email, row.display_name))


def queue_completions(conn: Connection, index: ContentIndex, settings: xapi.XapiSettings, learner: Learner, completed: list, now: datetime) -> int:
    """Queue a `completed` statement for each row just completed (content_type, content_id, content_title, time_to_complete_s).

    Runs in the completion's transaction: the statements are queued if and only if the completion commits.
    """
    if not completed:
        return 0
    places = xapi.places_for(settings, index)
    who = learner_actor(conn, settings, learner)
    statements = [
        xapi.statement(
            places, who, verb="completed", level=row.content_type, content_id=row.content_id,
            title=row.content_title, moment=now, seconds=row.time_to_complete_s,
        )
        for row in completed
    ]
    return queue_statements(conn, learner, statements, now)


# How far back the progressed pass looks for activity, by the daily ledger: a worker stopped for
# longer than this does not report the older activity as `progressed` (completions are never
# missed: the completion queues its own statement).
PROGRESSED_LOOKBACK = timedelta(days=2)
CANDIDATE_BATCH = 1000


def queue_progressed(db: Db, index: ContentIndex, settings: xapi.XapiSettings, every_s: int, now: datetime) -> int:
    """Queue a `progressed` statement for each module in progress whose learner has been active
    since its last one, unless that was less than `every_s` ago; return how many were queued.

    The heartbeat stays one statement: this pass finds the active learners afterwards, by the
    daily ledger's index on the day, and never touches the rows a heartbeat writes. The marks
    (one per module row) say what was last reported and when. Each batch is one transaction,
    so a statement and its mark are written together or not at all.
    """
    places = xapi.places_for(settings, index)
    queued, after = 0, 0
    while True:
        with db.transaction() as conn:
            rows = progressed_candidates(conn, now - PROGRESSED_LOOKBACK, now - timedelta(seconds=every_s), after)
            if not rows:
                return queued
            done = completed_lenses_of(conn, rows)
            for row in rows:
                learner = Learner(row.user_id, row.anonymous_token)
                queued += queue_statements(conn, learner, [row_statement(places, row, done)], now)
            mark_reported(conn, rows, now)
        after = rows[-1].id


def progressed_candidates(conn: Connection, active_since: datetime, last_report_before: datetime, after_id: int) -> list:
    """Module rows in progress, active since `active_since`, not reported since `last_report_before` or not since their last heartbeat."""
    active = (
        select(days.c.user_id, days.c.anonymous_token, days.c.module_id)
        .where(days.c.utc_day >= active_since.date())
        .distinct()
        .subquery()
    )
    module_rows = union_all(
        *(
            select(progress.c.id)
            .join(active, and_(progress.c[owner] == active.c[owner], progress.c.content_id == active.c.module_id))
            .where(progress.c.content_type == "module", progress.c.completed_at.is_(None))
            for owner in ("user_id", "anonymous_token")
        )
    ).subquery()
    query = (
        select(progress, users.c.email, users.c.display_name, users.c.pseudonym)
        .select_from(
            progress.join(module_rows, module_rows.c.id == progress.c.id)
            .outerjoin(users, users.c.id == progress.c.user_id)
            .outerjoin(marks, marks.c.progress_id == progress.c.id)
        )
        .where(
            progress.c.id > after_id,
            progress.c.last_heartbeat_at.is_not(None),
            or_(
                marks.c.progress_id.is_(None),
                and_(progress.c.last_heartbeat_at > marks.c.reported_heartbeat_at, marks.c.queued_at <= last_report_before),
            ),
        )
        .order_by(progress.c.id)
        .limit(CANDIDATE_BATCH)
    )
    return conn.execute(query).all()


def mark_reported(conn: Connection, rows: list, now: datetime) -> None:
    """Remember, per module row, the heartbeat just reported and when."""
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = insert(marks).values(
        [{"progress_id": row.id, "reported_heartbeat_at": as_utc(row.last_heartbeat_at), "queued_at": now} for row in rows]
    )
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[marks.c.progress_id],
            set_={"reported_heartbeat_at": statement.excluded.reported_heartbeat_at, "queued_at": statement.excluded.queued_at},
        )
    )
