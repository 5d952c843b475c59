"""What a facilitator sees before a meeting: each member of a group against what is due by it. No Flask here.

**Due so far** are the modules due by the group's next meeting and by every meeting before it
(all of the course's meetings once the last one has passed). A member is **behind** when both
hold: they have not completed every required lens of those modules, and the time they spent on
them is less than the share of the modules' estimates that the calendar asks for by now, which
is the whole estimate of modules due by past meetings plus, for those due by the next meeting,
the estimate times the part of the preparation time that has gone by (from the previous meeting,
or the cohort's start, to the next meeting). A member who has done everything due is never
behind; one who has put in the time is not behind yet, even with lenses left.

Every number is read for the group's members only, through indexes that lead with the learner
(progress, the daily ledger, chat sessions), so a page costs the same whatever the size of the
rest of the database.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from tracker.chat.store import messages, sessions
from tracker.clock import as_utc, utc_now
from tracker.content import ContentIndex, Course, Module
from tracker.content.estimates import estimate_s
from tracker.database import Db
from tracker.models import User
from tracker.progress.daily import as_date, days, week_start
from tracker.progress.model import progress

from . import store
from .errors import UnknownGroup
from .schedule import ScheduledMeeting
from .service import schedule_of
from .store import CohortRow, GroupRow

users = User.__table__
NOT_STARTED, IN_PROGRESS, COMPLETED = "not started", "in progress", "completed"


@dataclass(frozen=True)
class ModuleCell:
    status: str  # NOT_STARTED, IN_PROGRESS or COMPLETED
    time_s: int
    completed_at: datetime | None


@dataclass(frozen=True)
class MemberRow:
    user_id: int
    name: str  # the display name, or the email when there is none
    email: str
    cells: tuple[ModuleCell, ...]  # one per due module, in course order
    required_done: int
    required_due: int
    this_week_s: int
    last_week_s: int
    last_active: datetime | None
    messages_to_tutor: int
    spent_due_s: int  # time on the modules due so far
    expected_s: int  # the share of their estimates that the calendar asks for by now
    behind: bool


@dataclass(frozen=True)
class GroupReport:
    group: GroupRow
    cohort: CohortRow
    course: Course | None
    schedule: tuple[ScheduledMeeting, ...]
    next_meeting: ScheduledMeeting | None
    due_modules: tuple[Module, ...]
    members: tuple[MemberRow, ...]  # behind first, then by name
    week_of: date  # the Monday (UTC) of "this week"
    now: datetime

    @property
    def done_count(self) -> int:
        return sum(1 for m in self.members if m.required_done == m.required_due)

    @property
    def behind_count(self) -> int:
        return sum(1 for m in self.members if m.behind)


def group_report(db: Db, index: ContentIndex, group_id: int, now: datetime | None = None) -> GroupReport:
    """The group page's numbers, read in one transaction so that they agree with each other."""
    now = now or utc_now()
    with db.transaction() as conn:
        return read_group_report(conn, index, group_id, now)


def read_group_report(conn: Connection, index: ContentIndex, group_id: int, now: datetime) -> GroupReport:
    group = store.find_group(conn, group_id)
    if group is None:
        raise UnknownGroup(f"There is no group {group_id}.")
    cohort = store.find_cohort(conn, group.cohort_id)
    course = index.courses_by_slug.get(cohort.course_slug)  # None once the content no longer has it: nothing is due
    schedule = tuple(schedule_of(conn, index, cohort, group))
    upcoming = next((m for m in schedule if m.starts_at is not None and m.starts_at > now), None)
    due_by = [m for m in schedule if upcoming is None or m.number <= upcoming.number]
    due_modules = tuple(ref.module for meeting in due_by for ref in meeting.modules_due if not ref.optional)
    expected = expected_seconds(index, cohort, schedule, upcoming, due_by, now)
    members = conn.execute(
        select(users.c.id, users.c.email, users.c.display_name)
        .join(store.memberships, store.memberships.c.user_id == users.c.id)
        .where(store.memberships.c.group_id == group_id)
    ).all()
    ids = [member.id for member in members]
    week_of = week_start(now.date())
    rows = progress_of(conn, ids, due_modules)
    weeks = week_seconds(conn, ids, week_of)
    last_active = last_heartbeats(conn, ids)
    chats = learner_messages(conn, ids)
    report_rows = []
    for member in members:
        mine = rows.get(member.id, {})
        cells = tuple(cell(mine.get(module.id)) for module in due_modules)
        required = frozenset().union(*(module.required_lens_ids for module in due_modules))
        done = sum(1 for lens_id in required if mine.get(lens_id) is not None and mine[lens_id].completed_at is not None)
        spent = sum(c.time_s for c in cells)
        report_rows.append(MemberRow(
            user_id=member.id, name=member.display_name or member.email, email=member.email, cells=cells,
            required_done=done, required_due=len(required),
            this_week_s=weeks.get((member.id, week_of), 0), last_week_s=weeks.get((member.id, week_of - timedelta(weeks=1)), 0),
            last_active=last_active.get(member.id), messages_to_tutor=chats.get(member.id, 0),
            spent_due_s=spent, expected_s=expected, behind=done < len(required) and spent < expected,
        ))
    report_rows.sort(key=lambda m: (not m.behind, m.name.lower(), m.user_id))
    return GroupReport(group, cohort, course, schedule, upcoming, due_modules, tuple(report_rows), week_of, now)


def module_estimate_s(index: ContentIndex, module: Module) -> int:
    return sum(estimate_s(s.lens, index.chat_allowance_s) for s in module.sections if not s.optional)


def expected_seconds(index, cohort: CohortRow, schedule, upcoming, due_by, now: datetime) -> int:
    """What the calendar asks of a member by now: see the module docstring."""
    total = 0.0
    for meeting in due_by:
        share = 1.0
        if meeting is upcoming:
            before = [m for m in schedule if m.number < meeting.number and m.starts_at is not None]
            opened = before[-1].starts_at if before else cohort_start(cohort)
            length = (meeting.starts_at - opened).total_seconds()
            share = min(1.0, max(0.0, (now - opened).total_seconds() / length)) if length > 0 else 1.0
        total += share * sum(module_estimate_s(index, ref.module) for ref in meeting.modules_due if not ref.optional)
    return round(total)


def cohort_start(cohort: CohortRow) -> datetime:
    """Midnight at the start of the cohort's first day, on its own clock."""
    return datetime.combine(cohort.starts_on, time.min, tzinfo=ZoneInfo(cohort.time_zone))


def cell(row) -> ModuleCell:
    if row is None:
        return ModuleCell(NOT_STARTED, 0, None)
    status = COMPLETED if row.completed_at is not None else IN_PROGRESS
    return ModuleCell(status, row.total_time_spent_s, as_utc(row.completed_at))


def chunks(ids: list, size: int = 500):
    """SQLite allows only so many bound parameters; groups are small, so this is one chunk nearly always."""
    for first in range(0, len(ids), size):
        yield ids[first:first + size]


def progress_of(conn: Connection, user_ids: list[int], modules: tuple[Module, ...]) -> dict[int, dict]:
    """{user id: {content id: row}} for the modules and their required lenses."""
    content_ids = list({m.id for m in modules} | frozenset().union(*(m.required_lens_ids for m in modules)))
    found: dict[int, dict] = {}
    if not content_ids:
        return found
    for some in chunks(user_ids):
        query = select(
            progress.c.user_id, progress.c.content_id, progress.c.total_time_spent_s, progress.c.completed_at,
        ).where(progress.c.user_id.in_(some), progress.c.content_id.in_(content_ids))
        for row in conn.execute(query):
            found.setdefault(row.user_id, {})[row.content_id] = row
    return found


def week_seconds(conn: Connection, user_ids: list[int], this_week: date) -> dict[tuple[int, date], int]:
    """{(user id, Monday): seconds} for this week and last week, from the daily ledger."""
    found: dict[tuple[int, date], int] = {}
    for some in chunks(user_ids):
        query = (
            select(days.c.user_id, days.c.utc_day, func.sum(days.c.active_s))
            .where(days.c.user_id.in_(some), days.c.utc_day >= this_week - timedelta(weeks=1))
            .group_by(days.c.user_id, days.c.utc_day)
        )
        for user_id, day, seconds in conn.execute(query):
            key = (user_id, week_start(as_date(day)))
            found[key] = found.get(key, 0) + seconds
    return found


def last_heartbeats(conn: Connection, user_ids: list[int]) -> dict[int, datetime]:
    """{user id: the last moment they were credited time}, over every module."""
    found = {}
    for some in chunks(user_ids):
        query = (
            select(progress.c.user_id, func.max(progress.c.last_heartbeat_at))
            .where(progress.c.user_id.in_(some), progress.c.content_type == "module")
            .group_by(progress.c.user_id)
        )
        found.update((user_id, as_utc(last)) for user_id, last in conn.execute(query) if last is not None)
    return found


def learner_messages(conn: Connection, user_ids: list[int]) -> dict[int, int]:
    """{user id: messages they sent to the tutor}, in any lens."""
    found = {}
    for some in chunks(user_ids):
        query = (
            select(sessions.c.user_id, func.count())
            .select_from(sessions.join(messages, messages.c.session_id == sessions.c.id))
            .where(sessions.c.user_id.in_(some), messages.c.role == "learner")
            .group_by(sessions.c.user_id)
        )
        found.update((user_id, count) for user_id, count in conn.execute(query))
    return found
