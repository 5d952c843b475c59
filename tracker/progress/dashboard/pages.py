"""What each admin page and export reads, each in one read-only transaction tuned for aggregates.

The entry points of the dashboard: they take the app's Db and open Db.report() themselves; the
queries they call take the connection. The learner export and the xAPI export stream, so they
open their transactions as the caller reads on.
"""
from collections.abc import Iterator
from datetime import datetime

from tracker.content import ContentIndex
from tracker.database import Db

from ..errors import UnknownLearner
from ..lookup import find_module
from .insights import course_insights
from .learner import find_account, find_anonymous, learner_detail
from .learner_pages import all_learners, learner_page
from .learners import LearnerQuery
from .module import module_report
from .overview import module_table, overview
from .xapi import statement_batches


def overview_page(db: Db, index: ContentIndex, now: datetime) -> dict:
    with db.report() as conn:
        return overview(conn, index, now)


def insights_page(db: Db, index: ContentIndex) -> dict:
    with db.report() as conn:
        return course_insights(conn, index)


def module_page(db: Db, index: ContentIndex, slug: str) -> dict:
    module = find_module(index, slug)
    with db.report() as conn:
        return module_report(conn, index, module)


def modules_export(db: Db, index: ContentIndex) -> list[dict]:
    with db.report() as conn:
        return module_table(conn, index)


def learners_page(db: Db, query: LearnerQuery) -> dict:
    with db.report() as conn:
        return learner_page(conn, query)


def learners_export(db: Db, query: LearnerQuery, chunk: int) -> Iterator[dict]:
    """Every learner the query finds, streamed from one query in one transaction."""
    with db.report() as conn:
        yield from all_learners(conn, query, chunk)


def account_page(db: Db, index: ContentIndex, user_id: int) -> dict:
    with db.report() as conn:
        return learner_detail(conn, index, find_account(conn, user_id) or no_such_learner())


def anonymous_page(db: Db, index: ContentIndex, row_id: int) -> dict:
    """An anonymous learner, found by one of their progress rows, so that no URL carries a token."""
    with db.report() as conn:
        return learner_detail(conn, index, find_anonymous(conn, row_id) or no_such_learner())


def no_such_learner():
    raise UnknownLearner("There is no such learner.")


def xapi_statements(db: Db, index: ContentIndex, settings, batch: int = 2000, since: datetime | None = None) -> Iterator[dict]:
    """Every statement (tracker.xapi.XapiSettings say how), a batch per short transaction, so that a long download holds no transaction open."""
    return statement_batches(db.report, index, settings, batch, since)
