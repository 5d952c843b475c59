"""Cohorts of a course, their groups, facilitators and invite links; schedules and what is due by each meeting. No Flask here.

service.py (cohorts, groups, placing learners), invites.py, csv_import.py, schedule.py (pure),
pages.py (what the pages read), access.py (who may see whom), store.py (all the SQL).
"""
from . import access
from .csv_import import ImportReport, import_memberships
from .errors import (
    CohortError, ExpiredInvite, ImportRefused, InAnotherGroup, InvalidInput, InviteProblem, NameTaken, NotAllowed,
    RevokedInvite, UnknownAccount, UnknownCohort, UnknownGroup, UnknownInvite,
)
from .invites import DEFAULT_INVITE_DAYS, create_invite, invite_details, join_by_invite, revoke_invite
from .pages import cohort_page, cohorts_page, my_groups
from .schedule import WEEKDAYS, ScheduledMeeting, WeeklySlot, meeting_schedule, modules_due_by_meeting, weekly_meeting_times
from .service import create_cohort, create_group, group_schedule, leave_group, make_facilitator, place_learner

__all__ = [
    "DEFAULT_INVITE_DAYS", "WEEKDAYS", "CohortError", "ExpiredInvite", "ImportRefused", "ImportReport", "InAnotherGroup",
    "InvalidInput", "InviteProblem", "NameTaken", "NotAllowed", "RevokedInvite", "ScheduledMeeting", "UnknownAccount",
    "UnknownCohort", "UnknownGroup", "UnknownInvite", "WeeklySlot", "access", "cohort_page", "cohorts_page",
    "create_cohort", "create_group", "create_invite", "group_schedule", "import_memberships", "invite_details",
    "join_by_invite", "leave_group", "make_facilitator", "meeting_schedule", "modules_due_by_meeting", "my_groups",
    "place_learner", "revoke_invite", "weekly_meeting_times",
]
