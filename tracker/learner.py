"""Whoever progress and chats belong to, and the clause that picks their rows of a table. No Flask."""
from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True)
class Learner:
    """An account or an anonymous token, never both."""

    user_id: int | None = None
    anonymous_token: UUID | None = None

    def __post_init__(self):
        if (self.user_id is None) == (self.anonymous_token is None):
            raise ValueError("a learner is either a user or an anonymous token")


def owned_by(table, learner: Learner):
    """The WHERE clause selecting the learner's rows of a table with user_id and anonymous_token."""
    if learner.user_id is not None:
        return table.c.user_id == learner.user_id
    return table.c.anonymous_token == learner.anonymous_token


def anonymous_label(token) -> str:
    """How staff pages and xAPI name an anonymous learner: by the start of their token, never the whole."""
    return f"Anonymous · {str(token)[:8]}"
