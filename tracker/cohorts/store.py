"""All the SQL of cohorts, their meeting dates, groups, memberships, facilitators and invites,
and what a learner's data needs of them (export, delete). Each function takes the caller's connection."""
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import Connection, delete, false, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from tracker.clock import as_utc
from tracker.models import Cohort, CohortGroup, CohortMeeting, GroupFacilitator, GroupInvite, GroupMembership, User

from .errors import NameTaken
from .schedule import WeeklySlot

cohorts, meetings, groups = Cohort.__table__, CohortMeeting.__table__, CohortGroup.__table__
memberships, facilitators, invites = GroupMembership.__table__, GroupFacilitator.__table__, GroupInvite.__table__
users = User.__table__


@dataclass(frozen=True)
class CohortRow:
    id: int
    course_slug: str
    name: str
    starts_on: date
    time_zone: str
    weekly: WeeklySlot | None


@dataclass(frozen=True)
class GroupRow:
    id: int
    cohort_id: int
    name: str
    weekly: WeeklySlot | None  # its own slot; None: it meets when the cohort does


def slot_of(weekday: int | None, local_time: time | None, time_zone: str | None) -> WeeklySlot | None:
    return None if weekday is None else WeeklySlot(weekday, local_time, time_zone)


def as_cohort(row) -> CohortRow:
    return CohortRow(row.id, row.course_slug, row.name, row.starts_on, row.time_zone,
                     slot_of(row.weekly_weekday, row.weekly_local_time, row.time_zone))


def as_group(row) -> GroupRow:
    return GroupRow(row.id, row.cohort_id, row.name, slot_of(row.weekly_weekday, row.weekly_local_time, row.time_zone))


def dialect_insert(conn: Connection):
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def insert_named(conn: Connection, table, values: dict, taken: str) -> int:
    """Insert a cohort or group; a name already used (by a concurrent request too) is NameTaken, cleanly."""
    try:
        with conn.begin_nested():
            return conn.execute(insert(table).values(**values).returning(table.c.id)).scalar_one()
    except IntegrityError:
        raise NameTaken(taken) from None


# --- Cohorts and their meetings ------------------------------------------------------------------


def insert_cohort(conn: Connection, course_slug: str, name: str, starts_on: date, time_zone: str, weekly: WeeklySlot | None) -> int:
    values = {
        "course_slug": course_slug, "name": name, "starts_on": starts_on, "time_zone": time_zone,
        "weekly_weekday": weekly and weekly.weekday, "weekly_local_time": weekly and weekly.local_time,
    }
    return insert_named(conn, cohorts, values, f"The course already has a cohort called “{name}”: pick another name.")


def insert_meeting_dates(conn: Connection, cohort_id: int, starts: list[datetime]) -> None:
    rows = [{"cohort_id": cohort_id, "meeting_number": number, "starts_at": at} for number, at in enumerate(starts, 1)]
    if rows:
        conn.execute(insert(meetings), rows)


def find_cohort(conn: Connection, cohort_id: int) -> CohortRow | None:
    row = conn.execute(select(cohorts).where(cohorts.c.id == cohort_id)).one_or_none()
    return as_cohort(row) if row else None


def all_cohorts(conn: Connection) -> list[tuple[CohortRow, int, int]]:
    """Every cohort, newest start first, with how many groups and members it has."""
    group_count = select(func.count()).where(groups.c.cohort_id == cohorts.c.id).scalar_subquery()
    member_count = select(func.count()).where(memberships.c.cohort_id == cohorts.c.id).scalar_subquery()
    query = select(cohorts, group_count.label("group_count"), member_count.label("member_count")).order_by(
        cohorts.c.starts_on.desc(), cohorts.c.id.desc()
    )
    return [(as_cohort(row), row.group_count, row.member_count) for row in conn.execute(query)]


def meeting_dates(conn: Connection, cohort_id: int) -> dict[int, datetime]:
    query = select(meetings.c.meeting_number, meetings.c.starts_at).where(meetings.c.cohort_id == cohort_id)
    return {row.meeting_number: as_utc(row.starts_at) for row in conn.execute(query)}


# --- Groups ----------------------------------------------------------------------------------------


def insert_group(conn: Connection, cohort_id: int, name: str, weekly: WeeklySlot | None) -> int:
    values = {
        "cohort_id": cohort_id, "name": name, "weekly_weekday": weekly and weekly.weekday,
        "weekly_local_time": weekly and weekly.local_time, "time_zone": weekly and weekly.time_zone,
    }
    return insert_named(conn, groups, values, f"The cohort already has a group called “{name}”: pick another name.")


def find_group(conn: Connection, group_id: int) -> GroupRow | None:
    row = conn.execute(select(groups).where(groups.c.id == group_id)).one_or_none()
    return as_group(row) if row else None


def groups_of(conn: Connection, cohort_id: int) -> list[GroupRow]:
    query = select(groups).where(groups.c.cohort_id == cohort_id).order_by(groups.c.name, groups.c.id)
    return [as_group(row) for row in conn.execute(query)]


def members_of(conn: Connection, cohort_id: int) -> list:
    """(group_id, user_id, email, display_name, joined_at) of the cohort's members, by group and email."""
    query = (
        select(memberships.c.group_id, users.c.id.label("user_id"), users.c.email, users.c.display_name, memberships.c.joined_at)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.cohort_id == cohort_id)
        .order_by(memberships.c.group_id, users.c.email)
    )
    return conn.execute(query).all()


def facilitators_of(conn: Connection, cohort_id: int) -> list:
    """(group_id, user_id, email, display_name) of the cohort's groups' facilitators."""
    query = (
        select(facilitators.c.group_id, users.c.id.label("user_id"), users.c.email, users.c.display_name)
        .join(users, users.c.id == facilitators.c.user_id)
        .join(groups, groups.c.id == facilitators.c.group_id)
        .where(groups.c.cohort_id == cohort_id)
        .order_by(facilitators.c.group_id, users.c.email)
    )
    return conn.execute(query).all()


# --- Accounts --------------------------------------------------------------------------------------


def account_ids(conn: Connection, emails: list[str]) -> dict[str, int]:
    """{email: account id} of the emails (already normalised) that have an account."""
    found: dict[str, int] = {}
    for first in range(0, len(emails), 500):  # SQLite allows only so many bound parameters
        query = select(users.c.email, users.c.id).where(users.c.email.in_(emails[first:first + 500]))
        found.update((key, value) for key, value in conn.execute(query))
    return found


def set_facilitator_role(conn: Connection, user_id: int) -> None:
    conn.execute(update(users).where(users.c.id == user_id, users.c.is_facilitator.is_(False)).values(is_facilitator=True))


# --- Memberships -----------------------------------------------------------------------------------


def group_in_cohort(conn: Connection, user_id: int, cohort_id: int) -> int | None:
    """The group the learner is in in this cohort, if any."""
    query = select(memberships.c.group_id).where(memberships.c.user_id == user_id, memberships.c.cohort_id == cohort_id)
    return conn.execute(query).scalar_one_or_none()


def place_in_group(conn: Connection, cohort_id: int, group_id: int, user_id: int, now: datetime) -> None:
    """Put the learner in the group, moving them out of the cohort's other group if they are in one.

    One INSERT ... ON CONFLICT on the one-group-per-cohort constraint: two placements at once
    cannot give the learner two groups, and the later one decides where they are.
    """
    place_many(conn, cohort_id, [(user_id, group_id)], now)


def groups_in_cohort(conn: Connection, cohort_id: int, user_ids: list[int]) -> dict[int, int]:
    """{account id: group id} of those of the accounts that are in a group of the cohort."""
    found: dict[int, int] = {}
    for first in range(0, len(user_ids), 500):
        query = select(memberships.c.user_id, memberships.c.group_id).where(
            memberships.c.cohort_id == cohort_id, memberships.c.user_id.in_(user_ids[first:first + 500])
        )
        found.update((key, value) for key, value in conn.execute(query))
    return found


def place_many(conn: Connection, cohort_id: int, placements: list[tuple[int, int]], now: datetime) -> None:
    """place_in_group for each (account id, group id), as one statement executed for all of them."""
    statement = dialect_insert(conn)(memberships)
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "cohort_id"],
        set_={"group_id": statement.excluded.group_id, "joined_at": statement.excluded.joined_at},
        where=memberships.c.group_id != statement.excluded.group_id,
    )
    rows = [{"group_id": group_id, "cohort_id": cohort_id, "user_id": user_id, "joined_at": now} for user_id, group_id in placements]
    if rows:
        conn.execute(statement, rows)


def join_unless_in_cohort(conn: Connection, cohort_id: int, group_id: int, user_id: int, now: datetime) -> tuple[int, bool]:
    """Join the group unless the learner is already in one of the cohort's groups.

    Returns the group they are in now, and whether they joined it just now. ON CONFLICT DO
    NOTHING: of two joins at once (two invite links, two tabs), one wins and the other finds the
    learner in the winner's group.
    """
    statement = dialect_insert(conn)(memberships).values(group_id=group_id, cohort_id=cohort_id, user_id=user_id, joined_at=now)
    inserted = statement.on_conflict_do_nothing(index_elements=["user_id", "cohort_id"]).returning(memberships.c.id)
    joined = conn.execute(inserted).first() is not None  # RETURNING, not rowcount: drivers disagree on an insert's
    return group_in_cohort(conn, user_id, cohort_id), joined


def leave(conn: Connection, user_id: int, group_id: int) -> bool:
    deleted = conn.execute(delete(memberships).where(memberships.c.user_id == user_id, memberships.c.group_id == group_id))
    return deleted.rowcount == 1


def memberships_of(conn: Connection, user_id: int) -> list:
    """The learner's groups with their cohorts, oldest membership first."""
    query = (
        select(
            memberships.c.joined_at, groups.c.id.label("group_id"), groups.c.name.label("group_name"),
            groups.c.weekly_weekday, groups.c.weekly_local_time, groups.c.time_zone.label("group_time_zone"),
            cohorts.c.id.label("cohort_id"), cohorts.c.name.label("cohort_name"), cohorts.c.course_slug,
        )
        .join(groups, groups.c.id == memberships.c.group_id)
        .join(cohorts, cohorts.c.id == memberships.c.cohort_id)
        .where(memberships.c.user_id == user_id)
        .order_by(memberships.c.joined_at, memberships.c.id)
    )
    return conn.execute(query).all()


def delete_memberships(conn: Connection, user_id: int) -> int:
    """Take the learner out of every group; return how many they were in."""
    return conn.execute(delete(memberships).where(memberships.c.user_id == user_id)).rowcount


# --- Facilitators ----------------------------------------------------------------------------------


def add_facilitator(conn: Connection, group_id: int, user_id: int, now: datetime) -> bool:
    """Make the account a facilitator of the group; False when it already was."""
    statement = dialect_insert(conn)(facilitators).values(group_id=group_id, user_id=user_id, added_at=now)
    inserted = statement.on_conflict_do_nothing(index_elements=["group_id", "user_id"]).returning(facilitators.c.id)
    return conn.execute(inserted).first() is not None


def facilitations_of(conn: Connection, user_id: int) -> list:
    """The groups the account facilitates, with their cohorts, first added first."""
    query = (
        select(facilitators.c.added_at, groups.c.name.label("group_name"), cohorts.c.name.label("cohort_name"), cohorts.c.course_slug)
        .join(groups, groups.c.id == facilitators.c.group_id)
        .join(cohorts, cohorts.c.id == groups.c.cohort_id)
        .where(facilitators.c.user_id == user_id)
        .order_by(facilitators.c.added_at, facilitators.c.id)
    )
    return conn.execute(query).all()


def delete_facilitations(conn: Connection, user_id: int) -> int:
    """Take the account off every group it facilitates; return how many there were."""
    return conn.execute(delete(facilitators).where(facilitators.c.user_id == user_id)).rowcount


def facilitated_groups(conn: Connection, user_id: int) -> frozenset[int]:
    return frozenset(conn.execute(select(facilitators.c.group_id).where(facilitators.c.user_id == user_id)).scalars())


def facilitates_member(conn: Connection, facilitator_id: int, learner_id: int) -> bool:
    """Whether the learner is in a group the account facilitates."""
    query = select(memberships.c.id).join(facilitators, facilitators.c.group_id == memberships.c.group_id).where(
        facilitators.c.user_id == facilitator_id, memberships.c.user_id == learner_id
    )
    return conn.execute(query.limit(1)).first() is not None


def members_facilitated_by(facilitator_id: int):
    """A SELECT of the account ids in groups the account facilitates, to filter any query of learners by."""
    return (
        select(memberships.c.user_id)
        .join(facilitators, facilitators.c.group_id == memberships.c.group_id)
        .where(facilitators.c.user_id == facilitator_id)
    )


def no_accounts():
    """A SELECT of account ids that is always empty: what a learner sees of other learners."""
    return select(users.c.id).where(false())


# --- Invites ---------------------------------------------------------------------------------------


def insert_invite(conn: Connection, group_id: int, token_sha256: str, created_by: int, now: datetime, expires_at: datetime | None) -> int:
    values = {"group_id": group_id, "token_sha256": token_sha256, "created_by": created_by, "created_at": now, "expires_at": expires_at}
    return conn.execute(insert(invites).values(**values).returning(invites.c.id)).scalar_one()


def find_invite(conn: Connection, token_sha256: str):
    """The invite with this token's hash, with its group and cohort; None for no such invite."""
    query = (
        select(invites.c.id, invites.c.expires_at, invites.c.revoked_at, groups.c.id.label("group_id"),
               groups.c.name.label("group_name"), cohorts.c.id.label("cohort_id"), cohorts.c.name.label("cohort_name"),
               cohorts.c.course_slug)
        .join(groups, groups.c.id == invites.c.group_id)
        .join(cohorts, cohorts.c.id == groups.c.cohort_id)
        .where(invites.c.token_sha256 == token_sha256)
    )
    return conn.execute(query).one_or_none()


def invites_of(conn: Connection, cohort_id: int) -> list:
    """The invites of the cohort's groups, newest first, with who made them."""
    query = (
        select(invites.c.id, invites.c.group_id, invites.c.created_at, invites.c.expires_at, invites.c.revoked_at,
               users.c.email.label("created_by_email"))
        .join(groups, groups.c.id == invites.c.group_id)
        .join(users, users.c.id == invites.c.created_by)
        .where(groups.c.cohort_id == cohort_id)
        .order_by(invites.c.created_at.desc(), invites.c.id.desc())
    )
    return conn.execute(query).all()


def invites_made_by(conn: Connection, user_id: int) -> list:
    """The invites the account made, oldest first, with their groups and cohorts (never the token's hash)."""
    query = (
        select(invites.c.created_at, invites.c.expires_at, invites.c.revoked_at, groups.c.name.label("group_name"),
               cohorts.c.name.label("cohort_name"), cohorts.c.course_slug)
        .join(groups, groups.c.id == invites.c.group_id)
        .join(cohorts, cohorts.c.id == groups.c.cohort_id)
        .where(invites.c.created_by == user_id)
        .order_by(invites.c.created_at, invites.c.id)
    )
    return conn.execute(query).all()


def delete_invites_made_by(conn: Connection, user_id: int) -> int:
    """Remove the invites the account made (their links stop working); return how many there were."""
    return conn.execute(delete(invites).where(invites.c.created_by == user_id)).rowcount


def revoke_invite(conn: Connection, cohort_id: int, invite_id: int, now: datetime) -> bool:
    """Withdraw the invite, if it is one of the cohort's; revoking again keeps the first time. False: no such invite."""
    of_cohort = select(groups.c.id).where(groups.c.cohort_id == cohort_id)
    found = invites.c.id == invite_id, invites.c.group_id.in_(of_cohort)
    conn.execute(update(invites).where(*found, invites.c.revoked_at.is_(None)).values(revoked_at=now))
    return conn.execute(select(invites.c.id).where(*found)).first() is not None
