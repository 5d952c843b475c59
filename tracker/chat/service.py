"""The chat rules: what a message may be, when the tutor may answer, and what is kept of an answer.

No Flask here. Each entry point takes the app's Db and opens its own short transactions. The
learner's message is stored and committed before the tutor is asked anything, so a tutor that
fails never loses it. An answer is stored when its stream ends; when the stream breaks, the
part that arrived is stored, marked interrupted.
"""
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from tracker.clock import utc_now
from tracker.database import Db
from tracker.learner import Learner

from . import store
from .errors import InvalidMessage, NothingToAnswer, StreamInProgress, TutorUnavailable
from .material import Material, Turn, Tutor
from .store import Message

MAX_MESSAGE_CHARS = 4000
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PendingAnswer:
    """A claimed stream: the question to answer, the conversation before it, and the claim's end."""

    session_id: int
    question: str
    history: tuple[Turn, ...]
    claimed_until: datetime


@dataclass(frozen=True)
class ChatEvent:
    """"chunk" (text), "done" (the stored answer) or "error" (text; the stored part of the answer, if any)."""

    kind: str
    text: str = ""
    message: Message | None = None


def history(db: Db, learner: Learner, module_id: UUID, lens_id: UUID) -> list[Message]:
    """The conversation about one lens of one module, oldest first."""
    with db.transaction() as conn:
        return store.conversation(conn, learner, module_id, lens_id)


def messages_sent(db: Db, learner: Learner, lens_id: UUID) -> int:
    """How many messages the learner has sent the tutor about this lens, in any module (what unlocks its completion)."""
    with db.transaction() as conn:
        return store.messages_to_tutor(conn, learner, lens_id)


def checked_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise InvalidMessage("Write a message first: it cannot be empty.")
    text = text.strip()
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidMessage(f"Your message is {len(text):,} characters long; the most is {MAX_MESSAGE_CHARS:,}.")
    if "\x00" in text:
        raise InvalidMessage("Your message contains a NUL character, which cannot be stored.")
    return text


def send_message(db: Db, learner: Learner, *, module_id: UUID, lens_id: UUID, text, now=None) -> Message:
    """Store the learner's message; refused while the tutor is still answering the previous one."""
    with db.transaction() as conn:
        return store_message(conn, learner, module_id, lens_id, checked_text(text), now or utc_now())


def ask(db: Db, learner: Learner, *, module_id: UUID, lens_id: UUID, text, stream_timeout_s: int, now=None) -> PendingAnswer:
    """Store the learner's message and claim the answer stream for it, committed together."""
    text, now = checked_text(text), now or utc_now()
    with db.transaction() as conn:
        store_message(conn, learner, module_id, lens_id, text, now)
        return claim_answer(conn, learner, module_id, lens_id, stream_timeout_s, now)


def store_message(conn: Connection, learner: Learner, module_id: UUID, lens_id: UUID, text: str, now) -> Message:
    session = store.ensure_session(conn, learner, module_id, lens_id, now)
    if store.is_streaming(session, now):
        raise StreamInProgress("The tutor is still answering your previous message. Wait for it, then send this again.")
    return store.add_message(conn, session.id, "learner", text, now)


def start_answer(db: Db, learner: Learner, *, module_id: UUID, lens_id: UUID, stream_timeout_s: int, now=None) -> PendingAnswer:
    """Claim the conversation's answer stream for its latest message, which must be the learner's."""
    with db.transaction() as conn:
        return claim_answer(conn, learner, module_id, lens_id, stream_timeout_s, now or utc_now())


def claim_answer(conn: Connection, learner: Learner, module_id: UUID, lens_id: UUID, stream_timeout_s: int, now) -> PendingAnswer:
    session = store.find_session(conn, learner, module_id, lens_id)
    messages = store.read_messages(conn, session.id) if session else []
    if not messages or messages[-1].role != "learner":
        raise NothingToAnswer("There is no message waiting for an answer: send one first.")
    until = now + timedelta(seconds=stream_timeout_s)
    if not store.claim_stream(conn, session.id, now, until):
        raise StreamInProgress("The tutor is already answering this conversation, perhaps in another tab.")
    *earlier, question = messages
    return PendingAnswer(session.id, question.text, tuple(Turn(m.role, m.text) for m in earlier), until)


def answer_events(db: Db, tutor: Tutor, lens: Material, pending: PendingAnswer, clock=utc_now) -> Iterator[ChatEvent]:
    """Stream the tutor's answer as events, store it, and give the claim back, whatever happens.

    Runs without holding a database connection while the tutor thinks: each write takes one
    from the pool for its own short transaction.
    """
    parts, settled = [], False
    answer = tutor.stream(lens, pending.history, pending.question)
    try:
        try:
            for chunk in answer:
                parts.append(chunk)
                yield ChatEvent("chunk", chunk)
                if clock() >= pending.claimed_until:
                    raise TutorUnavailable("The answer went on too long and was cut off.")
            if not "".join(parts).strip():
                raise TutorUnavailable("The tutor sent back an empty answer.")
        except TutorUnavailable as failure:
            settled, kept = True, settle(db, pending, "".join(parts), "interrupted", clock())
            yield ChatEvent("error", str(failure), kept)
            return
        settled = True
        yield ChatEvent("done", message=settle(db, pending, "".join(parts), "complete", clock()))
    finally:
        if hasattr(answer, "close"):
            answer.close()
        if not settled:  # the learner went away mid-answer, or something failed: keep what arrived
            settle(db, pending, "".join(parts), "interrupted", clock())


def settle(db: Db, pending: PendingAnswer, text: str, status: str, now: datetime) -> Message | None:
    """Store the answer (nothing when none arrived) and release the stream, in one transaction."""
    try:
        with db.transaction() as conn:
            message = store.add_message(conn, pending.session_id, "tutor", text, now, status) if text.strip() else None
            store.release_stream(conn, pending.session_id, pending.claimed_until)
    except IntegrityError:  # the learner deleted their data, or an account claim merged the session, meanwhile
        log.warning("chat session %s is gone; its answer was not stored", pending.session_id)
        return None
    if status == "interrupted":
        log.info("chat session %s: answer interrupted after %d characters", pending.session_id, len(text))
    return message
