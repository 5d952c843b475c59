"""Learners' answers to the questions of a lens (not the tutor's answers: those are tracker/chat). No Flask here."""
from .errors import AnswerError, InvalidAnswer, UnknownQuestion
from .service import MAX_ANSWER_CHARS, answers_to_lens, save_answer
from .store import Answer

__all__ = [
    "MAX_ANSWER_CHARS",
    "Answer",
    "AnswerError",
    "InvalidAnswer",
    "UnknownQuestion",
    "answers_to_lens",
    "save_answer",
]
