"""Fixtures: the app on a real, migrated database (SQLite and PostgreSQL), and learner helpers.

Each backend's database is built once per run by the Alembic migrations, never by create_all,
and emptied before every test. Tests talk to the app through its HTTP routes and read the
database through their own connection, never through the app's session. What the fixtures
are made of lives in tests/support (`from support.x import ...`).
"""
import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin
from support.browser import chromium_missing
from support.app import RAISED_LIMITS, app_settings, marked_settings, running_app
from support.csrf import csrf_token
from support.database import account_progress_rows, migrate, progress_rows_of, snapshot
from support.learners import Learner, ProgressApi
from support.lrs import RalphLrs
from support.pg_cluster import ClusterUnavailable, start_private_cluster
from support.required import missing
from tracker.config import DEMO_CONTENT_DIR
from tracker.db import db
from tracker.models import ChatMessage, ChatSession, User

POSTGRES_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]


BROWSER_TESTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser")
browser_tests_left_out = pytest.StashKey[str]()


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**settings): override app settings for one test")


def pytest_ignore_collect(collection_path, config):
    """Without Chromium (and without CI) leave tests/browser out, to be named in one line at the end.

    With CI set they are collected, and tests/browser/conftest.py fails each of them instead.
    """
    if str(collection_path) != BROWSER_TESTS or os.environ.get("CI"):
        return None
    problem = chromium_missing()
    if problem is None:
        return None
    config.stash[browser_tests_left_out] = problem
    return True


def pytest_terminal_summary(terminalreporter, config):
    problem = config.stash.get(browser_tests_left_out, None)
    if problem:
        terminalreporter.write_line(f"SKIPPED tests/browser: {problem}", yellow=True)


@pytest.fixture(scope="session")
def postgresql_url():
    """A fresh schema of its own in the PostgreSQL test database, so test runs never collide.

    With CI set, an unreachable PostgreSQL is a failure, not a skip.
    """
    schema = f"tracker_test_{os.getpid()}"
    engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except OperationalError as error:
        engine.dispose()
        missing(
            f"PostgreSQL unreachable at {POSTGRES_URL}",
            f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {error}",
        )
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    migrate(url)
    yield url
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'tracker.sqlite3'}"
    migrate(url)
    return url


@pytest.fixture(scope="session")
def private_postgres():
    """A private PostgreSQL cluster (support/pg_cluster.py), running and migrated, for tests that stop it.

    A test that stops it must start it again. With CI set, a cluster that cannot be made is a
    failure, not a skip.
    """
    try:
        cluster = start_private_cluster()
    except ClusterUnavailable as problem:
        missing(str(problem))
    yield cluster
    cluster.remove()


@pytest.fixture(params=BACKENDS)
def database_url(request):
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def content_dir():
    """The demo content; tests that change content copy it first (see `editable_content`)."""
    return DEMO_CONTENT_DIR


@pytest.fixture
def editable_content(tmp_path):
    target = tmp_path / "content"
    shutil.copytree(DEMO_CONTENT_DIR, target)
    return target


@pytest.fixture
def app(request, database_url, content_dir):
    settings = RAISED_LIMITS | {"TRACKER_OFFLINE_TUTOR_DELAY_MS": 0} | marked_settings(request)
    with running_app(app_settings(database_url, content_dir, **settings)) as app:
        yield app


@pytest.fixture
def admin(app, browser_like):
    """The test client, logged in as an admin made with `flask tracker create-admin`."""
    create_admin(app)
    assert browser_like.login(ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    return browser_like.client


@pytest.fixture
def demo(app):
    """The content index the app is serving."""
    return app.extensions["tracker.content"].index


@pytest.fixture
def make_learner():
    def make(token: str | None = None) -> Learner:
        return Learner(token or str(uuid.uuid4()))

    return make


@pytest.fixture
def progress_rows(app):
    """Read a learner's progress rows straight from the database: {content_id: row}."""
    return lambda learner: progress_rows_of(app, learner.token)


@pytest.fixture
def database_snapshot(app):
    """Every row of every table the app writes, to show a request wrote nothing: equal before and after."""
    return lambda: snapshot(app)


@pytest.fixture
def api(client, demo):
    return ProgressApi(client, demo)


@pytest.fixture
def new_api(app, demo):
    """A fresh client per call, for threads: each gets its own requests and DB connections."""
    return lambda: ProgressApi(app.test_client(), demo)


@pytest.fixture
def ralph(tmp_path):
    """A real LRS (Ralph, support/lrs.py), running until the test ends."""
    lrs = RalphLrs(tmp_path / "ralph").start()
    yield lrs
    lrs.stop()


@pytest.fixture
def browser_like(client):
    """The test client as a browser: it keeps cookies and reads CSRF tokens from forms."""

    class Browser:
        def __init__(self):
            self.client = client

        def anonymous_token(self) -> str:
            self.client.get("/")
            return self.client.get_cookie("tracker_anon").value

        def post_form(self, path: str, data: dict | None = None, form_page: str = "/login", **kwargs):
            data = {"csrf_token": csrf_token(self.client, form_page), **(data or {})}
            return self.client.post(path, data=data, **kwargs)

        def signup(self, email="ada@example.org", password="correct horse battery", **extra):
            return self.post_form("/signup", {"email": email, "password": password, **extra}, form_page="/signup")

        def login(self, email="ada@example.org", password="correct horse battery", **extra):
            return self.post_form("/login", {"email": email, "password": password, **extra})

        def logout(self):
            return self.post_form("/logout")

    return Browser()


@pytest.fixture
def account_rows(app):
    """Read an account's progress rows straight from the database: {content_id: row}."""
    return lambda email: account_progress_rows(app, email)


@pytest.fixture
def chat_rows(app):
    """A learner's chat messages straight from the database, oldest first: [(role, text, status)].

    The learner is an anonymous token, or an account's email.
    """
    sessions, messages = ChatSession.__table__, ChatMessage.__table__

    def read(owner: str) -> list[tuple]:
        if "@" in owner:
            user_id = select(User.__table__.c.id).where(User.__table__.c.email == owner).scalar_subquery()
            mine = sessions.c.user_id == user_id
        else:
            mine = sessions.c.anonymous_token == uuid.UUID(owner)
        query = (
            select(messages.c.role, messages.c.text, messages.c.status)
            .join(sessions, sessions.c.id == messages.c.session_id)
            .where(mine)
            .order_by(messages.c.created_at, messages.c.id)
        )
        with app.app_context(), db.engine.connect() as conn:
            return [tuple(row) for row in conn.execute(query)]

    return read
