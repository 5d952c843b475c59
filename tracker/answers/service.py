"""The rules of a lens's questions: what an answer may be, and which question it answers.

No Flask here. Saving is one statement on Db.single_statement(): the upsert in store.py is
atomic by itself, so it needs no transaction around it. Reading opens its own short transaction.
Answering credits no time: only heartbeats do.
"""
from tracker.clock import utc_now
from tracker.content.model import Lens, QuestionSegment
from tracker.database import Db
from tracker.learner import Learner

from . import store
from .errors import InvalidAnswer, UnknownQuestion
from .store import Answer

MAX_ANSWER_CHARS = 4000
SHOWN_ID_CHARS = 80  # of a question id in an error message: the URL can hold anything


def checked_answer(text) -> str:
    """The answer as stored: stripped, with line ends as \\n (browsers send a textarea's as \\r\\n)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip() if isinstance(text, str) else ""
    if not text:
        raise InvalidAnswer("Write an answer first: it cannot be empty.")
    if len(text) > MAX_ANSWER_CHARS:
        raise InvalidAnswer(f"Your answer is {len(text):,} characters long; the most is {MAX_ANSWER_CHARS:,}.")
    if "\x00" in text:
        raise InvalidAnswer("Your answer contains a NUL character, which cannot be stored.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidAnswer("Your answer holds an unpaired surrogate, which is not Unicode text.") from None
    return text


def find_question(lens: Lens, question_id: str) -> QuestionSegment:
    question = lens.questions.get(question_id)
    if question is None:
        raise UnknownQuestion(f"The lens “{lens.title}” has no question “{question_id[:SHOWN_ID_CHARS]}”.")
    return question


def save_answer(db: Db, learner: Learner, lens: Lens, question_id: str, text, now=None) -> Answer:
    """Store the learner's answer to one question of the lens, replacing their earlier one."""
    find_question(lens, question_id)
    text = checked_answer(text)
    with db.single_statement() as conn:
        return store.upsert_answer(conn, learner, lens.id, question_id, text, now or utc_now())


def answers_to_lens(db: Db, learner: Learner, lens: Lens) -> dict[str, Answer]:
    """The learner's answers to the lens's questions, by question id; no query for a lens without any."""
    if not lens.questions:
        return {}
    with db.transaction() as conn:
        return store.answers_to_lens(conn, learner, lens.id)
