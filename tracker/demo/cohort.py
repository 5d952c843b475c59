"""A demo cohort for the simulated learners: groups of 30 with a facilitator each, meeting weekly.

The cohort started 2 days before the seeding and first meets 4 days after it (a weekly rule
meets first on its weekday on or after the start), so that the facilitator pages have a meeting
to prepare for. Two groups meet when the cohort does (Europe/London
evenings); the third has a slot of its own (New York mornings). Only accounts can be in a group,
and only the first 90 seeded accounts are: the rest learn on their own, as many do. Facilitators are
seeded accounts too, and cannot log in; to look at their pages, run `create-facilitator` with
your own email and make yourself a facilitator of a demo group on its admin page.
"""
from datetime import datetime, time, timedelta

from sqlalchemy import Connection, update

from tracker.cohorts import store
from tracker.cohorts.schedule import WeeklySlot
from tracker.content import ContentIndex

from .write import insert_accounts, users

GROUP_SIZE = 30
GROUPS = (("Group 1", None), ("Group 2", None), ("Group 3, New York mornings", WeeklySlot(3, time(9, 0), "America/New_York")))
COHORT_ZONE, COHORT_TIME = "Europe/London", time(18, 0)
MEMBERS = GROUP_SIZE * len(GROUPS)


def seed_cohort(conn: Connection, index: ContentIndex, member_ids: list[int], password_hash: str, run: str, now: datetime) -> dict:
    """The cohort of the first course with meetings, its groups, facilitators and members; how many of each."""
    course = next((c for c in index.courses if c.meetings), None)
    if course is None or not member_ids:
        return {"groups": 0, "members": 0}
    today = now.date()
    weekly = WeeklySlot((today + timedelta(days=4)).weekday(), COHORT_TIME, COHORT_ZONE)
    cohort_id = store.insert_cohort(conn, course.slug, f"Demo cohort {run}", today - timedelta(days=2), COHORT_ZONE, weekly)
    group_ids = [store.insert_group(conn, cohort_id, name, slot) for name, slot in GROUPS]
    accounts = [{"email": f"facilitator.{n}.{run}@example.org", "display_name": f"Facilitator {n}"} for n in range(1, len(GROUPS) + 1)]
    facilitator_ids = insert_accounts(conn, accounts, password_hash, now)
    conn.execute(update(users).where(users.c.id.in_(facilitator_ids.values())).values(is_facilitator=True))
    for group_id, account in zip(group_ids, accounts):
        store.add_facilitator(conn, group_id, facilitator_ids[account["email"]], now)
    placements = [(user_id, group_ids[n % len(group_ids)]) for n, user_id in enumerate(member_ids[:MEMBERS])]
    store.place_many(conn, cohort_id, placements, now)
    return {"groups": len(group_ids), "members": len(placements)}
