"""A cohort of the demo course with two groups, their facilitators and members, made through the cohorts service.

The group pages read what learners did through the real API: `work` credits a member's time on
a lens and completes lenses, as the lens pages do.
"""
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from support.admin import Account
from support.learners import ProgressApi
from tracker import cohorts

COURSE = "study-skills"
DUE_BY_FIRST_MEETING = ("how-memory-works", "retrieval-practice")  # the course's first meeting comes after these


@dataclass
class Groups:
    app: object
    cohort_id: int
    group_ids: dict  # name: id
    accounts: dict = field(default_factory=dict)  # email: Account
    opened: datetime | None = None  # when the cohort started (its first midnight, UTC)
    first_meeting: datetime | None = None

    def account(self, email: str) -> Account:
        if email not in self.accounts:
            self.accounts[email] = Account(self.app, email, display_name=email.split("@")[0].title())
        return self.accounts[email]

    def member(self, email: str, group: str) -> Account:
        account = self.account(email)
        cohorts.place_learner(self.app.extensions["tracker.db"], self.cohort_id, email=email, group_id=str(self.group_ids[group]))
        return account

    def facilitator(self, email: str, group: str) -> Account:
        account = self.account(email)
        cohorts.make_facilitator(self.app.extensions["tracker.db"], self.cohort_id, email=email, group_id=str(self.group_ids[group]))
        return account


def make_groups(app, *, days_since_start: int = 2, days_to_first_meeting: int = 4, names=("Oak", "Elm")) -> Groups:
    """A cohort that started `days_since_start` days ago (UTC midnight), first meeting `days_to_first_meeting` days after that."""
    starts_on = datetime.now(timezone.utc).date() - timedelta(days=days_since_start)
    opened = datetime(starts_on.year, starts_on.month, starts_on.day, tzinfo=timezone.utc)
    first, second = opened + timedelta(days=days_to_first_meeting), opened + timedelta(days=days_to_first_meeting + 7)
    db, index = app.extensions["tracker.db"], app.extensions["tracker.content"].index
    cohort_id = cohorts.create_cohort(
        db, index, course=COURSE, name="Winter cohort", starts_on=str(starts_on), time_zone="UTC",
        meeting_dates=f"{first:%Y-%m-%d %H:%M}\n{second:%Y-%m-%d %H:%M}",
    )
    group_ids = {name: cohorts.create_group(db, cohort_id, name=name) for name in names}
    return Groups(app, cohort_id, group_ids, opened=opened, first_meeting=first)


def work(account: Account, index, module_slug: str, lens_name: str, seconds: int = 0, complete: bool = False) -> None:
    """Time on a lens and, if asked, its completion, through the API as the account's browser sends them."""
    api = ProgressApi(account.client, index)
    if seconds:
        response = api.heartbeat(account, module_slug, lens_name, seconds)
        assert response.status_code == 204 and response.headers["X-Credited-Seconds"] == str(seconds), response.headers
    if complete:
        lens = index.lenses_by_name[lens_name]
        if lens.type == "chat":
            assert api.chat(account, module_slug, lens_name).status_code == 200
        assert api.complete(account, lens_name, module_slug).status_code == 200
