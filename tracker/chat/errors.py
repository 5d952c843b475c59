"""Domain errors of the chat service. tracker/errors.py maps each to one HTTP status."""


class ChatError(Exception):
    """Base class: a chat request the rules refuse."""


class InvalidMessage(ChatError):
    """The learner's message is empty, too long or cannot be stored."""


class StreamInProgress(ChatError):
    """The tutor is still answering in this conversation."""


class NothingToAnswer(ChatError):
    """The conversation has no learner message waiting for an answer."""


class TutorUnavailable(ChatError):
    """The tutor could not answer: unreachable, refused, timed out, or broke off mid-answer.

    Never becomes an HTTP status: the stream reports it to the learner, whose message is kept.
    """
