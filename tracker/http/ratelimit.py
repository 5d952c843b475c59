"""Rate limits (Flask-Limiter): each per learner and per network address, refused with 429 and Retry-After.

Every limit is a setting (RATE_LIMIT_SETTINGS in tracker/config.py) read on each request. Counters
live in each process's memory, or in Redis when TRACKER_RATELIMIT_STORAGE_URL points there, where
every worker and server counts together.
"""
import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded, RequestLimit
from flask_limiter.util import get_remote_address
from limits import RateLimitItem
from werkzeug.exceptions import HTTPException, TooManyRequests

from tracker.accounts import normalise_email
from tracker.config import RATE_LIMIT_SETTINGS, check_rate_limit
from tracker.http.body import RequestBody
from tracker.http.identity import cookie_anonymous_token, current_learner, is_logged_in

REDIS_TIMEOUT_S = 1  # a Redis that does not answer must not hold requests for long


def address_key() -> str:
    """The client's address; behind a proxy, the one ProxyFix takes from X-Forwarded-For."""
    return f"ip:{get_remote_address()}"


def learner_key() -> str:
    """The learner the request acts for. A request that names none counts under its address; its route refuses it."""
    # A key function must not raise: Flask-Limiter would take the error for a storage failure.
    try:
        learner = current_learner()
    except HTTPException:
        return f"nobody:{get_remote_address()}"
    return f"user:{learner.user_id}" if learner.user_id is not None else f"anonymous:{learner.anonymous_token}"


def address_and_email_key() -> str:
    """The address with a digest of the email being logged into: the storage never holds an email address."""
    try:
        email = normalise_email(request.form.get("email", ""))
    except HTTPException:
        email = ""
    return f"ip:{get_remote_address()}:email:{hashlib.sha256(email.encode()).hexdigest()[:32]}"


def names_no_learner() -> bool:
    """A visitor who is neither logged in nor carries our cookie: only the per-address limit can tell them apart."""
    return not is_logged_in() and cookie_anonymous_token() is None


def asks_to_complete() -> bool:
    """Whether a module-progress request completes its lens, so that it counts as a completion too."""
    try:
        return RequestBody.read().boolean("completed")
    except HTTPException:
        return False  # the route refuses the body, and writes nothing


def failed_login(response) -> bool:
    return response.status_code == 422


class RateLimited(RateLimitExceeded):
    """A breach with a message naming the limit, and Retry-After in whole seconds.

    It is a RateLimitExceeded so that Flask-Limiter lets it through as a breach; any other error
    raised while limiting would be taken for a storage failure.
    """

    def __init__(self, limit: RateLimitItem, description: str, retry_after_s: int):
        TooManyRequests.__init__(self, description, retry_after=retry_after_s)
        self.limit = limit


def describe(item: RateLimitItem) -> str:
    """'120 a minute', '100 an hour', '10 per 15 minutes'."""
    unit = item.GRANULARITY.name
    if item.multiples == 1:
        return f"{item.amount} {'an' if unit == 'hour' else 'a'} {unit}"
    return f"{item.amount} per {item.multiples} {unit}s"


def in_words(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


@dataclass(frozen=True)
class Rule:
    """One limit: what it counts, whose requests, and the setting that says how many."""

    counts: str
    per: str
    key: Callable[[], str]
    limit: Callable[[], str]
    exempt_when: Callable[[], bool] | None = None

    def refuse(self, breached: RequestLimit) -> None:
        wait_s = max(1, math.ceil(breached.window.reset_time - time.time()))
        raise RateLimited(
            breached.limit,
            f"Too many {self.counts} {self.per}: the limit is {describe(breached.limit)}. Try again in {in_words(wait_s)}.",
            wait_s,
        )


def setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def chat_messages_per_minute() -> str:
    return f"{current_app.config['TRACKER_CHAT_MESSAGES_PER_MINUTE']}/minute"


PER_LEARNER, PER_ADDRESS = "from this learner", "from this network address"
HEARTBEATS = (
    Rule("heartbeats", PER_LEARNER, learner_key, setting("TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER")),
    Rule("heartbeats", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_HEARTBEAT_PER_IP")),
)
COMPLETIONS = (
    Rule("completions", PER_LEARNER, learner_key, setting("TRACKER_RATELIMIT_COMPLETION_PER_LEARNER")),
    Rule("completions", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_COMPLETION_PER_IP")),
)
CHAT_MESSAGES = (
    Rule("messages to the tutor", PER_LEARNER, learner_key, chat_messages_per_minute),
    Rule("messages to the tutor", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_CHAT_PER_IP")),
)
QUESTION_ANSWERS = (
    Rule("answers to questions", PER_LEARNER, learner_key, setting("TRACKER_RATELIMIT_ANSWER_PER_LEARNER")),
    Rule("answers to questions", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_ANSWER_PER_IP")),
)
LOGIN_FAILURES = (
    Rule("failed logins", "for this email from this network address", address_and_email_key,
         setting("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL")),
    Rule("failed logins", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP")),
)
# "Delete my account" checks the password too: a session left open must not let anyone guess it there.
WRONG_PASSWORDS = (
    Rule("wrong passwords", "for this account", learner_key, setting("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL")),
    Rule("wrong passwords", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP")),
)
SIGNUPS = (
    Rule("sign-ups", "from this browser", learner_key, setting("TRACKER_RATELIMIT_SIGNUP_PER_LEARNER"), names_no_learner),
    Rule("sign-ups", PER_ADDRESS, address_key, setting("TRACKER_RATELIMIT_SIGNUP_PER_IP")),
)


class ViewLimiter(Limiter):
    """Limits on decorated views only, without the check Flask-Limiter makes before every request.

    That check looks for app-wide and default limits, which this app has none of; on a heartbeat it
    was a third of the limiter's work. The decorated views check their own limits as before.
    """

    def _check_request_limit(self, callable_name: str | None = None, in_middleware: bool = True) -> None:
        if not in_middleware:
            super()._check_request_limit(callable_name=callable_name, in_middleware=in_middleware)


limiter = ViewLimiter(
    key_func=address_key,  # every Rule names its own key
    strategy="fixed-window",  # one counter per key and window: the least work on the heartbeat path
    # Breaches are raised from on_breach; swallowing errors would turn them into a bare 429.
    swallow_errors=False,
    # When Redis is unreachable, Flask-Limiter logs a warning and counts in this process's memory
    # until Redis answers again: the limits hold per process, and no request fails because of it.
    in_memory_fallback_enabled=True,
)


def limits(scope: str, rules: tuple[Rule, ...], *, exempt_when=None, **options):
    """A decorator applying each rule to a view; views with the same scope share their counters.

    The first rule is checked first, so a request refused per learner does not use up the address's
    allowance. Flask-Limiter orders a view's limits by their time unit first (seconds before minutes
    before hours), so this holds when a route's rules count in the same unit, as the defaults do.
    """

    def decorate(view):
        for rule in rules:  # the limit applied first (innermost) is registered, and checked, first
            exempt = rule.exempt_when or exempt_when
            view = limiter.shared_limit(
                rule.limit, scope=scope, key_func=rule.key, exempt_when=exempt, on_breach=rule.refuse, **options
            )(view)
        return view

    return decorate


heartbeat_limits = limits("heartbeats", HEARTBEATS)
completion_limits = limits("completions", COMPLETIONS)
completion_limits_when_completing = limits("completions", COMPLETIONS, exempt_when=lambda: not asks_to_complete())
chat_message_limits = limits("chat-messages", CHAT_MESSAGES)
chat_answer_limits = limits("chat-answers", CHAT_MESSAGES)
question_answer_limits = limits("question-answers", QUESTION_ANSWERS)
# Only failed logins count; once over, the login is refused before the password is checked.
login_failure_limits = limits("login-failures", LOGIN_FAILURES, methods=["POST"], deduct_when=failed_login)
signup_limits = limits("signups", SIGNUPS, methods=["POST"])
account_deletion_limits = limits("account-deletion-failures", WRONG_PASSWORDS, methods=["POST"], deduct_when=failed_login)


def init_rate_limits(app: Flask) -> None:
    for name, _ in RATE_LIMIT_SETTINGS:  # settings passed to create_app() skip load_settings' check
        check_rate_limit(name, app.config[name])
    # One limiter serves every app in the process, and Flask-Limiter defaults this to the last
    # app's choice: an app created with RATELIMIT_ENABLED=False would switch limits off for all later ones.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    storage_url = app.config["TRACKER_RATELIMIT_STORAGE_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", storage_url)
    if storage_url.startswith(("redis", "valkey")):
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {
            "key_prefix": app.config["TRACKER_RATELIMIT_KEY_PREFIX"],
            "socket_connect_timeout": REDIS_TIMEOUT_S,
            "socket_timeout": REDIS_TIMEOUT_S,
        })
    limiter.init_app(app)
