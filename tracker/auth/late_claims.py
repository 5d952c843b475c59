"""Progress that reaches a browser's anonymous token after the login that claimed it.

A heartbeat or an answer to a question sent from another tab just before the login lands after
the claim has committed, under the old token, which the browser no longer sends. The session
keeps the claimed token for a while, and the learner's next pages move whatever reached it into
the account.
"""
import time
from uuid import UUID

from flask import session
from flask_login import current_user

from tracker import progress
from tracker.app_state import content_index, database, lrs_statements
from tracker.http.identity import is_logged_in, may_be_logged_in

SESSION_KEY = "claimed_anonymous_token"
# Far longer than any request stays in flight (nginx gives up after 65 s), yet a page view
# costs the extra look only for a few minutes after a login.
LATE_CLAIM_WINDOW_S = 300


def remember_claimed_token(token: UUID) -> None:
    session[SESSION_KEY] = [str(token), int(time.time())]


def claim_late_anonymous_progress() -> None:
    """Before a page: move into the account what reached the claimed token since the login."""
    claimed = session.get(SESSION_KEY) if may_be_logged_in() else None
    if not claimed:
        return
    token, claimed_at = claimed
    if not is_logged_in() or time.time() - claimed_at > LATE_CLAIM_WINDOW_S:
        session.pop(SESSION_KEY)
        return
    progress.claim_late_anonymous_progress(database(), content_index(), UUID(token), current_user.id, lrs=lrs_statements())
