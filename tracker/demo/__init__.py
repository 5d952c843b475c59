"""Simulated learners for a demo or a benchmark: `flask tracker seed-demo-load`.

Learners go in chunks, so memory stays flat however many are asked for: each chunk's
accounts are inserted first and their ids read back by email, then their progress rows. The
first accounts also make up a demo cohort's groups (cohort.py).
"""

import random
import secrets
from datetime import datetime, timezone

from sqlalchemy import Connection
from werkzeug.security import generate_password_hash

from tracker.content import ContentIndex
from tracker.database import Db

from .cohort import MEMBERS, seed_cohort
from .people import learner_identity
from .profiles import course_modules, lens_profiles
from .walk import simulate_learner
from .write import (
    CHUNK,
    day_row,
    insert_accounts,
    insert_days,
    insert_progress,
    progress_row,
    refresh_statistics,
)

__all__ = ["refresh_statistics", "seed_demo_load"]


def seed_demo_load(db: Db, index: ContentIndex, learners: int, seed: int = 1, now: datetime | None = None) -> dict:
    """Add `learners` simulated learners with their progress, in one transaction; return how many accounts and rows were written."""
    with db.transaction() as conn:
        return seed_learners(conn, index, learners, seed, now or datetime.now(timezone.utc))


def seed_learners(conn: Connection, index: ContentIndex, learners: int, seed: int, now: datetime) -> dict:
    rng = random.Random(seed)
    modules, profiles = course_modules(index), lens_profiles(index, rng)
    # Seeded accounts cannot log in: nobody knows the password behind this hash.
    password_hash = generate_password_hash(secrets.token_urlsafe(32))
    run = secrets.token_hex(3)  # keeps emails unique when the command runs twice
    totals, cohort_members = {"accounts": 0, "rows": 0}, []
    for first in range(0, learners, CHUNK):
        people = [learner_identity(number, run, rng) for number in range(first, min(first + CHUNK, learners))]
        accounts = [p for p in people if "email" in p]
        ids = insert_accounts(conn, accounts, password_hash, now)
        walks = [(owner(person, ids), simulate_learner(modules, profiles, rng, now)) for person in people]
        rows = (progress_row(owner_ids, content_id, row) for owner_ids, walk in walks for content_id, row in walk.rows.items())
        totals["accounts"] += len(accounts)
        cohort_members += [ids[a["email"]] for a in accounts][:MEMBERS - len(cohort_members)]
        totals["rows"] += insert_progress(conn, rows)
        insert_days(conn, (day_row(owner_ids, key, seconds) for owner_ids, walk in walks for key, seconds in walk.days.items()))
    return totals | {"cohort": seed_cohort(conn, index, cohort_members, password_hash, run, now)}


def owner(person: dict, ids: dict) -> tuple:
    if "email" in person:
        return ids[person["email"]], None
    return None, person["anonymous_token"]
