"""Invite links: an unguessable token that lets whoever opens it, logged in, join one group.

No Flask here. Only the token's SHA-256 is stored, so the link is shown once, when it is made. A
link works until it expires (DEFAULT_INVITE_DAYS unless the admin picks another length, or none)
or is revoked; an unknown, expired or revoked link is refused with the reason. Joining never
moves a learner: one who is in another group of the cohort is refused (see service.py), and one
who is in this group already stays in it, unchanged.
"""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection

from tracker.clock import as_utc, utc_now
from tracker.content.model import ContentIndex, Course
from tracker.database import Db

from . import store
from .errors import ExpiredInvite, InAnotherGroup, RevokedInvite, UnknownInvite
from .schedule import ScheduledMeeting, next_meeting
from .service import find_cohort, group_of_cohort, schedule_of
from .values import checked_invite_days

INVITE_TOKEN_BYTES = 32
MAX_TOKEN_CHARS = 200  # a real token has 43; anything much longer is not worth hashing
DEFAULT_INVITE_DAYS = 30  # long enough for a cohort's first weeks


@dataclass(frozen=True)
class NewInvite:
    id: int
    token: str  # shown once: only its hash is kept
    group_name: str
    expires_at: datetime | None


@dataclass(frozen=True)
class Invite:
    """What an invite link leads to."""

    group_id: int
    group_name: str
    cohort_id: int
    cohort_name: str
    course: Course | None
    expires_at: datetime | None
    next_meeting: ScheduledMeeting | None


@dataclass(frozen=True)
class Joined:
    group_name: str
    cohort_name: str
    course_slug: str
    already: bool  # they were in this group before: joining twice changes nothing


def token_hash(token: str) -> str:
    """The invite's key in the database. Looking an invite up by the hash of what was sent, never by
    the token itself, keeps the lookup's timing independent of how much of a real token was guessed."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def create_invite(db: Db, cohort_id: int, *, group_id, created_by: int, expires_in_days=str(DEFAULT_INVITE_DAYS), now=None) -> NewInvite:
    """A new invite link to a group of the cohort, working for `expires_in_days` (blank: for good)."""
    days, now = checked_invite_days(expires_in_days), now or utc_now()
    token = secrets.token_urlsafe(INVITE_TOKEN_BYTES)
    expires_at = now + timedelta(days=days) if days else None
    with db.transaction() as conn:
        find_cohort(conn, cohort_id)
        group = group_of_cohort(conn, cohort_id, group_id)
        invite_id = store.insert_invite(conn, group.id, token_hash(token), created_by, now, expires_at)
    return NewInvite(invite_id, token, group.name, expires_at)


def revoke_invite(db: Db, cohort_id: int, invite_id: int, now=None) -> None:
    """Withdraw an invite link of the cohort: from now on it gets a page saying so."""
    with db.transaction() as conn:
        find_cohort(conn, cohort_id)
        if not store.revoke_invite(conn, cohort_id, invite_id, now or utc_now()):
            raise UnknownInvite(f"The cohort has no invite {invite_id}.")


def usable_invite(conn: Connection, token: str, now: datetime):
    """The invite's row, or the reason it cannot be used."""
    row = store.find_invite(conn, token_hash(token)) if 0 < len(token) <= MAX_TOKEN_CHARS else None
    if row is None:
        raise UnknownInvite("Check that you opened the whole link; if you did, ask your facilitator for a new one.")
    if row.revoked_at is not None:
        raise RevokedInvite("The person who shared it has withdrawn it. Ask your facilitator for a new link.")
    if row.expires_at is not None and as_utc(row.expires_at) <= now:
        raise ExpiredInvite(f"It worked until {as_utc(row.expires_at):%-d %B %Y, %H:%M} UTC. Ask your facilitator for a new link.")
    return row


def invite_details(db: Db, index: ContentIndex, token: str, now=None) -> Invite:
    """Where the invite link leads: the group, its cohort and course, and the group's next meeting."""
    now = now or utc_now()
    with db.transaction() as conn:
        row = usable_invite(conn, token, now)
        cohort, group = find_cohort(conn, row.cohort_id), store.find_group(conn, row.group_id)
        upcoming = next_meeting(schedule_of(conn, index, cohort, group), now)
    course = index.courses_by_slug.get(row.course_slug)
    return Invite(row.group_id, row.group_name, row.cohort_id, row.cohort_name, course, as_utc(row.expires_at), upcoming)


def join_by_invite(db: Db, token: str, user_id: int, now=None) -> Joined:
    """Join the invite's group; joining again is harmless, and a learner in another of the cohort's groups is refused."""
    now = now or utc_now()
    with db.transaction() as conn:
        row = usable_invite(conn, token, now)
        held, joined = store.join_unless_in_cohort(conn, row.cohort_id, row.group_id, user_id, now)
        if held != row.group_id:
            other = store.find_group(conn, held).name
            raise InAnotherGroup(
                f"You are already in the group “{other}” of the cohort “{row.cohort_name}”, and a learner is in one group per cohort. "
                "To change groups, leave yours on My progress and open this link again, or ask your facilitator to move you."
            )
        return Joined(row.group_name, row.cohort_name, row.course_slug, already=not joined)
