"""Per-app objects that routes pass to the services: the database, the live content index, the time budget, the tutor."""
from flask import current_app

from tracker.content import ContentIndex, ContentStore
from tracker.database import Db
from tracker.progress import Budget


def database() -> Db:
    """How services reach the database (tracker/db.py)."""
    return current_app.extensions["tracker.db"]


def content_store() -> ContentStore:
    return current_app.extensions["tracker.content"]


def content_index() -> ContentIndex:
    return content_store().index


def budget() -> Budget:
    return current_app.extensions["tracker.budget"]


def tutor():
    """The tutor that answers chat messages (see tracker/chat/providers.py)."""
    return current_app.extensions["tracker.tutor"]
