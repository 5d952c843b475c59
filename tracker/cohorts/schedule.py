"""When a group meets, and what is due by each meeting. Pure functions: no database, no Flask.

A course places meetings between its modules (Course.meetings); a module is due by the first
meeting after it. A cohort gives those meetings dates: its own list of dates wins, else the
group's weekly slot, else the cohort's weekly rule. A weekly rule counts from the cohort's start
date: the first meeting is on the first matching weekday on or after it, then one a week, always
at the same local time, so the UTC time moves when the clocks change.
"""
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from tracker.content.model import Course, ModuleRef

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class WeeklySlot:
    """Every week on `weekday` (0 is Monday) at `local_time` on the clocks of `time_zone` (an IANA name)."""

    weekday: int
    local_time: time
    time_zone: str

    @property
    def label(self) -> str:
        return f"{WEEKDAYS[self.weekday]}s at {self.local_time:%H:%M} ({self.time_zone})"


@dataclass(frozen=True)
class ScheduledMeeting:
    """One meeting of a group: the course's meeting `number`, when it starts, and the modules due by it."""

    number: int
    name: str
    starts_at: datetime | None  # UTC; None when the cohort's dates stop short of the course's meetings
    time_zone: str  # the clock the meeting is set by, to show it in local time
    modules_due: tuple[ModuleRef, ...]


def weekly_meeting_times(starts_on: date, slot: WeeklySlot, count: int) -> list[datetime]:
    """The first `count` meetings of the slot from `starts_on`, in UTC."""
    zone = ZoneInfo(slot.time_zone)
    first = starts_on + timedelta(days=(slot.weekday - starts_on.weekday()) % 7)
    # Whole days on the local calendar, then the zone's offset on that day: 18:00 stays 18:00 across a change.
    return [
        datetime.combine(first + timedelta(weeks=week), slot.local_time, tzinfo=zone).astimezone(timezone.utc)
        for week in range(count)
    ]


def modules_due_by_meeting(course: Course) -> dict[int, tuple[ModuleRef, ...]]:
    """For each meeting number, the modules listed after the previous meeting and before it."""
    due: dict[int, list[ModuleRef]] = {meeting.number: [] for meeting in course.meetings}
    for position, ref in enumerate(course.module_refs):
        meeting = course.meeting_before(position)
        if meeting is not None:
            due[meeting.number].append(ref)
    return {number: tuple(refs) for number, refs in due.items()}


def meeting_schedule(
    course: Course,
    starts_on: date,
    time_zone: str,
    dates: dict[int, datetime],
    group_slot: WeeklySlot | None,
    cohort_slot: WeeklySlot | None,
) -> list[ScheduledMeeting]:
    """Each of the course's meetings with its time for one group, and the modules due by it."""
    count = len(course.meetings)
    if dates:
        times, zone = [dates.get(meeting.number) for meeting in course.meetings], time_zone
    elif group_slot or cohort_slot:
        slot = group_slot or cohort_slot
        times, zone = weekly_meeting_times(starts_on, slot, count), slot.time_zone
    else:
        times, zone = [None] * count, time_zone
    due = modules_due_by_meeting(course)
    return [
        ScheduledMeeting(meeting.number, meeting.name, starts_at, zone, due[meeting.number])
        for meeting, starts_at in zip(course.meetings, times)
    ]


def next_meeting(schedule: list[ScheduledMeeting], now: datetime) -> ScheduledMeeting | None:
    """The first meeting that has not started yet."""
    return next((m for m in schedule if m.starts_at is not None and m.starts_at > now), None)
