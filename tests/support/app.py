"""The settings every test app runs with, and an app on an emptied database."""
from contextlib import contextmanager

from tracker import create_app
from tracker.config import RATE_LIMIT_SETTINGS
from tracker.db import dispose_engines

from support.database import empty_database

# Far above what any test sends (one learner sends 1,600 heartbeats in test_concurrency); the
# rate-limit tests set small limits of their own.
RAISED_LIMITS = {name: "1000000/minute" for name, _ in RATE_LIMIT_SETTINGS}


def app_settings(database_url: str, content_dir, **settings) -> dict:
    """TESTING (an exception fails the test), the database and content given, no content polling."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TRACKER_CONTENT_DIR": str(content_dir),
        "TRACKER_CONTENT_CHECK_S": 0,
        "SECRET_KEY": "test",
        # The canonical address xAPI activity ids are built from (tests reach the app as localhost).
        "TRACKER_BASE_URL": "https://tracker.example.org/",
        **settings,
    }


def marked_settings(request) -> dict:
    """The settings a test asks for with `@pytest.mark.app_config(...)`."""
    marker = request.node.get_closest_marker("app_config")
    return marker.kwargs if marker else {}


@contextmanager
def running_app(settings: dict, empty: bool = True):
    """The app made with `settings`, on an emptied database unless `empty` is false; its engines go afterwards."""
    app = create_app(settings)
    try:
        if empty:
            empty_database(app)
        yield app
    finally:
        dispose_engines(app)
