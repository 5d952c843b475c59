"""What the cohort tests share: an admin's forms as the cohort pages send them, invite links, and the rows.

Every cohort, group and invite is made through the admin pages (or, for an invite made in the
past, through the service with an explicit moment), and read back straight from the database.
"""
import re
from functools import partial
from html import unescape

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from support.csrf import csrf_token
from tracker.db import db
from tracker.models import CohortGroup, GroupFacilitator, GroupInvite, GroupMembership, User

COURSE = "study-skills"  # the demo course: meetings after its 2nd and 3rd modules
COHORTS = "/admin/cohorts"
INVITE_LINK = re.compile(r'class="invite-link" readonly value="([^"]+)"')

memberships, groups, facilitators, invites, users = (
    GroupMembership.__table__, CohortGroup.__table__, GroupFacilitator.__table__, GroupInvite.__table__, User.__table__
)


def post_form(client, path: str, data: dict, form_page: str = COHORTS, **kwargs):
    """A POST as the admin's form sends it, with the CSRF token of the client's session."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page), **data}, **kwargs)


def make_cohort(client, name="Spring 2027", *, starts_on="2027-01-04", time_zone="UTC", weekday="1", local_time="18:00",
                meeting_dates="", course=COURSE) -> int:
    """A cohort made on the cohorts page (by default meeting on Tuesdays at 18:00 UTC); its id."""
    data = {"course": course, "name": name, "starts_on": starts_on, "time_zone": time_zone, "weekday": weekday,
            "local_time": local_time, "meeting_dates": meeting_dates}
    response = post_form(client, COHORTS, data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def make_group(app, client, cohort_id: int, name: str, *, weekday="", local_time="", time_zone="") -> int:
    """A group made on the cohort page; its id."""
    data = {"name": name, "weekday": weekday, "local_time": local_time, "time_zone": time_zone}
    response = post_form(client, f"{COHORTS}/{cohort_id}/groups", data)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return group_id(app, cohort_id, name)


def group_id(app, cohort_id: int, name: str) -> int:
    with app.app_context(), db.engine.connect() as conn:
        return conn.execute(select(groups.c.id).where(groups.c.cohort_id == cohort_id, groups.c.name == name)).scalar_one()


def place(client, cohort_id: int, email: str, group: int):
    return post_form(client, f"{COHORTS}/{cohort_id}/members", {"email": email, "group_id": str(group)})


def make_facilitator(client, cohort_id: int, email: str, group: int):
    return post_form(client, f"{COHORTS}/{cohort_id}/facilitators", {"email": email, "group_id": str(group)})


def invite_path(client, cohort_id: int, group: int, expires_in_days="30") -> str:
    """A new invite link made on the cohort page, as the path it leads to (/join/<token>)."""
    response = post_form(client, f"{COHORTS}/{cohort_id}/invites", {"group_id": str(group), "expires_in_days": expires_in_days})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    link = unescape(INVITE_LINK.search(response.get_data(as_text=True)).group(1))
    assert link.startswith("http://localhost/join/")
    return link.removeprefix("http://localhost")


def join(client, path: str, form_page: str | None = None):
    """Press "Join group" on the invite page (its form's token, or the one of `form_page` for a page without the form)."""
    return client.post(path, data={"csrf_token": csrf_token(client, form_page or path)})


def membership_rows(app) -> set[tuple]:
    """Every membership as (email, group name), straight from the database."""
    query = (
        select(users.c.email, groups.c.name)
        .join(memberships, memberships.c.user_id == users.c.id)
        .join(groups, groups.c.id == memberships.c.group_id)
    )
    with app.app_context(), db.engine.connect() as conn:
        return {tuple(row) for row in conn.execute(query)}


def facilitator_rows(app) -> set[tuple]:
    """Every (email, group name) of a facilitator, and the emails with the role."""
    query = select(users.c.email, groups.c.name).join(facilitators, facilitators.c.user_id == users.c.id).join(
        groups, groups.c.id == facilitators.c.group_id
    )
    with app.app_context(), db.engine.connect() as conn:
        return {tuple(row) for row in conn.execute(query)}


def facilitator_role(app, email: str) -> bool:
    with app.app_context(), db.engine.connect() as conn:
        return bool(conn.execute(select(users.c.is_facilitator).where(users.c.email == email)).scalar_one())


@pytest.fixture(autouse=True)
def quick_password_hashes(monkeypatch):
    """Salted hashes that are quick to make and check: scrypt's deliberate cost adds up over many sign-ups.

    Imported by the cohort tests, where it applies to every test of the module.
    """
    monkeypatch.setattr("tracker.accounts.generate_password_hash", partial(generate_password_hash, method="pbkdf2:sha256:1000"))
