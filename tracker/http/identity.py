"""Who the current learner is: the logged-in user, else an anonymous token."""
import uuid

from flask import current_app, g, request, session
from flask_login import current_user
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from werkzeug.exceptions import BadRequest, Forbidden, Unauthorized

from tracker.learner import Learner
from tracker.uuids import parse_uuid

ANONYMOUS_COOKIE = "tracker_anon"
ANONYMOUS_HEADER = "X-Anonymous-Token"
ANONYMOUS_COOKIE_MAX_AGE_S = 400 * 24 * 3600  # the longest browsers keep a cookie


# The session names its account by the id Flask-Login keeps and by the account's pseudonym. An
# account's id can come back (SQLite gives a new row the largest rowid plus one, so the next
# sign-up after the newest account was deleted gets its id); its random pseudonym never does.
SESSION_PSEUDONYM = "account_pseudonym"


def bind_session_to_account(_app, user, **_) -> None:
    """On every login (Flask-Login's user_logged_in signal): the session remembers whose it is."""
    session[SESSION_PSEUDONYM] = str(user.pseudonym)


def forget_session_account(_app, user=None, **_) -> None:
    """On every logout (user_logged_out)."""
    session.pop(SESSION_PSEUDONYM, None)


def session_belongs_to(user) -> bool:
    """Whether this session was logged in to this very account, not an earlier one with its id.

    A remember-me cookie carries the id alone, so it never passes: tracker sets none, and a
    session without the pseudonym (from before it was kept) logs in again once.
    """
    return user.pseudonym is not None and session.get(SESSION_PSEUDONYM) == str(user.pseudonym)


def may_be_logged_in() -> bool:
    """Only a request with a session or remember cookie can be logged in.

    Checking first spares anonymous heartbeats from opening the session, a measurable share
    of the heartbeat's cost.
    """
    cookies = request.cookies
    return current_app.config["SESSION_COOKIE_NAME"] in cookies or REMEMBER_COOKIE in cookies


def is_logged_in() -> bool:
    return may_be_logged_in() and current_user.is_authenticated


def current_learner() -> Learner:
    """The learner this request acts for; 401 without any identity, 400 for a malformed token.

    Worked out once per request (TrackerRequest.learner): the rate limits ask before the view does.
    """
    return request.learner


def identify_learner(request) -> Learner:
    """A token never comes in the URL, where access logs would keep it: beacons carry the cookie."""
    if is_logged_in():
        return Learner(user_id=current_user.id)
    raw = request.headers.get(ANONYMOUS_HEADER) or request.cookies.get(ANONYMOUS_COOKIE) or g.get("new_anonymous_token")
    if not raw:
        raise Unauthorized(
            f"no learner: log in, or send an anonymous token in the {ANONYMOUS_HEADER} header"
        )
    try:
        return Learner(anonymous_token=parse_uuid(raw))
    except ValueError:
        raise BadRequest(f"the anonymous token must be a UUID, got {raw[:64]!r}") from None


def cookie_anonymous_token() -> uuid.UUID | None:
    """The anonymous token in this browser's cookie, if it is a valid one."""
    try:
        return parse_uuid(request.cookies.get(ANONYMOUS_COOKIE, ""))
    except ValueError:
        return None


def give_visitor_a_token() -> None:
    """Before a page: a visitor who is neither logged in nor known gets a new anonymous token."""
    if not is_logged_in() and cookie_anonymous_token() is None:
        g.new_anonymous_token = str(uuid.uuid4())


def set_anonymous_cookie(response):
    """After a page: store a token made for this request in the browser."""
    token = g.get("new_anonymous_token")
    if token:
        response.set_cookie(ANONYMOUS_COOKIE, token, max_age=ANONYMOUS_COOKIE_MAX_AGE_S, **anonymous_cookie_flags())
    return response


def forget_anonymous_token(response):
    response.delete_cookie(ANONYMOUS_COOKIE, **anonymous_cookie_flags())
    return response


def anonymous_cookie_flags() -> dict:
    """The token is as good as a login to its progress, so it gets the session cookie's protection."""
    return {"httponly": True, "samesite": "Lax", "secure": current_app.config["SESSION_COOKIE_SECURE"]}


def refuse_cross_site_cookie_requests() -> None:
    """Cookie-authenticated API calls must come from our own pages.

    API clients that send X-Anonymous-Token are not riding on a cookie, so they pass, unless a
    logged-in session decides who the learner is after all. Browsers send Sec-Fetch-Site (or at
    least Origin) on every POST, beacons included.
    """
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if ANONYMOUS_HEADER in request.headers and not is_logged_in():
        return
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site is not None:
        allowed = site in ("same-origin", "none")
    elif origin is not None:
        allowed = origin == request.host_url.rstrip("/")
    else:
        allowed = True  # not a browser: no cookie can have been sent on someone else's behalf
    if not allowed:
        raise Forbidden("cross-site requests cannot use this site's cookies")
