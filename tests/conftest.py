"""Fixtures: the app on a real, migrated database (SQLite and PostgreSQL), and learner helpers.

Each backend's database is built once per run by the Alembic migrations, never by create_all,
and emptied before every test. Tests talk to the app through its HTTP routes and read the
database through their own connection, never through the app's session.
"""
import os
import re
import shutil
import uuid
from dataclasses import dataclass

import flask_migrate
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError

from tracker import create_app
from tracker.config import DEMO_CONTENT_DIR, RATE_LIMIT_SETTINGS
from tracker.db import db, dispose_engines
from tracker.models import UserContentProgress

POSTGRES_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BACKENDS = ["sqlite", "postgresql"]
progress = UserContentProgress.__table__


def pytest_configure(config):
    config.addinivalue_line("markers", "app_config(**settings): override app settings for one test")


def migrate(url: str) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TRACKER_CONTENT_CHECK_S": 0})
    with app.app_context():
        flask_migrate.upgrade()
    dispose_engines(app)


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
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {POSTGRES_URL}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL}")
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
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TRACKER_CONTENT_DIR": str(content_dir),
        "TRACKER_CONTENT_CHECK_S": 0,
        "SECRET_KEY": "test",
        "TRACKER_OFFLINE_TUTOR_DELAY_MS": 0,
        # Far above what any test sends (one learner sends 1,600 heartbeats in test_concurrency);
        # tests/test_rate_limits.py sets small limits of its own.
        **{name: "1000000/minute" for name, _ in RATE_LIMIT_SETTINGS},
    }
    marker = request.node.get_closest_marker("app_config")
    settings.update(marker.kwargs if marker else {})
    app = create_app(settings)
    empty_database(app)
    yield app
    dispose_engines(app)


def empty_database(app) -> None:
    """Delete every learner, account and conversation, children first."""
    with app.app_context(), db.engine.begin() as conn:
        for table in ("chat_messages", "chat_sessions", "user_content_progress", "users"):
            conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def admin(app, browser_like):
    """The test client, logged in as an admin made with `flask tracker create-admin`."""
    from admin_support import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin

    create_admin(app)
    assert browser_like.login(ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 303
    return browser_like.client


@pytest.fixture
def demo(app):
    """The content index the app is serving."""
    return app.extensions["tracker.content"].index


@dataclass
class Learner:
    token: str

    @property
    def headers(self) -> dict:
        return {"X-Anonymous-Token": self.token}


@pytest.fixture
def make_learner():
    def make(token: str | None = None) -> Learner:
        return Learner(token or str(uuid.uuid4()))

    return make


@pytest.fixture
def progress_rows(app):
    """Read a learner's progress rows straight from the database: {content_id: row}."""

    def read(learner: Learner) -> dict:
        with app.app_context(), db.engine.connect() as conn:
            query = select(progress).where(progress.c.anonymous_token == uuid.UUID(learner.token))
            return {str(row["content_id"]): dict(row) for row in conn.execute(query).mappings()}

    return read


@pytest.fixture
def table_snapshot(app):
    """Row count and sums of the progress table, to show a request wrote nothing."""

    def snapshot() -> tuple:
        with app.app_context(), db.engine.connect() as conn:
            return tuple(
                conn.execute(
                    text(
                        "SELECT COUNT(*), COALESCE(SUM(total_time_spent_s), 0),"
                        " COUNT(completed_at), COUNT(last_heartbeat_at), COUNT(credited_until_ms)"
                        " FROM user_content_progress"
                    )
                ).one()
            )

    return snapshot


class ProgressApi:
    """The JSON API as a learner's client uses it."""

    def __init__(self, client, index):
        self.client, self.index = client, index

    def heartbeat(self, learner: Learner, module_slug: str, lens_name: str, seconds: int, levels=("lo", "module")):
        module = self.index.modules_by_slug[module_slug]
        section = next(s for s in module.sections if s.lens.name == lens_name)
        body = {"content_id": str(section.lens.id), "time_delta_s": seconds}
        if "lo" in levels:
            body["lo_id"] = str(section.outcome.id)
        if "module" in levels:
            body["module_id"] = str(module.id)
        return self.client.post("/api/progress/time", json=body, headers=learner.headers)

    def complete(self, learner: Learner, lens_name: str, module_slug: str | None = None):
        body = {"content_id": str(self.index.lenses_by_name[lens_name].id), "content_type": "lens"}
        if module_slug:
            body["module_slug"] = module_slug
        return self.client.post("/api/progress/complete", json=body, headers=learner.headers)

    def chat(self, learner: Learner, module_slug: str, lens_name: str, text: str = "How does this work?"):
        """Send the tutor a message about a lens and read the whole streamed answer."""
        response = self.client.post(
            f"/api/modules/{module_slug}/{lens_name}/chat", json={"message": text}, headers=learner.headers
        )
        response.get_data()  # let the answer stream to its end, as a client would
        return response

    def state(self, learner: Learner, module_slug: str) -> dict:
        response = self.client.get(f"/api/modules/{module_slug}/progress", headers=learner.headers)
        assert response.status_code == 200, response.json
        return response.json


@pytest.fixture
def api(client, demo):
    return ProgressApi(client, demo)


@pytest.fixture
def new_api(app, demo):
    """A fresh client per call, for threads: each gets its own requests and DB connections."""
    return lambda: ProgressApi(app.test_client(), demo)


CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token a page gives this client's session, as a browser would read it from a form."""
    match = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF field on {path}"
    return match.group(1)


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

    def read(email: str) -> dict:
        with app.app_context(), db.engine.connect() as conn:
            user_id = conn.execute(text("SELECT id FROM users WHERE email = :email"), {"email": email}).scalar_one()
            query = select(progress).where(progress.c.user_id == user_id)
            return {str(row["content_id"]): dict(row) for row in conn.execute(query).mappings()}

    return read


def sse_events(response) -> list[tuple[str, dict]]:
    """The (event, data) pairs of a Server-Sent Events body whose data is JSON."""
    import json

    events = []
    for block in response.get_data(as_text=True).split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        fields = dict(line.split(": ", 1) for line in lines)
        if "data" in fields:
            events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


@pytest.fixture
def chat_rows(app):
    """A learner's chat messages straight from the database, oldest first: [(role, text, status)].

    The learner is an anonymous token, or an account's email.
    """
    from tracker.models import ChatMessage, ChatSession, User

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
