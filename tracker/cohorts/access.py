"""Who may see whom: the one place that answers it. No Flask here.

- An admin sees every learner and every group, and alone manages cohorts.
- A facilitator (an account with the role) sees the groups they facilitate, and the learners in
  them; no one else. Without the role, being listed as a group's facilitator grants nothing.
- Everyone, an anonymous learner too, sees themselves.

Pages and exports that list learners filter with `visible_learner_ids`, so that a search or a
download can never reach past what `may_see_learner` allows one learner at a time.
"""
from dataclasses import dataclass
from uuid import UUID

from sqlalchemy import Select

from tracker.database import Db
from tracker.learner import Learner

from . import store
from .errors import NotAllowed


@dataclass(frozen=True)
class Viewer:
    """Who is asking: an account with its roles, or an anonymous learner."""

    user_id: int | None = None
    is_admin: bool = False
    is_facilitator: bool = False
    anonymous_token: UUID | None = None

    @classmethod
    def of(cls, user, anonymous_token: UUID | None = None) -> "Viewer":
        """The viewer for a logged-in user (anything with id, is_admin and is_facilitator), else the token."""
        if getattr(user, "is_authenticated", False):
            return cls(user.id, bool(user.is_admin), bool(user.is_facilitator))
        return cls(anonymous_token=anonymous_token)

    def is_self(self, learner: Learner) -> bool:
        if learner.user_id is not None:
            return learner.user_id == self.user_id
        return learner.anonymous_token is not None and learner.anonymous_token == self.anonymous_token


def may_administer(viewer: Viewer) -> bool:
    """The admin pages, cohorts and groups included."""
    return viewer.is_admin


def may_see_learner(db: Db, viewer: Viewer, learner: Learner) -> bool:
    """Whether the viewer may see this learner's progress, time and chats."""
    if viewer.is_admin or viewer.is_self(learner):
        return True
    if not viewer.is_facilitator or learner.user_id is None:  # anonymous learners are in no group
        return False
    with db.transaction() as conn:
        return store.facilitates_member(conn, viewer.user_id, learner.user_id)


def may_see_group(db: Db, viewer: Viewer, group_id: int) -> bool:
    """Whether the viewer may see the group, its members and their progress."""
    if viewer.is_admin:
        return True
    return group_id in facilitated_group_ids(db, viewer)


def may_invite_to_group(db: Db, viewer: Viewer, group_id: int) -> bool:
    """Admins, and the group's facilitators, share and revoke its invite links."""
    return may_see_group(db, viewer, group_id)


def facilitated_group_ids(db: Db, viewer: Viewer) -> frozenset[int]:
    """The groups the viewer facilitates (none without the facilitator role)."""
    if not viewer.is_facilitator or viewer.user_id is None:
        return frozenset()
    with db.transaction() as conn:
        return store.facilitated_groups(conn, viewer.user_id)


def visible_learner_ids(viewer: Viewer) -> Select | None:
    """A SELECT of the account ids the viewer may see besides themselves; None for an admin, who sees all.

    Queries that list or search learners add `user_id IN (this)`.
    """
    if viewer.is_admin:
        return None
    if viewer.is_facilitator and viewer.user_id is not None:
        return store.members_facilitated_by(viewer.user_id)
    return store.no_accounts()


def require(allowed: bool, what: str = "this") -> None:
    """Refuse (NotAllowed, a 403) unless `allowed`."""
    if not allowed:
        raise NotAllowed(f"You may not see {what}.")
