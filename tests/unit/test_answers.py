"""Answers to a lens's questions, as the answers service applies them at explicit moments, on a hand-built content index.

The same promises through HTTP, on a vault with a Question segment, are in tests/test_question_answers.py.
"""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tracker import accounts, answers, progress
from tracker.clock import as_utc
from tracker.content.model import CalloutSegment, ContentIndex, Lens, QuestionSegment, TextSegment
from tracker.db import db
from tracker.learner import Learner
from tracker.models import QuestionAnswer

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
table = QuestionAnswer.__table__


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def question_lens(name: str, *question_ids: str) -> Lens:
    """A lens asking each question; the last one sits inside a callout."""
    *plain, boxed = [QuestionSegment(id=qid, prompt=f"What do you think about {qid}?") for qid in question_ids]
    callout = CalloutSegment(title="One more", collapsed=False, segments=(boxed,))
    return Lens(uuid.uuid4(), name, name.title(), "question", (TextSegment("Read this first."), *plain, callout))


FIRST = question_lens("first", "why", "how")
SECOND = question_lens("second", "why", "what")  # asks "why" too: its answer is its own
INDEX = ContentIndex(courses=(), modules=(), lenses=(FIRST, SECOND))


@pytest.fixture
def db_(app):
    return app.extensions["tracker.db"]


@pytest.fixture
def anonymous():
    return Learner(anonymous_token=uuid.uuid4())


def rows(app, learner: Learner) -> list[tuple]:
    """The learner's answers straight from the database: (lens name, question id, text, answered_at, updated_at)."""
    names = {lens.id: lens.name for lens in INDEX.lenses}
    owner = table.c.user_id == learner.user_id if learner.user_id else table.c.anonymous_token == learner.anonymous_token
    with app.app_context(), db.engine.connect() as conn:
        found = conn.execute(select(table).where(owner).order_by(table.c.lens_id, table.c.question_id))
        return sorted((names[r.lens_id], r.question_id, r.text, as_utc(r.answered_at), as_utc(r.updated_at)) for r in found)


def test_an_answer_is_saved_and_read_back_for_its_lens_by_question_id(app, db_, anonymous):
    saved = answers.save_answer(db_, anonymous, FIRST, "why", "  Because of spacing.\n", now=at(0))
    assert (saved.question_id, saved.text, saved.answered_at, saved.updated_at) == ("why", "Because of spacing.", at(0), at(0))
    assert answers.answers_to_lens(db_, anonymous, FIRST) == {"why": saved}
    assert answers.answers_to_lens(db_, anonymous, SECOND) == {}, "the same question id in another lens is another question"


def test_a_question_inside_a_callout_can_be_answered(app, db_, anonymous):
    answers.save_answer(db_, anonymous, FIRST, "how", "By retrieval.", now=at(0))
    assert [r[:3] for r in rows(app, anonymous)] == [("first", "how", "By retrieval.")]


def test_saving_again_replaces_the_text_and_keeps_the_first_answered_time(app, db_, anonymous):
    answers.save_answer(db_, anonymous, FIRST, "why", "First thought.", now=at(0))
    changed = answers.save_answer(db_, anonymous, FIRST, "why", "Second thought.", now=at(90))
    assert (changed.text, changed.answered_at, changed.updated_at) == ("Second thought.", at(0), at(90))
    assert rows(app, anonymous) == [("first", "why", "Second thought.", at(0), at(90))]


def test_the_same_question_id_in_two_lenses_keeps_two_answers(app, db_, anonymous):
    answers.save_answer(db_, anonymous, FIRST, "why", "About the first lens.", now=at(0))
    answers.save_answer(db_, anonymous, SECOND, "why", "About the second lens.", now=at(5))
    assert [r[:3] for r in rows(app, anonymous)] == [
        ("first", "why", "About the first lens."), ("second", "why", "About the second lens."),
    ]


def test_an_answer_of_exactly_4000_characters_is_kept_and_a_textareas_crlf_line_ends_count_once(app, db_, anonymous):
    assert len(answers.save_answer(db_, anonymous, FIRST, "why", " " + "x" * 4000 + "\n", now=at(0)).text) == 4000
    typed = "\n".join(["x" * 9] * 400) + "x"  # 4,000 characters in the box, which maxlength allows
    as_sent = typed.replace("\n", "\r\n")  # 4,399 as the browser sends them
    assert answers.save_answer(db_, anonymous, FIRST, "how", as_sent, now=at(1)).text == typed


BAD_ANSWERS = [
    pytest.param(None, "Write an answer first: it cannot be empty.", id="missing"),
    pytest.param("", "Write an answer first: it cannot be empty.", id="empty"),
    pytest.param(" \n\t\r\n ", "Write an answer first: it cannot be empty.", id="whitespace-only"),
    pytest.param(["a list"], "Write an answer first: it cannot be empty.", id="not-text"),
    pytest.param("x" * 4001, "Your answer is 4,001 characters long; the most is 4,000.", id="4001-characters"),
    pytest.param("before\x00after", "Your answer contains a NUL character, which cannot be stored.", id="nul"),
    pytest.param("half a pair: \ud800", "Your answer holds an unpaired surrogate, which is not Unicode text.", id="surrogate"),
]


@pytest.mark.parametrize("text, message", BAD_ANSWERS)
def test_an_answer_the_rules_refuse_names_its_problem_and_writes_nothing(app, db_, anonymous, database_snapshot, text, message):
    answers.save_answer(db_, anonymous, FIRST, "why", "Kept as it was.", now=at(0))
    before = database_snapshot()
    with pytest.raises(answers.InvalidAnswer) as refused:
        answers.save_answer(db_, anonymous, FIRST, "why", text, now=at(10))
    assert str(refused.value) == message
    assert database_snapshot() == before


def test_a_question_the_lens_does_not_ask_is_unknown_and_nothing_is_written(app, db_, anonymous, database_snapshot):
    before = database_snapshot()
    with pytest.raises(answers.UnknownQuestion, match="The lens “Second” has no question “how”."):
        answers.save_answer(db_, anonymous, SECOND, "how", "An answer.", now=at(0))
    assert database_snapshot() == before


def make_account(db_, email="ada@example.org") -> Learner:
    return Learner(user_id=accounts.create_user(db_, email, "correct horse battery"))


def claim(db_, anonymous: Learner, account: Learner) -> None:
    progress.claim_anonymous_progress(db_, INDEX, anonymous.anonymous_token, account.user_id)


def test_claiming_moves_anonymous_answers_into_the_account_and_the_token_keeps_none(app, db_, anonymous):
    answers.save_answer(db_, anonymous, FIRST, "why", "Mine, before signing up.", now=at(0))
    account = make_account(db_)
    claim(db_, anonymous, account)
    assert rows(app, anonymous) == []
    assert rows(app, account) == [("first", "why", "Mine, before signing up.", at(0), at(0))]
    claim(db_, anonymous, account)  # claiming again finds nothing more
    assert len(rows(app, account)) == 1


@pytest.mark.parametrize(
    "anonymous_at, account_at, kept",
    [(100, 50, "anonymous"), (50, 100, "account"), (50, 50, "account")],
    ids=["anonymous-saved-last", "account-saved-last", "same-moment-account"],
)
def test_claiming_a_question_both_answered_keeps_the_answer_saved_last_and_the_first_answered_time(
    app, db_, anonymous, anonymous_at, account_at, kept
):
    account = make_account(db_)
    answers.save_answer(db_, anonymous, FIRST, "why", "anonymous first", now=at(0))
    answers.save_answer(db_, anonymous, FIRST, "why", "anonymous", now=at(anonymous_at))
    answers.save_answer(db_, account, FIRST, "why", "account first", now=at(10))
    answers.save_answer(db_, account, FIRST, "why", "account", now=at(account_at))
    answers.save_answer(db_, account, SECOND, "why", "only the account's", now=at(20))
    claim(db_, anonymous, account)
    updated = max(anonymous_at, account_at)
    assert rows(app, account) == [("first", "why", kept, at(0), at(updated)), ("second", "why", "only the account's", at(20), at(20))]
    assert rows(app, anonymous) == []


def test_export_lists_every_answer_and_delete_removes_them_and_only_them(app, db_, anonymous):
    other = Learner(anonymous_token=uuid.uuid4())
    answers.save_answer(db_, anonymous, FIRST, "why", "One.", now=at(0))
    answers.save_answer(db_, anonymous, SECOND, "what", "Two.", now=at(5))
    answers.save_answer(db_, other, FIRST, "why", "Someone else's.", now=at(1))
    exported = progress.export_answers(db_, anonymous)
    assert exported == [
        {"lens_id": FIRST.id, "question_id": "why", "text": "One.", "answered_at": at(0), "updated_at": at(0)},
        {"lens_id": SECOND.id, "question_id": "what", "text": "Two.", "answered_at": at(5), "updated_at": at(5)},
    ]
    assert progress.delete_progress(db_, anonymous) == 2
    assert rows(app, anonymous) == [] and len(rows(app, other)) == 1


def test_answering_credits_no_time(app, db_, anonymous, database_snapshot):
    answers.save_answer(db_, anonymous, FIRST, "why", "No seconds for this.", now=at(0))
    assert database_snapshot().count("user_content_progress") == 0
