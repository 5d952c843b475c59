"""The tutor chat: conversations per learner, module and lens, and the tutors that answer. No Flask here."""
from .errors import ChatError, InvalidMessage, NothingToAnswer, StreamInProgress, TutorUnavailable
from .providers import Material, Turn, Tutor, make_tutor, tutor_material
from .service import (
    MAX_MESSAGE_CHARS,
    ChatEvent,
    PendingAnswer,
    answer_events,
    history,
    send_message,
    start_answer,
)
from .store import Message

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ChatError",
    "ChatEvent",
    "InvalidMessage",
    "Material",
    "Message",
    "NothingToAnswer",
    "PendingAnswer",
    "StreamInProgress",
    "Turn",
    "Tutor",
    "TutorUnavailable",
    "answer_events",
    "history",
    "make_tutor",
    "send_message",
    "start_answer",
    "tutor_material",
]
