"""What the cohort pages show, read in one short transaction each: the cohorts, one cohort with its
groups, and a learner's own groups (My progress, and the download of their data). No Flask here."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from tracker.clock import as_utc, utc_now
from tracker.content.model import ContentIndex, Course
from tracker.database import Db

from . import store
from .schedule import ScheduledMeeting, next_meeting
from .service import find_cohort, schedule_of
from .store import CohortRow, GroupRow


@dataclass(frozen=True)
class CohortSummary:
    cohort: CohortRow
    course: Course | None  # None: the content no longer has the cohort's course
    groups: int
    members: int


@dataclass(frozen=True)
class InviteState:
    id: int
    created_at: datetime
    created_by_email: str
    expires_at: datetime | None
    revoked_at: datetime | None
    state: str  # "works", "expired" or "revoked"


@dataclass(frozen=True)
class GroupDetail:
    group: GroupRow
    members: list  # rows of (user_id, email, display_name, joined_at)
    facilitators: list  # rows of (user_id, email, display_name)
    invites: list[InviteState]
    schedule: list[ScheduledMeeting]


@dataclass(frozen=True)
class CohortDetail:
    cohort: CohortRow
    course: Course | None
    groups: list[GroupDetail]
    schedule: list[ScheduledMeeting]  # the cohort's own, which groups without a slot keep


@dataclass(frozen=True)
class MyGroup:
    group_id: int
    group_name: str
    cohort_name: str
    course: Course | None
    joined_at: datetime
    next_meeting: ScheduledMeeting | None


def cohorts_page(db: Db, index: ContentIndex) -> list[CohortSummary]:
    with db.transaction() as conn:
        found = store.all_cohorts(conn)
    return [CohortSummary(cohort, index.courses_by_slug.get(cohort.course_slug), groups, members) for cohort, groups, members in found]


def cohort_page(db: Db, index: ContentIndex, cohort_id: int, now=None) -> CohortDetail:
    """The cohort, its schedule, and each group with its members, facilitators, invites and meetings."""
    now = now or utc_now()
    with db.transaction() as conn:
        cohort = find_cohort(conn, cohort_id)
        members, facilitators = store.members_of(conn, cohort_id), store.facilitators_of(conn, cohort_id)
        invites = store.invites_of(conn, cohort_id)
        groups = [
            GroupDetail(
                group,
                [m for m in members if m.group_id == group.id],
                [f for f in facilitators if f.group_id == group.id],
                [invite_state(i, now) for i in invites if i.group_id == group.id],
                schedule_of(conn, index, cohort, group),
            )
            for group in store.groups_of(conn, cohort_id)
        ]
        schedule = schedule_of(conn, index, cohort, None)
    return CohortDetail(cohort, index.courses_by_slug.get(cohort.course_slug), groups, schedule)


def invite_state(row, now: datetime) -> InviteState:
    expires_at, revoked_at = as_utc(row.expires_at), as_utc(row.revoked_at)
    state = "revoked" if revoked_at else "expired" if expires_at and expires_at <= now else "works"
    return InviteState(row.id, as_utc(row.created_at), row.created_by_email, expires_at, revoked_at, state)


def my_groups(db: Db, index: ContentIndex, user_id: int, now=None) -> list[MyGroup]:
    """The learner's groups, each with its cohort, course and next meeting."""
    now = now or utc_now()
    with db.transaction() as conn:
        return [my_group(conn, index, row, now) for row in store.memberships_of(conn, user_id)]


def my_group(conn: Connection, index: ContentIndex, row, now: datetime) -> MyGroup:
    cohort, group = find_cohort(conn, row.cohort_id), store.find_group(conn, row.group_id)
    upcoming = next_meeting(schedule_of(conn, index, cohort, group), now)
    course = index.courses_by_slug.get(row.course_slug)
    return MyGroup(row.group_id, row.group_name, row.cohort_name, course, as_utc(row.joined_at), upcoming)


def exported_memberships(conn: Connection, user_id: int) -> list[dict]:
    """The learner's groups as plain values, for the download of their data."""
    return [
        {"cohort": row.cohort_name, "course_slug": row.course_slug, "group": row.group_name, "joined_at": as_utc(row.joined_at)}
        for row in store.memberships_of(conn, user_id)
    ]


def exported_facilitations(conn: Connection, user_id: int) -> list[dict]:
    """The groups the account facilitates as plain values, for the download of their data."""
    return [
        {"cohort": row.cohort_name, "course_slug": row.course_slug, "group": row.group_name, "added_at": as_utc(row.added_at)}
        for row in store.facilitations_of(conn, user_id)
    ]


def exported_invites(conn: Connection, user_id: int) -> list[dict]:
    """The invite links the account made as plain values (the links themselves are not kept)."""
    return [
        {"cohort": row.cohort_name, "course_slug": row.course_slug, "group": row.group_name, "created_at": as_utc(row.created_at),
         "expires_at": as_utc(row.expires_at), "revoked_at": as_utc(row.revoked_at)}
        for row in store.invites_made_by(conn, user_id)
    ]
