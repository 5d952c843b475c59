"""Per-app objects that routes need: the live content index and the time budget."""
from flask import current_app

from tracker.content import ContentIndex, ContentStore
from tracker.progress import Budget


def content_store() -> ContentStore:
    return current_app.extensions["tracker.content"]


def content_index() -> ContentIndex:
    return content_store().index


def budget() -> Budget:
    return current_app.extensions["tracker.budget"]


def tutor():
    """The tutor that answers chat messages (see tracker/chat/providers.py)."""
    return current_app.extensions["tracker.tutor"]
