"""Plain values the progress service works with."""
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID

from tracker.models import UserContentProgress

progress = UserContentProgress.__table__


@dataclass(frozen=True)
class Learner:
    """Whoever the progress belongs to: an account or an anonymous token, never both."""

    user_id: int | None = None
    anonymous_token: UUID | None = None

    def __post_init__(self):
        if (self.user_id is None) == (self.anonymous_token is None):
            raise ValueError("a learner is either a user or an anonymous token")


@dataclass(frozen=True)
class Budget:
    """Limits that stop a client from inflating time."""

    max_delta_s: int  # the most one heartbeat may report
    burst_s: int  # the most a row may be credited beyond elapsed wall-clock time


def owned_by(learner: Learner):
    """The WHERE clause selecting one learner's progress rows."""
    if learner.user_id is not None:
        return progress.c.user_id == learner.user_id
    return progress.c.anonymous_token == learner.anonymous_token


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment
