"""The facilitator pages' entry points: my groups, a group, one member, a cohort's groups side by side. No Flask here.

Each checks who is asking through `access` first, so a facilitator never reads a group or a
learner that is not theirs, by any of these, and then reads in one transaction.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from tracker.clock import utc_now
from tracker.content import ContentIndex
from tracker.database import Db
from tracker.learner import Learner
from tracker.progress.daily import seconds_per_week
from tracker.progress.dashboard import find_account, learner_detail

from . import access, store
from .access import Viewer
from .errors import NotAllowed, UnknownCohort, UnknownGroup, UnknownInvite
from .group_report import GroupReport, read_group_report
from .invites import NewInvite, create_invite
from .pages import InviteState, invite_state

WEEKS_SHOWN = 12


def require_staff(viewer: Viewer) -> None:
    if not (viewer.is_admin or viewer.is_facilitator):
        raise NotAllowed("These pages are for facilitators and admins.")


def require_group(db: Db, viewer: Viewer, group_id: int) -> None:
    require_staff(viewer)
    if not access.may_see_group(db, viewer, group_id):
        raise NotAllowed("You do not facilitate this group.")


def groups_page(db: Db, index: ContentIndex, viewer: Viewer, now: datetime | None = None) -> list[GroupReport]:
    """Each group the viewer facilitates (every group, for an admin), with its next meeting and who is ready for it."""
    require_staff(viewer)
    now = now or utc_now()
    ids = None if viewer.is_admin else access.facilitated_group_ids(db, viewer)
    with db.transaction() as conn:
        query = select(store.groups.c.id).order_by(store.groups.c.cohort_id.desc(), store.groups.c.name)
        if ids is not None:
            query = query.where(store.groups.c.id.in_(sorted(ids)))
        return [read_group_report(conn, index, group_id, now) for group_id in conn.execute(query).scalars()]


def group_page(db: Db, index: ContentIndex, viewer: Viewer, group_id: int, now: datetime | None = None) -> GroupReport:
    """Members × modules due so far, with each member's time, activity and the behind flag."""
    require_group(db, viewer, group_id)
    with db.transaction() as conn:
        return read_group_report(conn, index, group_id, now or utc_now())


def group_invites(db: Db, viewer: Viewer, group_id: int, now: datetime | None = None) -> list[InviteState]:
    """The group's invite links, newest first, for its facilitators and admins to share or revoke."""
    require_group(db, viewer, group_id)
    now = now or utc_now()
    with db.transaction() as conn:
        group = store.find_group(conn, group_id)
        return [invite_state(row, now) for row in store.invites_of(conn, group.cohort_id) if row.group_id == group_id]


def new_group_invite(db: Db, viewer: Viewer, group_id: int, expires_in_days) -> NewInvite:
    """A new invite link to the group, made by one of its facilitators (or an admin)."""
    require_group(db, viewer, group_id)
    if not access.may_invite_to_group(db, viewer, group_id):
        raise NotAllowed("You may not share invite links to this group.")
    with db.transaction() as conn:
        cohort_id = store.find_group(conn, group_id).cohort_id
    return create_invite(db, cohort_id, group_id=str(group_id), created_by=viewer.user_id, expires_in_days=expires_in_days)


def revoke_group_invite(db: Db, viewer: Viewer, group_id: int, invite_id: int, now: datetime | None = None) -> None:
    """Withdraw one of the group's invite links; an invite of another group, even of the same cohort, is not found."""
    require_group(db, viewer, group_id)
    with db.transaction() as conn:
        found = conn.execute(
            select(store.invites.c.id).where(store.invites.c.id == invite_id, store.invites.c.group_id == group_id)
        ).first()
        if found is None:
            raise UnknownInvite(f"This group has no invite link {invite_id}.")
        store.revoke_invite(conn, store.find_group(conn, group_id).cohort_id, invite_id, now or utc_now())


@dataclass(frozen=True)
class MemberPage:
    group: store.GroupRow
    detail: dict  # as the admin's learner page has it: modules with LO and lens rows, tutor chats
    weeks: list  # (Monday, seconds) for the last WEEKS_SHOWN weeks


def member_page(db: Db, index: ContentIndex, viewer: Viewer, group_id: int, user_id: int, now: datetime | None = None) -> MemberPage:
    """One member of the group, read-only: their modules, their week-by-week time and their tutor chats."""
    require_group(db, viewer, group_id)
    now = now or utc_now()
    with db.transaction() as conn:
        group = store.find_group(conn, group_id)
        member = conn.execute(
            select(store.memberships.c.id).where(store.memberships.c.group_id == group_id, store.memberships.c.user_id == user_id)
        ).first()
        found = find_account(conn, user_id) if member else None
        if group is None or found is None:
            raise UnknownGroup("This learner is not a member of this group.")
        detail = learner_detail(conn, index, found)
        return MemberPage(group, detail, seconds_per_week(conn, Learner(user_id=user_id), now.date(), WEEKS_SHOWN))


@dataclass(frozen=True)
class CohortComparison:
    cohort: store.CohortRow
    groups: list[GroupReport]


def cohort_comparison(db: Db, index: ContentIndex, viewer: Viewer, cohort_id: int, now: datetime | None = None) -> CohortComparison:
    """Every group of a cohort side by side (admins only): members, next meeting, ready, behind, time this week."""
    require_staff(viewer)
    if not access.may_administer(viewer):
        raise NotAllowed("Comparing the groups of a cohort is for admins.")
    now = now or utc_now()
    with db.transaction() as conn:
        cohort = store.find_cohort(conn, cohort_id)
        if cohort is None:
            raise UnknownCohort(f"There is no cohort {cohort_id}.")
        reports = [read_group_report(conn, index, group.id, now) for group in store.groups_of(conn, cohort_id)]
        return CohortComparison(cohort, reports)
