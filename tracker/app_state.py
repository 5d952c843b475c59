"""Per-app objects that routes pass to the services: the database, the live content index, the time budget, the tutor."""
from flask import current_app

from tracker.content import ContentIndex, ContentStore
from tracker.database import Db
from tracker.progress import Budget
from tracker.xapi import XapiSettings


class XapiNotConfigured(Exception):
    """TRACKER_BASE_URL is not set, so there is no canonical base for activity ids."""


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


def xapi_settings() -> XapiSettings:
    """How this installation makes xAPI statements; refused without TRACKER_BASE_URL."""
    config = current_app.config
    if not config["TRACKER_BASE_URL"]:
        raise XapiNotConfigured(
            "TRACKER_BASE_URL must be set for xAPI: activity ids are built from it, e.g. https://tracker.example.org/"
        )
    return XapiSettings(config["TRACKER_BASE_URL"], config["TRACKER_XAPI_ACTOR"], config["TRACKER_XAPI_LANGUAGE"])


def lrs_statements() -> XapiSettings | None:
    """With an LRS configured, how completions make the statements they queue for it; else None."""
    return xapi_settings() if current_app.config["TRACKER_LRS_URL"] else None
