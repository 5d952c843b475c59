"""All the SQL of nudges: the sent_nudges claims, learners' nudge setting, and what a learner's data needs of them.
Each function takes the caller's connection."""
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import as_utc
from tracker.models import Cohort, CohortGroup, GroupFacilitator, SentNudge, User

sent_nudges, users = SentNudge.__table__, User.__table__
groups, cohorts, facilitators = CohortGroup.__table__, Cohort.__table__, GroupFacilitator.__table__
ONCE_PER_MEETING = ["user_id", "group_id", "meeting_number", "kind"]  # the columns of uq_sent_nudges_once_per_meeting


def all_group_ids(conn: Connection) -> list[int]:
    return list(conn.execute(select(groups.c.id).order_by(groups.c.id)).scalars())


def facilitators_of_group(conn: Connection, group_id: int) -> list:
    """(user_id, email, display_name) of the group's facilitators, by email."""
    query = (
        select(users.c.id.label("user_id"), users.c.email, users.c.display_name)
        .join(facilitators, facilitators.c.user_id == users.c.id)
        .where(facilitators.c.group_id == group_id)
        .order_by(users.c.email)
    )
    return conn.execute(query).all()


def nudges_enabled_of(conn: Connection, user_ids: list[int]) -> dict[int, bool]:
    """{user id: whether they get nudges}; groups are small, so one query."""
    if not user_ids:
        return {}
    query = select(users.c.id, users.c.nudges_enabled).where(users.c.id.in_(user_ids))
    return dict(conn.execute(query).all())


def already_claimed(conn: Connection, group_id: int, meeting_number: int) -> set[tuple[int, str]]:
    """{(user id, kind)} of the nudges for this meeting of the group that a run has claimed."""
    query = select(sent_nudges.c.user_id, sent_nudges.c.kind).where(
        sent_nudges.c.group_id == group_id, sent_nudges.c.meeting_number == meeting_number
    )
    return {(user_id, kind) for user_id, kind in conn.execute(query)}


def claim(conn: Connection, user_id: int, group_id: int, meeting_number: int, kind: str, now) -> int | None:
    """Claim one nudge; its row id, or None when another run (or an earlier one) holds the claim.

    ON CONFLICT DO NOTHING makes the claim one atomic statement: of two overlapping runs, exactly
    one gets the row back, and only that one sends the email.
    """
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(sent_nudges)
        .values(user_id=user_id, group_id=group_id, meeting_number=meeting_number, kind=kind, claimed_at=now)
        .on_conflict_do_nothing(index_elements=ONCE_PER_MEETING)
        .returning(sent_nudges.c.id)
    )
    return conn.execute(statement).scalar()


def mark_sent(conn: Connection, claim_id: int, now) -> None:
    conn.execute(update(sent_nudges).where(sent_nudges.c.id == claim_id).values(sent_at=now))


def release(conn: Connection, claim_id: int) -> None:
    """Give a claim back, for an email the mail server refused: the next run tries it again."""
    conn.execute(delete(sent_nudges).where(sent_nudges.c.id == claim_id))


def nudges_enabled(conn: Connection, user_id: int) -> bool | None:
    """The account's setting; None when there is no such account."""
    return conn.execute(select(users.c.nudges_enabled).where(users.c.id == user_id)).scalar()


def account_email(conn: Connection, user_id: int) -> str | None:
    return conn.execute(select(users.c.email).where(users.c.id == user_id)).scalar()


def set_nudges_enabled(conn: Connection, user_id: int, enabled: bool) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(nudges_enabled=enabled))


def sent_to(conn: Connection, user_id: int) -> list[dict]:
    """Every nudge claimed for the account, with its group and cohort, oldest first."""
    query = (
        select(
            sent_nudges.c.kind, sent_nudges.c.group_id, groups.c.name.label("group_name"), cohorts.c.name.label("cohort_name"),
            sent_nudges.c.meeting_number, sent_nudges.c.claimed_at, sent_nudges.c.sent_at,
        )
        .join(groups, groups.c.id == sent_nudges.c.group_id)
        .join(cohorts, cohorts.c.id == groups.c.cohort_id)
        .where(sent_nudges.c.user_id == user_id)
        .order_by(sent_nudges.c.claimed_at, sent_nudges.c.id)
    )
    return [
        {name: as_utc(value) if name.endswith("_at") else value for name, value in row._mapping.items()}
        for row in conn.execute(query)
    ]


def delete_sent_to(conn: Connection, user_id: int) -> int:
    """Remove the record of every nudge sent to the account; return how many there were."""
    return conn.execute(delete(sent_nudges).where(sent_nudges.c.user_id == user_id)).rowcount
