"""The tutor chat: conversations per learner, module and lens, and the tutors that answer. No Flask here."""
from .errors import ChatError, InvalidMessage, NothingToAnswer, StreamInProgress, TutorUnavailable
from .material import Material, Turn, Tutor, tutor_material
from .providers import make_tutor
from .service import (
    MAX_MESSAGE_CHARS,
    ChatEvent,
    PendingAnswer,
    answer_events,
    ask,
    history,
    messages_sent,
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
    "messages_sent",
    "ask",
    "history",
    "make_tutor",
    "send_message",
    "start_answer",
    "tutor_material",
]
