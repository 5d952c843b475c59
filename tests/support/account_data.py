"""An account with a row in every table that can hold an account's data, and the table-by-table reading that shows none is left.

What a learner does is done through the routes (time, a completion, a tutor chat, joining a group
by its invite, being made a facilitator, making an invite); what no route of the demo course
writes is inserted here as its own code would (an answer to a question, a nudge, the LRS outbox
and its progress marks, the outbox through tracker.lrs.outbox).
"""
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, select

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, Account, OwnContextClient, create_admin
from support.cohorts import invite_path, join, make_cohort, make_facilitator, make_group, post_form
from support.csrf import csrf_token
from tracker.db import db
from tracker.learner import Learner
from tracker.lrs import outbox
from tracker.models import Base, LrsProgressMark, QuestionAnswer, SentNudge, User, UserContentProgress

MODULE, LENS, CHAT_LENS = "how-memory-works", "memory-in-three-stages", "talk-through-how-memory-works"
PASSWORD = "learner password 1"
FROM_OUR_PAGES = {"Sec-Fetch-Site": "same-origin"}
users, progress = User.__table__, UserContentProgress.__table__


ANNA, BORIS = "anna.d81c@example.org", "boris.7e2a@example.org"


# Fixtures for the tests of deleting and downloading an account (imported there): an admin's browser,
# and two learners with everything.


@pytest.fixture
def admin_browser(app) -> OwnContextClient:
    create_admin(app)
    return log_in(app, ADMIN_EMAIL, ADMIN_PASSWORD)


@pytest.fixture
def anna(app, demo, admin_browser):
    return seed_account_with_everything(app, demo, admin_browser, ANNA, "ANNA-91f2")


@pytest.fixture
def boris(app, demo, admin_browser):
    return seed_account_with_everything(app, demo, admin_browser, BORIS, "BORIS-4c07")


@dataclass
class Seeded:
    """A learner with an account and a row of theirs in every table, in a browser of their own."""

    account: Account
    user_id: int
    email: str
    pseudonym: uuid.UUID
    marker: str  # in their chat messages and their answer
    sent: list[str]  # ids of their statements the LRS accepted
    queued: list[str]  # ids of their statements still waiting

    @property
    def client(self) -> OwnContextClient:
        return self.account.client


def seed_account_with_everything(app, demo, admin: OwnContextClient, email: str, marker: str) -> Seeded:
    account = Account(app, email, display_name=f"Name of {marker}", password=PASSWORD)
    learn_through_the_pages(account.client, demo, marker)
    # The cohort outlives the account, so its name holds nothing of the learner's.
    group_id = join_and_facilitate_a_group(app, admin, account.client, email, cohort_name=f"Cohort {uuid.uuid4().hex[:8]}")
    with app.app_context(), db.engine.begin() as conn:
        user = conn.execute(select(users.c.id, users.c.pseudonym).where(users.c.email == email)).one()
        now = datetime.now(timezone.utc)
        conn.execute(insert(QuestionAnswer.__table__).values(
            user_id=user.id, lens_id=demo.lenses_by_name[LENS].id, question_id="q1", text=f"{marker}: my answer",
            answered_at=now, updated_at=now,
        ))
        conn.execute(insert(SentNudge.__table__).values(
            user_id=user.id, group_id=group_id, meeting_number=1, kind="learner", claimed_at=now, sent_at=now,
        ))
        module_row = conn.execute(
            select(progress.c.id).where(progress.c.user_id == user.id, progress.c.content_type == "module")
        ).scalar_one()
        conn.execute(insert(LrsProgressMark.__table__).values(progress_id=module_row, reported_heartbeat_at=now, queued_at=now))
        sent, queued = queue_statements(conn, user, now, marker)
    return Seeded(account, user.id, email, user.pseudonym, marker, sent, queued)


def learn_through_the_pages(client: OwnContextClient, demo, marker: str) -> None:
    """Time on a lens (and so on its LO, module and day), the lens completed, and a tutor chat answered."""
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    heartbeat = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id), "time_delta_s": 40}
    assert client.post("/api/progress/time", json=heartbeat, headers=FROM_OUR_PAGES).status_code == 204
    completion = {"content_id": str(section.lens.id), "content_type": "lens", "module_slug": MODULE}
    assert client.post("/api/progress/complete", json=completion, headers=FROM_OUR_PAGES).status_code == 200
    chat = client.post(f"/api/modules/{MODULE}/{CHAT_LENS}/chat", json={"message": f"{marker}: why do we forget?"}, headers=FROM_OUR_PAGES)
    assert chat.status_code == 200 and "event: done" in chat.get_data(as_text=True)


def join_and_facilitate_a_group(app, admin: OwnContextClient, client: OwnContextClient, email: str, cohort_name: str) -> int:
    """The learner joins a group by its invite, is made its facilitator, and makes an invite of their own; the group's id."""
    cohort_id = make_cohort(admin, cohort_name)
    group_id = make_group(app, admin, cohort_id, "Group one")
    assert join(client, invite_path(admin, cohort_id, group_id)).status_code == 303
    assert make_facilitator(admin, cohort_id, email, group_id).status_code == 303
    page = f"/facilitate/groups/{group_id}"
    made = post_form(client, f"{page}/invites", {"expires_in_days": "7"}, form_page=page)
    assert made.status_code == 200, made.get_data(as_text=True)[:300]
    return group_id


def xapi_statement(pseudonym: uuid.UUID, verb: str, about: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "account": {"homePage": "https://tracker.example.org/", "name": str(pseudonym)}},
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}", "display": {"en-US": verb}},
        "object": {"id": f"https://tracker.example.org/lenses/{uuid.uuid4()}", "definition": {"name": {"en": about}}},
    }


def queue_statements(conn, user, now: datetime, marker: str) -> tuple[list[str], list[str]]:
    """Two statements the LRS accepted and one still queued, through the outbox's own functions."""
    statements = [xapi_statement(user.pseudonym, "completed", f"{marker} lens {n}") for n in range(3)]
    outbox.queue_statements(conn, Learner(user_id=user.id), statements, now)
    ids = [s["id"] for s in statements]
    rows = dict(conn.execute(select(outbox.outbox.c.statement_id, outbox.outbox.c.id).where(outbox.outbox.c.user_id == user.id)).all())
    outbox.mark_sent(conn, [rows[uuid.UUID(i)] for i in ids[:2]], now)
    return ids[:2], ids[2:]


# --- Reading every table ------------------------------------------------------------------------


def refers_to_accounts(column) -> bool:
    """A column naming an account: a foreign key to users.id, or a user_id."""
    return column.name == "user_id" or any(fk.column.table.name == "users" for fk in column.foreign_keys)


def key_of(table, row) -> tuple:
    return tuple(row[column.name] for column in table.primary_key.columns)


def rows_of_account(conn, user_id: int, known: dict | None = None) -> dict[str, dict]:
    """{table: {primary key: row}} of every row that is the account's: the account itself, the rows that
    name it, and the rows that hang off those (a chat's messages, a progress row's LRS mark).

    `known`: what was found before, so that after a deletion a row left hanging off one of those rows shows too.
    """
    account = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    found = {"users": {(user_id,): dict(account)}} if account else {}
    parents = {name: dict(rows) for name, rows in (known or {}).items()}
    for table in Base.metadata.sorted_tables:  # parents first: a row's parent is known when its table comes
        for row in conn.execute(select(table)).mappings():
            if table.name != "users" and (names_account(table, row, user_id) or hangs_off(table, row, parents)):
                found.setdefault(table.name, {})[key_of(table, row)] = dict(row)
                parents.setdefault(table.name, {})[key_of(table, row)] = dict(row)
    return found


def names_account(table, row, user_id: int) -> bool:
    return any(row[column.name] == user_id for column in table.columns if refers_to_accounts(column))


def hangs_off(table, row, owned: dict) -> bool:
    """Whether a foreign key of the row points at a row already found to be the account's."""
    for constraint in table.foreign_key_constraints:
        parent = constraint.referred_table.name
        if parent in owned and parent != "users":
            if tuple(row[column.name] for column in constraint.columns) in owned[parent]:
                return True
    return False


def tables_that_can_hold_account_data() -> set[str]:
    """Every table with a column naming an account, and every table whose rows hang off one of those."""
    found = {"users"}
    for table in Base.metadata.sorted_tables:
        if any(refers_to_accounts(column) for column in table.columns) or any(
            fk.referred_table.name in found - {"users"} for fk in table.foreign_key_constraints
        ):
            found.add(table.name)
    return found


def every_value(conn):
    """(table, column, value) for every value of every row of every table."""
    for table in Base.metadata.sorted_tables:
        for row in conn.execute(select(table)).mappings():
            for column, value in row.items():
                yield table.name, column, value


def read(app, reader, *args):
    with app.app_context(), db.engine.connect() as conn:
        return reader(conn, *args)


def log_in(app, email: str, password: str = PASSWORD) -> OwnContextClient:
    """Another browser logged in to the account."""
    browser = OwnContextClient(app)
    response = browser.post("/login", data={"csrf_token": csrf_token(browser), "email": email, "password": password})
    assert response.status_code == 303
    return browser


def logged_in_as(client) -> str | None:
    """The email of the account this browser is logged in to, from its own download; None when it is not logged in."""
    account = client.get("/me/export.json").json["account"]
    return account["email"] if account else None
