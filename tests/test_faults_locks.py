"""Lock waits, deadlocks and an exhausted pool: 503 after the limit, nothing written, and the retry succeeds."""
import sqlite3
import threading
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from support.faults import copied_content  # noqa: F401 (the fixture content_dir: a copy of the content)
from support.faults import (
    BUSY,
    LENS,
    LIVENESS_S,
    MODULE,
    assert_refused,
    backend_pid,
    blocked_by,
    bounded,
    lock_module_row,
    placement,
    wait_for,
)


class HeldLock:
    """Another session holding the learner's rows, as a long admin query or a stuck request would.

    PostgreSQL: a transaction holding the module row's lock (FOR UPDATE), which every heartbeat and
    completion of the learner in that module takes first. SQLite: a transaction holding the
    database's write lock (BEGIN IMMEDIATE).
    """

    def __init__(self, url: str, token: str):
        self.url, self.token = url, token

    def __enter__(self):
        if self.url.startswith("sqlite"):
            self.sqlite = sqlite3.connect(self.url.removeprefix("sqlite:///"), isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(self.url, poolclass=NullPool)
            self.conn = self.engine.connect()
            self.conn.begin()
            lock_module_row(self.conn, self.token)
        return self

    def __exit__(self, *exc):
        if self.url.startswith("sqlite"):
            self.sqlite.rollback()
            self.sqlite.close()
        else:
            self.conn.rollback()
            self.conn.close()
            self.engine.dispose()


LOCK_WAIT_CASES = [
    pytest.param("postgresql", "LockNotAvailable", id="postgresql-lock-timeout", marks=pytest.mark.app_config(
        TRACKER_DB_LOCK_TIMEOUT_MS=1000, TRACKER_DB_STATEMENT_TIMEOUT_MS=30_000)),
    pytest.param("postgresql", "QueryCanceled", id="postgresql-statement-timeout", marks=pytest.mark.app_config(
        TRACKER_DB_LOCK_TIMEOUT_MS=0, TRACKER_DB_STATEMENT_TIMEOUT_MS=1000)),
    pytest.param("sqlite", "database is locked", id="sqlite-busy-timeout", marks=pytest.mark.app_config(
        SQLALCHEMY_ENGINE_OPTIONS={"connect_args": {"timeout": 1}})),
]


@pytest.mark.parametrize("database_url, cause", LOCK_WAIT_CASES, indirect=["database_url"])
def test_a_held_lock_answers_503_after_the_limit_writes_nothing_and_the_retries_succeed(
    app, database_url, cause, new_api, make_learner, progress_rows, caplog
):
    learner = make_learner()
    assert new_api().heartbeat(learner, MODULE, LENS, 30).status_code == 204
    before = progress_rows(learner)
    writes = {
        "heartbeat": lambda: new_api().heartbeat(learner, MODULE, LENS, 30),
        "completion": lambda: new_api().complete(learner, LENS, MODULE),
        "module progress": lambda: new_api().client.post(
            f"/api/modules/{MODULE}/progress", headers=learner.headers,
            json={"contentId": placement(app.extensions["tracker.content"].index, LENS)["content_id"], "timeSpentS": 30},
        ),
    }
    with HeldLock(database_url, learner.token):
        answers = {name: bounded(write) for name, write in writes.items()}

    for name, response in answers.items():
        assert_refused(response, BUSY)
    assert progress_rows(learner) == before
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and BUSY in r.getMessage()]
    assert len(warnings) == 3 and all(cause in w for w in warnings), warnings  # logged with the cause
    retried = writes["heartbeat"]()
    assert (retried.status_code, retried.headers["X-Credited-Seconds"]) == (204, "30")
    assert writes["completion"]().status_code == 200
    assert progress_rows(learner)[placement(app.extensions["tracker.content"].index, LENS)["content_id"]]["completed_at"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("write", ["heartbeat", "completion"])
def test_a_deadlock_with_a_foreign_transaction_answers_503_and_the_retry_succeeds(
    app, database_url, write, new_api, make_learner, progress_rows, caplog
):
    """The app's own statements cannot deadlock each other: every one locks a learner's rows in
    the order modules, LOs, lens (tracker/progress/statements.py). A transaction from outside the
    app that takes them the other way round (here: the LO row, then the module row) can, and the
    app's side then gets 503 and writes nothing. Raw psycopg (heartbeat) and SQLAlchemy (completion)."""
    learner = make_learner()
    assert new_api().heartbeat(learner, MODULE, LENS, 30).status_code == 204
    before = progress_rows(learner)
    index = app.extensions["tracker.content"].index
    send = {
        "heartbeat": lambda: new_api().heartbeat(learner, MODULE, LENS, 30),
        "completion": lambda: new_api().complete(learner, LENS, MODULE),
    }[write]
    ids = placement(index, LENS)
    row = text("SELECT id FROM user_content_progress WHERE anonymous_token = :token AND content_id = :id FOR UPDATE")
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as holder, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            holder.begin()
            # The app's backend (deadlock_timeout 1 s) must be the one to find the cycle.
            holder.execute(text("SET LOCAL deadlock_timeout = '60s'"))
            holder.execute(row, {"token": uuid.UUID(learner.token), "id": uuid.UUID(ids["lo_id"])})
            outcome = {}
            sending = threading.Thread(target=lambda: outcome.update(response=send()), daemon=True)
            sending.start()
            wait_for(lambda: blocked_by(watcher, backend_pid(holder)), message=f"the {write} to wait for the LO row")
            # The app holds the module row and waits for the LO row; asking for the module row closes the cycle.
            holder.execute(row, {"token": uuid.UUID(learner.token), "id": uuid.UUID(ids["module_id"])})
            holder.rollback()
            sending.join(LIVENESS_S)
            assert not sending.is_alive(), "the request hung"
    finally:
        engine.dispose()

    assert_refused(outcome["response"], BUSY)
    assert any("DeadlockDetected" in r.getMessage() for r in caplog.records)
    assert progress_rows(learner) == before
    assert send().status_code in (200, 204)  # the retry


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.app_config(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 1})
def test_a_request_that_finds_every_pooled_connection_busy_answers_503_after_the_pool_timeout(
    app, database_url, new_api, make_learner, progress_rows
):
    learner = make_learner()
    with app.extensions["tracker.autocommit_engine"].connect():  # the heartbeat pool's only connection, taken
        response = bounded(lambda: new_api().heartbeat(learner, MODULE, LENS, 30))
    assert_refused(response, BUSY)
    assert progress_rows(learner) == {}
    assert new_api().heartbeat(learner, MODULE, LENS, 30).status_code == 204
