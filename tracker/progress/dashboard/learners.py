"""The learner list: search, sort and keyset pages over per-learner totals.

A learner is an account, or an anonymous token with module progress. Totals come from
module rows only: lens, LO and module rows hold the same seconds, so adding levels would
count time three times. Anonymous learners are keyed by one of their progress row ids, so
neither links nor page cursors ever carry a token.
"""

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import (
    DateTime,
    String,
    Uuid,
    cast,
    false,
    func,
    literal,
    null,
    select,
    union_all,
)

from tracker.models import User
from tracker.progress.model import progress

from .sql import completed

users = User.__table__
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ACCOUNT, ANONYMOUS = 0, 1
PAGE_SIZE = 50
HEX = re.compile(r"[0-9a-f]{1,32}")


@dataclass(frozen=True)
class LearnerQuery:
    search: str = ""
    sort: str = "last_active"  # or "time", "modules"
    descending: bool = True
    after: tuple | None = None  # the previous page's last position, as order_columns lists it
    limit: int = PAGE_SIZE


def token_range(prefix: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    """The lowest and highest token that start with these hex digits (dashes ignored), or None."""
    digits = prefix.replace("-", "")
    if not HEX.fullmatch(digits):
        return None
    return uuid.UUID(digits.ljust(32, "0")), uuid.UUID(digits.ljust(32, "f"))


def module_totals(rows, *conditions):
    """Module-level totals per learner over `rows` (the progress table, or a join of it)."""
    return (
        select(
            progress.c.user_id,
            progress.c.anonymous_token,
            func.count(completed).label("modules_completed"),
            func.sum(progress.c.total_time_spent_s).label("time_s"),
            func.max(progress.c.last_heartbeat_at).label("last_active"),
            func.min(progress.c.id).label("first_row"),
        )
        .select_from(rows)
        .where(progress.c.content_type == "module", *conditions)
        .group_by(progress.c.user_id, progress.c.anonymous_token)
    )


def totals_for(text: str):
    """(accounts, their totals, anonymous totals): everyone, or the accounts and tokens a search matches.

    Everyone's totals come from one scan, shared; a search joins the matching accounts to the
    (user_id, content_id) index and reads a token prefix as a range of the token index.
    """
    if not text:
        everyone = module_totals(progress).cte("totals")
        return users, everyone, everyone
    email, name = users.c.email, func.lower(users.c.display_name)
    matching = (
        select(users.c.id, users.c.email, users.c.display_name)
        .where(email.contains(text, autoescape=True) | name.contains(text, autoescape=True))
        .cte("matching")
    )
    account_totals = module_totals(progress.join(matching, matching.c.id == progress.c.user_id)).cte("account_totals")
    tokens = token_range(text)
    in_range = progress.c.anonymous_token.between(*tokens) if tokens else false()
    return matching, account_totals, module_totals(progress, in_range).cte("anonymous_totals")


def learners_union(search: str):
    """Accounts (with their totals, if any) and anonymous learners with module progress, as one table."""
    accounts, account_totals, anonymous_totals = totals_for(search.strip().lower())
    accounts = select(
        literal(ACCOUNT).label("kind"),
        accounts.c.id.label("key"),
        accounts.c.email,
        accounts.c.display_name,
        cast(null(), Uuid).label("token"),
        func.coalesce(account_totals.c.modules_completed, 0).label("modules_completed"),
        func.coalesce(account_totals.c.time_s, 0).label("time_s"),
        account_totals.c.last_active,
    ).select_from(accounts.outerjoin(account_totals, account_totals.c.user_id == accounts.c.id))
    anonymous = select(
        literal(ANONYMOUS).label("kind"),
        anonymous_totals.c.first_row.label("key"),
        cast(null(), String).label("email"),
        cast(null(), String).label("display_name"),
        anonymous_totals.c.anonymous_token.label("token"),
        anonymous_totals.c.modules_completed,
        anonymous_totals.c.time_s,
        anonymous_totals.c.last_active,
    ).where(anonymous_totals.c.anonymous_token.is_not(None))
    return union_all(accounts, anonymous).subquery("learners")


def order_columns(learners, sort: str) -> list:
    """The sort value, then last activity for ties, then kind and key, which make every learner's place unique."""
    last_active = func.coalesce(learners.c.last_active, literal(EPOCH, DateTime(timezone=True)))
    if sort == "last_active":
        return [last_active.label("o0"), learners.c.kind, learners.c.key]
    value = learners.c.time_s if sort == "time" else learners.c.modules_completed
    return [value.label("o0"), last_active.label("o1"), learners.c.kind, learners.c.key]


def ordered_learners(query: LearnerQuery):
    """The learners the query finds, in its order, and the columns that give each one's position."""
    learners = learners_union(query.search)
    columns = order_columns(learners, query.sort)
    labelled = [column for column in columns if column.name.startswith("o")]  # kind and key are in `learners`
    statement = select(learners, *labelled).order_by(*(c.desc() if query.descending else c for c in columns))
    return statement, columns
