"""Statements from progress rows: a row's completion, or how far a module in progress has got.

For the export and the outbox alike, so that both make the same statement, with the same id,
from the same row. Rows carry the progress columns and the owner's email, display_name and pseudonym.
"""
from sqlalchemy import or_, select

from tracker.clock import as_utc
from tracker.progress.model import progress

from . import Account, Places, XapiSettings, actor, percent, statement


def completed_lenses_of(conn, rows) -> dict[tuple, set]:
    """The completed lens ids of the owners of the modules in progress among these rows, by owner."""
    in_progress = [row for row in rows if row.content_type == "module" and row.time_to_complete_s is None]
    user_ids = {row.user_id for row in in_progress if row.user_id is not None}
    tokens = {row.anonymous_token for row in in_progress if row.anonymous_token is not None}
    if not in_progress:
        return {}
    query = select(progress.c.user_id, progress.c.anonymous_token, progress.c.content_id).where(
        progress.c.content_type == "lens",
        progress.c.completed_at.is_not(None),
        or_(progress.c.user_id.in_(user_ids), progress.c.anonymous_token.in_(tokens)),
    )
    done: dict[tuple, set] = {}
    for row in conn.execute(query):
        done.setdefault((row.user_id, row.anonymous_token), set()).add(row.content_id)
    return done


def row_actor(settings: XapiSettings, row) -> dict:
    if row.user_id is None:
        return actor(settings, anonymous_token=row.anonymous_token)
    return actor(settings, Account(row.pseudonym, row.email, row.display_name))


def row_statement(places: Places, row, done: dict) -> dict:
    """The statement a progress row makes: its completion, or, for a module in progress, how far it has got."""
    who = row_actor(places.settings, row)
    if row.time_to_complete_s is not None:
        return statement(
            places, who, verb="completed", level=row.content_type, content_id=row.content_id,
            title=row.content_title, moment=as_utc(row.completed_at), seconds=row.time_to_complete_s,
        )
    return progressed_statement(places, who, row, done.get((row.user_id, row.anonymous_token), set()))


def progressed_statement(places: Places, who: dict, row, completed_lens_ids: set) -> dict:
    """A module in progress: its active time, and the share of its required lenses completed."""
    module = places.index.modules_by_id.get(row.content_id)
    required = module.required_lens_ids if module else frozenset()
    return statement(
        places, who, verb="progressed", level="module", content_id=row.content_id, title=row.content_title,
        moment=as_utc(row.last_heartbeat_at or row.started_at), seconds=row.total_time_spent_s,
        progress_percent=percent(len(required & completed_lens_ids), len(required)),
    )
