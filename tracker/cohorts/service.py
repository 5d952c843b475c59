"""The cohort rules: making cohorts and groups, their schedules, who is in which group, and facilitators.

No Flask here. Each entry point takes the app's Db and, for what it writes, opens one transaction:
a request either does all of its work or none of it. Form values arrive as submitted and are
checked first (values.py), so a refused request has written nothing.

A learner is in at most one group per cohort. Admins place learners where they like (adding or
moving them); an invite link never moves anyone: a learner already in another group of the cohort
is told so and stays where they are, so that a widely shared link cannot reshuffle a facilitator's
group. Leaving a group takes the learner out of it and nothing else: their progress stays.
"""
from dataclasses import dataclass

from sqlalchemy import Connection

from tracker.clock import utc_now
from tracker.content.model import ContentIndex, Course
from tracker.database import Db

from . import store
from .errors import InvalidInput, UnknownAccount, UnknownCohort, UnknownGroup
from .schedule import ScheduledMeeting, meeting_schedule
from .store import CohortRow, GroupRow
from .values import (
    checked_date, checked_email, checked_id, checked_meeting_dates, checked_name, checked_time_zone, checked_weekly_slot,
)


# --- Cohorts and groups ----------------------------------------------------------------------------


def create_cohort(db: Db, index: ContentIndex, *, course, name, starts_on, time_zone, weekday="", local_time="", meeting_dates="") -> int:
    """Make a cohort of a course; its meetings follow a weekly rule or the dates given, one per course meeting."""
    course = course_of(index, course)
    name, starts, zone = checked_name(name, "Name"), checked_date(starts_on, "Start date"), checked_time_zone(time_zone)
    weekly = checked_weekly_slot(weekday, local_time, zone, "Weekly meetings")
    listed = str(meeting_dates or "").strip()
    if weekly and listed:
        raise InvalidInput("Give either a weekly rule or the meeting dates, not both.")
    if course.meetings and not weekly and not listed:
        raise InvalidInput(f"“{course.title}” has {len(course.meetings)} meetings: give a weekly rule or their dates.")
    if listed and not course.meetings:
        raise InvalidInput(f"“{course.title}” has no meetings to give dates to.")
    dates = checked_meeting_dates(listed, zone, len(course.meetings), starts) if listed else []
    with db.transaction() as conn:
        cohort_id = store.insert_cohort(conn, course.slug, name, starts, zone, weekly)
        store.insert_meeting_dates(conn, cohort_id, dates)
        return cohort_id


def create_group(db: Db, cohort_id: int, *, name, weekday="", local_time="", time_zone="") -> int:
    """Add a group to the cohort, meeting when the cohort does, or in a weekly slot of its own."""
    name = checked_name(name, "Group name")
    with db.transaction() as conn:
        cohort = find_cohort(conn, cohort_id)
        weekly = checked_weekly_slot(weekday, local_time, str(time_zone or "").strip() or cohort.time_zone, "Group's own weekly slot")
        if weekly and store.meeting_dates(conn, cohort_id):
            raise InvalidInput("This cohort meets on dates of its own, which every group keeps: a group cannot have a weekly slot.")
        return store.insert_group(conn, cohort_id, name, weekly)


def course_of(index: ContentIndex, slug) -> Course:
    course = index.courses_by_slug.get(str(slug or "").strip())
    if course is None:
        raise InvalidInput("Course: pick one of the courses.")
    return course


def find_cohort(conn: Connection, cohort_id: int) -> CohortRow:
    cohort = store.find_cohort(conn, cohort_id)
    if cohort is None:
        raise UnknownCohort(f"There is no cohort {cohort_id}.")
    return cohort


def group_of_cohort(conn: Connection, cohort_id: int, group_id) -> GroupRow:
    """The group, which must be one of this cohort's."""
    group = store.find_group(conn, checked_id(group_id, "Group"))
    if group is None or group.cohort_id != cohort_id:
        raise UnknownGroup("That group is not one of this cohort's: pick one from the list.")
    return group


# --- Schedules -------------------------------------------------------------------------------------


def schedule_of(conn: Connection, index: ContentIndex, cohort: CohortRow, group: GroupRow | None) -> list[ScheduledMeeting]:
    """The group's meetings (or the cohort's, for no group); none when the cohort's course is no longer served."""
    course = index.courses_by_slug.get(cohort.course_slug)
    if course is None:
        return []
    dates = store.meeting_dates(conn, cohort.id)
    return meeting_schedule(course, cohort.starts_on, cohort.time_zone, dates, group and group.weekly, cohort.weekly)


def group_schedule(db: Db, index: ContentIndex, group_id: int) -> list[ScheduledMeeting]:
    """Each meeting of the group: its number, name, start in UTC, and the modules due by it."""
    with db.transaction() as conn:
        group = store.find_group(conn, group_id)
        if group is None:
            raise UnknownGroup(f"There is no group {group_id}.")
        return schedule_of(conn, index, find_cohort(conn, group.cohort_id), group)


# --- Placing learners ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    email: str
    group_name: str
    moved_from: str | None  # the group they were in before, if another
    unchanged: bool


def group_and_account(conn: Connection, cohort_id: int, group_id, email: str, how_to_fix: str) -> tuple[GroupRow, int]:
    """The cohort's group and the id of the account with this (checked) email; UnknownAccount says `how_to_fix`."""
    find_cohort(conn, cohort_id)
    group = group_of_cohort(conn, cohort_id, group_id)
    user_id = store.account_ids(conn, [email]).get(email)
    if user_id is None:
        raise UnknownAccount(f"No account has the email {email}: {how_to_fix}.")
    return group, user_id


def place_learner(db: Db, cohort_id: int, *, email, group_id, now=None) -> Placed:
    """Put the account with this email in a group of the cohort, moving them from another of its groups."""
    email = checked_email(email)
    with db.transaction() as conn:
        group, user_id = group_and_account(conn, cohort_id, group_id, email, "they sign up first, then you can add them")
        before = store.group_in_cohort(conn, user_id, cohort_id)
        store.place_in_group(conn, cohort_id, group.id, user_id, now or utc_now())
        moved_from = store.find_group(conn, before).name if before not in (None, group.id) else None
        return Placed(email, group.name, moved_from, before == group.id)


def make_facilitator(db: Db, cohort_id: int, *, email, group_id, now=None) -> bool:
    """Make the account a facilitator of a group of the cohort, giving it the role; False when it already was."""
    email = checked_email(email)
    with db.transaction() as conn:
        group, user_id = group_and_account(conn, cohort_id, group_id, email, "they sign up (or an admin runs create-facilitator) first")
        store.set_facilitator_role(conn, user_id)
        return store.add_facilitator(conn, group.id, user_id, now or utc_now())


def leave_group(db: Db, user_id: int, group_id: int) -> bool:
    """Take the learner out of the group; their progress stays. False when they were not in it."""
    with db.transaction() as conn:
        return store.leave(conn, user_id, group_id)
