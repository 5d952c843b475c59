"""Plain values the progress service works with."""
from dataclasses import dataclass
from datetime import datetime, timezone
from uuid import UUID

from tracker.models import UserContentProgress

progress = UserContentProgress.__table__

# The ranges a heartbeat's chunk fields may take. A chunk id is a positive integer a page can
# make exactly (JavaScript's largest safe integer); a backlog older than a year cannot be a
# page's queue, whatever TRACKER_MAX_BACKLOG_S says.
MAX_CHUNK_ID = 2**53 - 1
MAX_BACKLOG_AGE_S = 366 * 24 * 3600


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
    burst_s: int  # how far back live seconds may reach: the most a row gains beyond elapsed time
    max_backlog_s: int = 6 * 3600  # the oldest a queued second may be and still be credited

    def reach_s(self, backlog_age_s: int | None) -> int | None:
        """How far back a heartbeat's seconds may lie, or None when its backlog is too old to credit.

        Live seconds reach back the burst. Seconds the page could not deliver at the time reach
        back as far as the oldest of them was accrued, up to max_backlog_s.
        """
        if backlog_age_s is None or backlog_age_s <= self.burst_s:
            return self.burst_s
        return backlog_age_s if backlog_age_s <= self.max_backlog_s else None


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
