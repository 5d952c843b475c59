"""Domain errors of the answers service. tracker/errors.py maps each to one HTTP status."""


class AnswerError(Exception):
    """Base class: an answer the rules refuse."""


class InvalidAnswer(AnswerError):
    """The answer is empty, too long or cannot be stored."""


class UnknownQuestion(AnswerError):
    """The lens has no question with this id."""
