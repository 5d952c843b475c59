"""A read-only and a full SQLite database: every write gets 503, saved data stays intact, pages are still served."""
import uuid

import pytest
from sqlalchemy import event

from support.database import migrate, read_only_snapshot
from support.faults import copied_content  # noqa: F401 (the fixture content_dir: a copy of the content)
from support.faults import (
    FULL,
    LENS,
    MODULE,
    OTHER_LENS,
    READ_ONLY,
    assert_refused,
    bounded,
    complete,
    complete_with_htmx,
    heartbeat,
    learner_client,
    make_app,
    sign_up,
)
from tracker.db import db, dispose_engines


@pytest.fixture
def sqlite_with_progress(tmp_path, content_dir):
    """A SQLite database that already holds a learner's time and completion and an account."""
    path = tmp_path / "tracker.sqlite3"
    migrate(f"sqlite:///{path}")
    writer = make_app(f"sqlite:///{path}", content_dir)
    index, client, token = writer.extensions["tracker.content"].index, writer.test_client(), str(uuid.uuid4())
    assert heartbeat(client, index, token, 30).status_code == 204
    assert complete(client, index, token).status_code == 200
    assert sign_up(writer.test_client(), "ada@example.org").status_code == 303
    dispose_engines(writer)
    return path, token


def test_a_read_only_sqlite_database_refuses_every_write_with_503_and_still_serves_pages(
    sqlite_with_progress, content_dir, caplog
):
    path, token = sqlite_with_progress
    before = read_only_snapshot(path)
    app = make_app(f"sqlite:///file:{path}?mode=ro&uri=true", content_dir, empty=False)
    index = app.extensions["tracker.content"].index
    try:
        client = learner_client(app, token)
        refused = {
            "heartbeat": bounded(lambda: heartbeat(client, index, token, 30)),
            "completion": bounded(lambda: complete(client, index, token, OTHER_LENS)),
            "completion with htmx": bounded(lambda: complete_with_htmx(client, OTHER_LENS)),
            "sign-up": bounded(lambda: sign_up(app.test_client(), "grace@example.org")),
        }
        for response in refused.values():
            assert_refused(response, READ_ONLY)
        assert refused["completion with htmx"].get_data(as_text=True).strip().startswith('<p class="error"')
        # Reading still works: the learner sees the progress already saved.
        lens_page = client.get(f"/modules/{MODULE}/{LENS}")
        assert lens_page.status_code == 200 and "Completed on" in lens_page.get_data(as_text=True)
        assert client.get("/me").status_code == 200
        assert client.get(f"/api/modules/{MODULE}/progress").json["progress"]["completed"] == 1
    finally:
        dispose_engines(app)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 4 and all("attempt to write a readonly database" in e for e in errors), errors
    assert read_only_snapshot(path) == before


def fill_until_refused(write, limit: int = 2000):
    """Repeat a write that needs new space until the database refuses one; return that answer and
    how many fitted before it.

    Writes that still fit in the pages the file has succeed, as on a disk that is filling up.
    """
    for attempt_number in range(limit):
        response = bounded(lambda: write(attempt_number))
        if response.status_code == 503:
            return response, attempt_number
        assert response.status_code in (200, 204, 303), response.get_data(as_text=True)[:300]
    pytest.fail(f"{limit} writes fitted into a database that may not grow")


def test_a_full_sqlite_database_refuses_writes_with_503_keeps_its_data_and_still_serves_pages(
    sqlite_with_progress, content_dir, caplog
):
    path, token = sqlite_with_progress
    before = read_only_snapshot(path)
    app = make_app(f"sqlite:///{path}", content_dir, empty=False)
    dispose_engines(app)  # so that every connection from here on is made with the limit
    with app.app_context():
        for engine in (app.extensions["tracker.autocommit_engine"], db.engine):
            event.listen(engine, "connect", cannot_grow)
    index = app.extensions["tracker.content"].index
    try:
        refused = {
            "heartbeat": fill_until_refused(lambda n: heartbeat(app.test_client(), index, str(uuid.uuid4()), 30)),
            "completion": fill_until_refused(lambda n: complete(app.test_client(), index, str(uuid.uuid4()))),
            "completion with htmx": fill_until_refused(
                lambda n: complete_with_htmx(learner_client(app, str(uuid.uuid4())))),
            "sign-up": fill_until_refused(lambda n: sign_up(app.test_client(), f"learner-{n:04}@example.org")),
        }
        for response, _ in refused.values():
            assert_refused(response, FULL)
        client = learner_client(app, token)
        lens_page = client.get(f"/modules/{MODULE}/{LENS}")
        assert lens_page.status_code == 200 and "Completed on" in lens_page.get_data(as_text=True)
        assert client.get("/me").status_code == 200
    finally:
        dispose_engines(app)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 4 and all("database or disk is full" in e for e in errors), errors
    after = read_only_snapshot(path)
    for table, rows in before.items():  # everything saved before is intact
        assert {key: after[table][key] for key in rows} == rows
    print("\n[disk full] writes that still fitted before the first 503: "
          + ", ".join(f"{name} {fitted}" for name, (_, fitted) in refused.items()))


def cannot_grow(dbapi_connection, _record) -> None:
    """The file may not grow beyond its current pages: SQLite answers SQLITE_FULL, as on a full disk."""
    dbapi_connection.execute("PRAGMA max_page_count = 1")  # never below the current size, so: the current size
