"""Who the current learner is: the logged-in user, else an anonymous token."""
from flask import current_app, request
from flask_login import current_user
from flask_login.config import COOKIE_NAME
from werkzeug.exceptions import BadRequest, Unauthorized

from tracker.progress import Learner
from tracker.uuids import parse_uuid

ANONYMOUS_COOKIE = "tracker_anon"
ANONYMOUS_HEADER = "X-Anonymous-Token"
ANONYMOUS_QUERY_PARAMETER = "anonymous_token"  # for navigator.sendBeacon, which cannot set headers


def may_be_logged_in() -> bool:
    """Only a request with a session or remember cookie can be logged in.

    Checking first spares anonymous heartbeats from opening the session, a measurable share
    of the heartbeat's cost.
    """
    cookies = request.cookies
    return current_app.config["SESSION_COOKIE_NAME"] in cookies or COOKIE_NAME in cookies


def current_learner() -> Learner:
    """The learner this request acts for; 401 without any identity, 400 for a malformed token."""
    if may_be_logged_in() and current_user.is_authenticated:
        return Learner(user_id=current_user.id)
    raw = (
        request.headers.get(ANONYMOUS_HEADER)
        or request.args.get(ANONYMOUS_QUERY_PARAMETER)
        or request.cookies.get(ANONYMOUS_COOKIE)
    )
    if not raw:
        raise Unauthorized(
            f"no learner: log in, or send an anonymous token in the {ANONYMOUS_HEADER} header"
        )
    try:
        return Learner(anonymous_token=parse_uuid(raw))
    except ValueError:
        raise BadRequest(f"the anonymous token must be a UUID, got {raw[:64]!r}") from None
