"""The progress table and the limits on the time a heartbeat may credit."""
from dataclasses import dataclass

from tracker.models import UserContentProgress

progress = UserContentProgress.__table__

# The ranges a heartbeat's chunk fields may take. A chunk id is a positive integer a page can
# make exactly (JavaScript's largest safe integer); a backlog older than a year cannot be a
# page's queue, whatever TRACKER_MAX_BACKLOG_S says.
MAX_CHUNK_ID = 2**53 - 1
MAX_BACKLOG_AGE_S = 366 * 24 * 3600


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
