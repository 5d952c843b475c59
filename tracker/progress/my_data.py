"""Download my data: everything tracker holds about one learner, as JSON-ready values or as CSV records. No Flask.

The JSON has the account (None for an anonymous learner: what only an account has, such as its
groups and nudges, sits inside it) and then the learning records that accounts and anonymous
learners alike have. The CSV is one table of the same records, one row each, named in its first
column, `record`; each kind of record fills its own columns of the union (CSV_COLUMNS).
"""
from collections.abc import Iterator
from datetime import date, datetime
from uuid import UUID

from sqlalchemy import Connection

from tracker.accounts import account_details
from tracker.answers.store import all_answers
from tracker.chat.store import all_messages
from tracker.cohorts.pages import exported_facilitations, exported_invites, exported_memberships
from tracker.content import ContentIndex
from tracker.database import Db
from tracker.learner import Learner
from tracker.lrs.outbox import sent_statements
from tracker.nudges.store import sent_to

from .daily import export_days
from .learner_data import EXPORT_COLUMNS, progress_rows

# Each kind of CSV record and its columns, in the order the rows come; a column shared by two
# kinds (cohort, group, text, created_at, ...) means the same in both.
CSV_RECORDS = {
    "account": ("email", "display_name", "created_at", "pseudonym", "admin", "facilitator", "nudges_enabled"),
    "group_membership": ("cohort", "course_slug", "group", "joined_at"),
    "facilitated_group": ("cohort", "course_slug", "group", "added_at"),
    "invite_created": ("cohort", "course_slug", "group", "created_at", "expires_at", "revoked_at"),
    "nudge_sent": ("kind", "cohort", "group", "meeting_number", "claimed_at", "sent_at"),
    "progress": EXPORT_COLUMNS,
    "daily_time": ("module_id", "module_title", "utc_day", "active_s"),
    "chat_message": ("module_id", "module_title", "lens_id", "lens_title", "role", "text", "status", "created_at"),
    "question_answer": ("lens_id", "lens_title", "question_id", "question", "text", "answered_at", "updated_at"),
    "sent_to_lrs": ("statement_id", "verb", "object", "sent_at"),
}
CSV_COLUMNS = ("record", *dict.fromkeys(column for columns in CSV_RECORDS.values() for column in columns))


def collect(db: Db, index: ContentIndex, learner: Learner) -> dict:
    """Everything tracker holds about the learner, read in one transaction so that the parts agree."""
    with db.transaction() as conn:
        data = {
            "account": account_with_its_records(conn, learner.user_id) if learner.user_id is not None else None,
            "progress": progress_rows(conn, learner),
            "daily_time": titled_days(conn, index, learner),
            "chat_messages": titled_messages(conn, index, learner),
            "question_answers": titled_answers(conn, index, learner),
            "sent_to_lrs": sent_statements(conn, learner),
        }
    return plain(data)


def account_with_its_records(conn: Connection, user_id: int) -> dict | None:
    """The account, with what only an account can have: groups, facilitator places, invites made, nudges sent."""
    account = account_details(conn, user_id)
    if account is None:
        return None
    nudges = [
        {"kind": n["kind"], "cohort": n["cohort_name"], "group": n["group_name"], "meeting_number": n["meeting_number"],
         "claimed_at": n["claimed_at"], "sent_at": n["sent_at"]}
        for n in sent_to(conn, user_id)
    ]
    return account | {
        "group_memberships": exported_memberships(conn, user_id),
        "facilitated_groups": exported_facilitations(conn, user_id),
        "invites_created": exported_invites(conn, user_id),
        "nudges_sent": nudges,
    }


def titled_days(conn: Connection, index: ContentIndex, learner: Learner) -> list[dict]:
    """Active seconds per module and UTC day (recorded since the daily ledger began), with the module's title."""
    return [day | {"module_title": title(index.modules_by_id, day["module_id"])} for day in export_days(conn, learner)]


def titled_messages(conn: Connection, index: ContentIndex, learner: Learner) -> list[dict]:
    """Messages to and from the tutor, with the titles of the lens and module they were about."""
    return [
        message | {
            "module_title": title(index.modules_by_id, message["module_id"]),
            "lens_title": title(index.lenses_by_id, message["lens_id"]),
        }
        for message in all_messages(conn, learner)
    ]


def titled_answers(conn: Connection, index: ContentIndex, learner: Learner) -> list[dict]:
    """Answers to questions, with the lens's title and the question as the content asks it now."""
    answers = []
    for answer in all_answers(conn, learner):
        lens = index.lenses_by_id.get(answer["lens_id"])
        question = lens.questions.get(answer["question_id"]) if lens else None
        answers.append(answer | {"lens_title": lens.title if lens else "", "question": question.prompt if question else ""})
    return answers


def title(items: dict, item_id) -> str:
    """The title the content gives an item; empty when the content no longer has it."""
    item = items.get(item_id)
    return item.title if item else ""


def plain(value):
    """Timestamps and days in ISO 8601, UUIDs as text, all the way down."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def csv_records(data: dict) -> Iterator[dict]:
    """The download as CSV rows: the account and its records first, then the learning records, one row each."""
    account = data["account"]
    if account is not None:
        yield record("account", account | account["roles"])
        for kind, key in (("group_membership", "group_memberships"), ("facilitated_group", "facilitated_groups"),
                          ("invite_created", "invites_created"), ("nudge_sent", "nudges_sent")):
            yield from (record(kind, row) for row in account[key])
    for kind, key in (("progress", "progress"), ("daily_time", "daily_time"), ("chat_message", "chat_messages"),
                      ("question_answer", "question_answers"), ("sent_to_lrs", "sent_to_lrs")):
        yield from (record(kind, row) for row in data[key])


def record(kind: str, values: dict) -> dict:
    return {"record": kind, **{column: values[column] for column in CSV_RECORDS[kind]}}
