"""Per-learner rate limits (Flask-Limiter), keyed by who the learner is rather than their address."""
import math
import time

from flask import Flask, current_app, request
from flask_limiter import Limiter
from werkzeug.exceptions import TooManyRequests

from tracker.identity import current_learner


def learner_key() -> str:
    learner = current_learner()
    return f"user:{learner.user_id}" if learner.user_id is not None else f"anonymous:{learner.anonymous_token}"


def refuse_with_retry_after(limit) -> None:
    """Answer 429 with Retry-After: how many seconds until the learner's window resets."""
    wait_s = max(1, math.ceil(limit.window[0] - time.time()))  # window[0]: when the window resets
    raise TooManyRequests(
        f"You are sending messages faster than the tutor can take them ({limit.limit.amount} a minute)."
        f" Try again in {wait_s} s.",
        retry_after=wait_s,
    )


def chat_messages_per_minute() -> str:
    return f"{current_app.config['TRACKER_CHAT_MESSAGES_PER_MINUTE']} per minute"


limiter = Limiter(key_func=learner_key, on_breach=refuse_with_retry_after)


@limiter.request_filter
def not_the_heartbeat() -> bool:
    """The heartbeat has no limit of its own (its budget is in the database): skip the bookkeeping."""
    return request.endpoint == "api.record_time"


def init_rate_limits(app: Flask) -> None:
    # Memory by default: each process counts on its own. Point it at Redis to count across workers.
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["TRACKER_RATELIMIT_STORAGE_URL"])
    limiter.init_app(app)
