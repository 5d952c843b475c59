"""All the SQL of question_answers: saving one, reading a lens's, and what a learner's data needs
(claim into an account, export, delete)."""
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from sqlalchemy import Connection, and_, case, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker.clock import as_utc
from tracker.learner import Learner, owned_by
from tracker.models import QuestionAnswer

answers = QuestionAnswer.__table__


@dataclass(frozen=True)
class Answer:
    question_id: str
    text: str
    answered_at: datetime  # when it was first saved
    updated_at: datetime  # when it was last saved; equal to answered_at until it is changed


def as_answer(row) -> Answer:
    return Answer(row.question_id, row.text, as_utc(row.answered_at), as_utc(row.updated_at))


def upsert_answer(conn: Connection, learner: Learner, lens_id: UUID, question_id: str, text: str, now: datetime) -> Answer:
    """Store the answer, replacing the learner's earlier one to this question of this lens.

    One INSERT ... ON CONFLICT DO UPDATE: two saves at once (two tabs, a double click) can never
    both find no row and insert, nor read the old row and overwrite each other's answered_at; the
    unique index decides, and the later save's text is the one kept.
    """
    owner = answers.c.user_id if learner.user_id is not None else answers.c.anonymous_token
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    statement = dialect_insert(answers).values(
        user_id=learner.user_id, anonymous_token=learner.anonymous_token, lens_id=lens_id,
        question_id=question_id, text=text, answered_at=now, updated_at=now,
    )
    statement = statement.on_conflict_do_update(
        index_elements=[owner, "lens_id", "question_id"],
        index_where=owner.is_not(None),
        set_={"text": statement.excluded.text, "updated_at": statement.excluded.updated_at},
    ).returning(answers.c.question_id, answers.c.text, answers.c.answered_at, answers.c.updated_at)
    return as_answer(conn.execute(statement).one())


def answers_to_lens(conn: Connection, learner: Learner, lens_id: UUID) -> dict[str, Answer]:
    """The learner's answers to a lens's questions, by question id."""
    query = select(answers.c.question_id, answers.c.text, answers.c.answered_at, answers.c.updated_at).where(
        owned_by(answers, learner), answers.c.lens_id == lens_id
    )
    return {row.question_id: as_answer(row) for row in conn.execute(query)}


def claim_anonymous_answers(conn: Connection, anonymous_token: UUID, user_id: int) -> None:
    """Move an anonymous token's answers into the account.

    Where both answered the same question of the same lens, the answer saved last wins (on a tie,
    the account's), and the earlier first-answered time is kept; the anonymous row then goes.
    """
    anonymous = answers.alias("anonymous")
    same_question = and_(
        answers.c.user_id == user_id,
        anonymous.c.anonymous_token == anonymous_token,
        anonymous.c.lens_id == answers.c.lens_id,
        anonymous.c.question_id == answers.c.question_id,
    )
    anonymous_is_newer = anonymous.c.updated_at > answers.c.updated_at
    conn.execute(
        update(answers)
        .where(same_question)
        .values(
            text=case((anonymous_is_newer, anonymous.c.text), else_=answers.c.text),
            updated_at=case((anonymous_is_newer, anonymous.c.updated_at), else_=answers.c.updated_at),
            answered_at=case((anonymous.c.answered_at < answers.c.answered_at, anonymous.c.answered_at), else_=answers.c.answered_at),
        )
    )
    account = answers.alias("account")
    answered_by_account = select(account.c.id).where(
        account.c.user_id == user_id, account.c.lens_id == answers.c.lens_id, account.c.question_id == answers.c.question_id
    ).exists()
    conn.execute(delete(answers).where(answers.c.anonymous_token == anonymous_token, answered_by_account))
    conn.execute(
        update(answers).where(answers.c.anonymous_token == anonymous_token).values(user_id=user_id, anonymous_token=None)
    )


def all_answers(conn: Connection, learner: Learner) -> list[dict]:
    """Every answer of the learner, as plain values, oldest first."""
    query = (
        select(answers.c.lens_id, answers.c.question_id, answers.c.text, answers.c.answered_at, answers.c.updated_at)
        .where(owned_by(answers, learner))
        .order_by(answers.c.answered_at, answers.c.id)
    )
    return [
        {**row._mapping, "answered_at": as_utc(row.answered_at), "updated_at": as_utc(row.updated_at)}
        for row in conn.execute(query)
    ]


def delete_answers(conn: Connection, learner: Learner) -> int:
    """Remove the learner's answers; return how many there were."""
    return conn.execute(delete(answers).where(owned_by(answers, learner))).rowcount
