"""Database and worker faults: the learner's seconds are never lost or counted twice, errors are clear.

Every fault ends in a 503 with Retry-After (JSON under /api/, the error page or its htmx fragment
elsewhere), never a 500 and never a hang: each faulty request runs in a thread joined with a
generous bound, a liveness guard and not a speed assertion. The client retries a 503 (tracker.js
queues the seconds), so the tests check that whatever was answered 2xx is in the database, once.

The PostgreSQL restart runs on a private cluster (tests/pg_cluster.py), never on the shared server.
"""
import http.client
import json
import os
import signal
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.pool import NullPool

from bench.gunicorn import Gunicorn
from bench.processes import free_port
from conftest import csrf_token, empty_database, migrate
from pg_cluster import private_postgres  # noqa: F401 (a fixture)
from tracker import create_app
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content
from tracker.db import db, dispose_engines
from tracker.models import UserContentProgress

MODULE = "how-memory-works"
LENS, OTHER_LENS = "memory-in-three-stages", "working-memory-limits"
UNAVAILABLE = "the database is unavailable; try again shortly"
BUSY = "the database is busy; try again shortly"
READ_ONLY = "the database is read-only, so nothing can be saved; try again later"
FULL = "the database is full, so nothing can be saved; try again later"
LIVENESS_S = 60  # far beyond every timeout: a request still running then has hung
NO_BUDGET_LIMIT = 10_000_000  # TRACKER_BURST_S that credits every second sent, so sent = credited
progress = UserContentProgress.__table__


def bounded(call, limit_s: float = LIVENESS_S):
    """Run `call` in a thread; fail if it has not returned within `limit_s` (it hung)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except BaseException as error:  # noqa: BLE001 (reported to the test below)
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit_s)
    if thread.is_alive():
        pytest.fail(f"no answer within {limit_s} s: the request hung")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def assert_refused(response, message: str) -> None:
    """A 503 that says what is wrong and when to try again, in the shape the request asked for."""
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert int(response.headers["Retry-After"]) >= 1
    if response.request.path.startswith("/api/"):
        assert response.json == {"error": message, "status": 503}
    else:
        assert message in response.get_data(as_text=True)


def placement(index, lens_name: str, module_slug: str = MODULE) -> dict:
    module = index.modules_by_slug[module_slug]
    section = next(s for s in module.sections if s.lens.name == lens_name)
    return {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id)}


def heartbeat(client, index, token: str, seconds: int, lens_name: str = LENS):
    body = {**placement(index, lens_name), "time_delta_s": seconds}
    return client.post("/api/progress/time", json=body, headers={"X-Anonymous-Token": token})


def module_heartbeat(client, index, token: str, seconds: int, lens_name: str = LENS):
    """The same seconds through the module route, which runs in a transaction (the other engine)."""
    body = {"contentId": placement(index, lens_name)["content_id"], "timeSpentS": seconds}
    return client.post(f"/api/modules/{MODULE}/progress", json=body, headers={"X-Anonymous-Token": token})


def complete(client, index, token: str, lens_name: str = LENS):
    body = {"content_id": placement(index, lens_name)["content_id"], "content_type": "lens", "module_slug": MODULE}
    return client.post("/api/progress/complete", json=body, headers={"X-Anonymous-Token": token})


def complete_with_htmx(client, lens_name: str = LENS):
    return client.post(
        f"/modules/{MODULE}/{lens_name}/complete",
        data={"csrf_token": csrf_token(client)}, headers={"HX-Request": "true", "HX-Target": "completion"},
    )


def sign_up(client, email: str):
    data = {"csrf_token": csrf_token(client, "/signup"), "email": email, "password": "correct horse battery",
            "display_name": "A learner with a name long enough to fill a page"}
    return client.post("/signup", data=data)


def totals(app, token: str) -> dict:
    """The learner's time on each level, {"module": s, "lo": s, "lens": s}, straight from the database."""
    with app.app_context():
        return level_totals(db.engine, token)


def level_totals(engine, token: str) -> dict:
    query = (
        select(progress.c.content_type, func.sum(progress.c.total_time_spent_s))
        .where(progress.c.anonymous_token == uuid.UUID(token))
        .group_by(progress.c.content_type)
    )
    with engine.connect() as conn:
        return dict(conn.execute(query).all())


def make_app(url: str, content_dir, empty: bool = True, **settings):
    """The app on a database of the test's choosing; rate limits off, they are not under test here."""
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "TRACKER_CONTENT_DIR": str(content_dir),
        "TRACKER_CONTENT_CHECK_S": 0, "SECRET_KEY": "test", "RATELIMIT_ENABLED": False, **settings,
    })
    if empty:
        empty_database(app)
    return app


@dataclass
class Answer:
    token: str
    status: int | None
    credited: int
    sent_at: float
    took_s: float
    body: dict | None


class Load:
    """Learners sending heartbeats in threads, each with a client of its own, noting every answer.

    A 500 would raise in the test client (TESTING propagates exceptions) and is kept in `errors`.
    """

    def __init__(self, app, senders: list, seconds: int = 5, pause_s: float = 0.02):
        self.app, self.index = app, app.extensions["tracker.content"].index
        self.seconds, self.pause_s = seconds, pause_s
        self.answers: list[Answer] = []
        self.errors: list[BaseException] = []
        self.stopping = threading.Event()
        self.tokens = [str(uuid.uuid4()) for _ in senders]  # one learner per thread
        self.threads = [
            threading.Thread(target=self.keep_sending, args=(send, token), daemon=True)
            for send, token in zip(senders, self.tokens)
        ]

    def keep_sending(self, send, token: str) -> None:
        client = self.app.test_client()
        try:
            while not self.stopping.is_set():
                sent_at = time.monotonic()
                response = send(client, self.index, token, self.seconds)
                self.answers.append(Answer(
                    token, response.status_code, int(response.headers.get("X-Credited-Seconds", 0)),
                    sent_at, time.monotonic() - sent_at, response.json,
                ))
                time.sleep(self.pause_s)
        except BaseException as error:  # noqa: BLE001 (the test reports it)
            self.errors.append(error)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stopping.set()
        for thread in self.threads:
            thread.join(LIVENESS_S)
        assert not any(thread.is_alive() for thread in self.threads), "a request hung"

    def delivered(self, token: str | None = None, after: float = 0.0) -> list[Answer]:
        return [a for a in self.answers if 200 <= (a.status or 0) < 300 and (token in (None, a.token)) and a.sent_at >= after]

    def wait_for_deliveries(self, count: int, after: float = 0.0, timeout: float = 30) -> None:
        """Wait until every learner has `count` answers of 2xx sent after `after`."""
        deadline = time.monotonic() + timeout
        while any(len(self.delivered(token, after)) < count for token in self.tokens):
            assert not self.errors, self.errors
            if time.monotonic() > deadline:
                pytest.fail(f"not every learner got {count} deliveries within {timeout} s")
            time.sleep(0.05)

    def check_nothing_lost_or_doubled(self) -> dict:
        """Per learner: lens, LO and module each hold exactly what the 2xx answers credited."""
        assert not self.errors, self.errors
        for token in self.tokens:
            credited = sum(a.credited for a in self.delivered(token))
            assert credited == self.seconds * len(self.delivered(token))  # nothing was cut by the budget
            assert totals(self.app, token) == {"module": credited, "lo": credited, "lens": credited}, token
        return {"credited_s": sum(a.credited for a in self.delivered())}


# ---------------------------------------------------------------- (a) PostgreSQL restarted mid-load


@pytest.fixture
def private_app(private_postgres, content_dir):  # noqa: F811 (the fixture imported above)
    app = make_app(private_postgres.url, content_dir, TRACKER_BURST_S=NO_BUDGET_LIMIT)
    yield app
    if not private_postgres.is_running():
        private_postgres.start()
    dispose_engines(app)


def test_postgresql_restart_under_load_answers_503_then_recovers_with_nothing_lost_or_doubled(
    private_app, private_postgres, caplog  # noqa: F811
):
    app, cluster = private_app, private_postgres
    account = app.test_client()
    assert sign_up(account, "ada@example.org").status_code == 303
    senders = [heartbeat] * 4 + [module_heartbeat]  # both engines: autocommit (no pre-ping) and pooled transactions

    with Load(app, senders) as load:
        load.wait_for_deliveries(3)
        stopped_at = time.monotonic()
        cluster.stop("fast")  # every backend is terminated, open transactions are rolled back
        down_at = time.monotonic()
        # While it is down: pages answer the error page or its fragment, also for a logged-in learner.
        page = bounded(lambda: app.test_client().get(f"/modules/{MODULE}/{LENS}"))
        fragment = bounded(lambda: app.test_client().get(f"/modules/{MODULE}/{LENS}", headers={"HX-Request": "true"}))
        mine = bounded(lambda: account.get("/me"))
        time.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
        cluster.start()
        up_at = time.monotonic()
        load.wait_for_deliveries(5, after=up_at)  # the same app, no restart: its pools recovered

    for response in (page, fragment, mine):
        assert_refused(response, UNAVAILABLE)
    assert fragment.get_data(as_text=True).strip().startswith('<p class="error"')  # no page around it
    refused = [a for a in load.answers if a.status != 200 and a.status != 204]
    assert refused and {a.status for a in refused} == {503}
    assert all(a.body == {"error": UNAVAILABLE, "status": 503} for a in refused)
    assert any("the database is unavailable" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    figures = load.check_nothing_lost_or_doubled()
    recovered_at = min(a.sent_at + a.took_s for a in load.delivered(after=up_at))
    print(
        f"\n[restart] outage {up_at - stopped_at:.1f} s (stop took {down_at - stopped_at:.2f} s);"
        f" {len(load.answers)} requests, {len(refused)} answered 503, slowest during the outage"
        f" {max(a.took_s for a in refused):.2f} s; first 2xx {recovered_at - up_at:.2f} s after the start,"
        f" {sum(a.sent_at >= up_at for a in refused)} answered 503 after it;"
        f" credited {figures['credited_s']} s = database"
    )


# ---------------------------------------------------------------- a connection lost in the pool


def test_a_lost_pooled_connection_costs_one_heartbeat_and_none_of_the_transactions(postgresql_url, content_dir):
    """The heartbeat pool has no pre-ping (it would cost a round trip): the heartbeat that meets a
    dead connection gets 503 and the next one reconnects. The transaction pool pre-pings, so a
    request there never sees the dead connection."""
    name = f"tracker-faults-{uuid.uuid4().hex[:8]}"
    app = make_app(f"{postgresql_url}&application_name={name}", content_dir, TRACKER_BURST_S=NO_BUDGET_LIMIT)
    index, client, token = app.extensions["tracker.content"].index, app.test_client(), str(uuid.uuid4())
    try:
        assert heartbeat(client, index, token, 10).status_code == 204
        assert module_heartbeat(client, index, token, 10).status_code == 200
        terminate_backends(postgresql_url, name)  # as a restart, a failover or an idle timeout would

        assert_refused(bounded(lambda: heartbeat(client, index, token, 10)), UNAVAILABLE)
        assert heartbeat(client, index, token, 10).status_code == 204
        terminate_backends(postgresql_url, name)
        assert module_heartbeat(client, index, token, 10).status_code == 200
        assert totals(app, token) == {"module": 40, "lo": 40, "lens": 40}  # the refused 10 s are not in
    finally:
        dispose_engines(app)


def terminate_backends(url: str, application_name: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        killed = conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        ).all()
    engine.dispose()
    assert killed, "the app had no connection to terminate"


# ---------------------------------------------------------------- (b) a worker killed mid-request


def start_gunicorn(database_url: str, workdir: Path, **settings) -> Gunicorn:
    """The app under gunicorn (one sync worker), as in production."""
    port = free_port()
    env = {
        **os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test", "TRACKER_CONTENT_CHECK_S": "0",
        **{k: str(v) for k, v in settings.items()},
    }
    arguments = ["-w", "1", "-k", "sync", "--timeout", "120", "-b", f"127.0.0.1:{port}", "wsgi:app"]
    return Gunicorn(arguments, port=port, env=env, log=workdir / "gunicorn.log", announce_workers=True)


def worker_pid(server: Gunicorn, not_this: int | None = None, timeout: float = 60) -> int:
    """The pid of the worker that has loaded the app (bench/gunicorn_ready.py announces it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process.poll() is None, "gunicorn exited"
        alive = [pid for pid in server.workers() if pid != not_this]
        if alive:
            return alive[0]
        time.sleep(0.1)
    pytest.fail("no gunicorn worker became ready")


def post(server: Gunicorn, path: str, body: dict, headers: dict):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=LIVENESS_S)
    try:
        connection.request("POST", path, body=json.dumps(body), headers={"Content-Type": "application/json", **headers})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def wait_for(condition, timeout: float = 20, message: str = "the condition"):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}")
        time.sleep(0.05)
    return value


def blocked_by(conn, holder_pid: int) -> list[int]:
    """The backends waiting for a lock that the backend `holder_pid` holds."""
    query = text("SELECT pid FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))")
    return conn.execute(query, {"holder": holder_pid}).scalars().all()


def backend_pid(conn) -> int:
    return conn.connection.driver_connection.info.backend_pid


def lock_module_row(conn, token: str) -> None:
    conn.execute(
        text("SELECT id FROM user_content_progress WHERE anonymous_token = :token AND content_type = 'module' FOR UPDATE"),
        {"token": uuid.UUID(token)},
    )


def test_a_worker_killed_mid_heartbeat_writes_nothing_and_the_retry_is_credited_once(postgresql_url, tmp_path):
    # Long lock and statement timeouts: only the check for a dead client can end the heartbeat's wait here.
    server = start_gunicorn(
        postgresql_url, tmp_path,
        TRACKER_DB_LOCK_TIMEOUT_MS=120_000, TRACKER_DB_STATEMENT_TIMEOUT_MS=120_000, TRACKER_DB_CLIENT_CHECK_MS=500,
    )
    engine = create_engine(postgresql_url, poolclass=NullPool)
    token = str(uuid.uuid4())
    body, headers = {**placement(load_content(DEMO_CONTENT_DIR), LENS), "time_delta_s": 30}, {"X-Anonymous-Token": token}
    try:
        worker = worker_pid(server)
        status, answer_headers, _ = post(server, "/api/progress/time", body, headers)
        assert (status, answer_headers["X-Credited-Seconds"]) == (204, "30")

        with engine.connect() as holder, engine.connect().execution_options(isolation_level="AUTOCOMMIT") as watcher:
            holder.begin()
            lock_module_row(holder, token)
            sent = threading.Thread(target=lambda: outcome.update(answer=attempt(server, body, headers)), daemon=True)
            outcome = {}
            sent.start()
            waiting = wait_for(lambda: blocked_by(watcher, backend_pid(holder)), message="the heartbeat to wait for the lock")
            os.kill(worker, signal.SIGKILL)
            killed_at = time.monotonic()
            sent.join(LIVENESS_S)
            assert not sent.is_alive()
            # PostgreSQL notices the client is gone (TRACKER_DB_CLIENT_CHECK_MS) and cancels the
            # statement, before the lock it waits for is released.
            alive = text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)")
            wait_for(lambda: watcher.execute(alive, {"pids": waiting}).scalar() == 0, message="the backend to go")
            gone_after = time.monotonic() - killed_at
            holder.rollback()

        assert isinstance(outcome["answer"], (ConnectionError, http.client.HTTPException)) or outcome["answer"] == 502
        assert level_totals(engine, token) == {"module": 30, "lo": 30, "lens": 30}  # the first heartbeat only

        worker_pid(server, not_this=worker)  # gunicorn replaced the worker
        status, answer_headers, _ = post(server, "/api/progress/time", body, headers)  # the learner's retry
        assert (status, answer_headers["X-Credited-Seconds"]) == (204, "30")
        assert level_totals(engine, token) == {"module": 60, "lo": 60, "lens": 60}
        print(f"\n[killed worker] client saw {outcome['answer']!r}; its statement was cancelled {gone_after:.2f} s after the kill")
    finally:
        server.stop()
        engine.dispose()


def attempt(server: Gunicorn, body: dict, headers: dict):
    """The status, or the connection error the client saw."""
    try:
        return post(server, "/api/progress/time", body, headers)[0]
    except (ConnectionError, http.client.HTTPException) as error:
        return error


# ---------------------------------------------------------------- (c) lock waits and deadlocks


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


# ---------------------------------------------------------------- (d) content reloaded under load


def rewrite_module(content_dir: Path, change) -> None:
    path = content_dir / "modules" / f"{MODULE}.md"
    path.write_text(change(path.read_text()))


def served_title(store) -> str:
    return store.index.modules_by_slug[MODULE].title


@pytest.fixture
def content_dir(editable_content):
    """Every test here runs on a copy of the demo content, which the reload test rewrites."""
    return editable_content


@pytest.mark.app_config(TRACKER_CONTENT_CHECK_S=1, TRACKER_BURST_S=NO_BUDGET_LIMIT, RATELIMIT_ENABLED=False)
def test_content_rewritten_under_load_swaps_without_a_failed_heartbeat_and_refuses_invalid_files(
    app, editable_content, caplog
):
    store = app.extensions["tracker.content"]
    first_index = store.index
    senders = [heartbeat, heartbeat, module_heartbeat]
    titles = []
    with Load(app, senders, pause_s=0.01) as load:
        load.wait_for_deliveries(3)
        for revision in range(1, 4):  # valid changes: the module's title
            title = f"How Memory Works, revision {revision}"
            rewrite_module(editable_content, lambda s, t=title: s.replace(f'title: "{titles[-1] if titles else "How Memory Works"}"', f'title: "{t}"', 1))
            titles.append(title)
            wait_for(lambda t=title: served_title(store) == t, message=f"the server to serve {title!r}")
        # An invalid change: refused, logged, and the old content stays in service.
        good = (editable_content / "modules" / f"{MODULE}.md").read_text()
        rewrite_module(editable_content, lambda s: s.replace(str(first_index.modules_by_slug[MODULE].outcomes[0].id), "not-a-uuid", 1))
        wait_for(lambda: "not-a-uuid" in str(store.last_error or ""), message="the invalid content to be refused")
        assert served_title(store) == titles[-1]
        load.wait_for_deliveries(3, after=time.monotonic())  # heartbeats go on against the old index
        (editable_content / "modules" / f"{MODULE}.md").write_text(good.replace(titles[-1], "How Memory Works, fixed"))
        wait_for(lambda: served_title(store) == "How Memory Works, fixed", message="the fixed content to be served")
        load.wait_for_deliveries(3, after=time.monotonic())

    assert {a.status for a in load.answers} <= {200, 204}
    assert any("content reload refused" in r.getMessage() and "not-a-uuid" in r.getMessage() for r in caplog.records)
    figures = load.check_nothing_lost_or_doubled()
    print(f"\n[content reload] {len(load.answers)} requests, all 2xx, during 5 rewrites (one invalid);"
          f" credited {figures['credited_s']} s = database")


# ---------------------------------------------------------------- (e) SQLite read-only and full


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


def all_rows(path: Path) -> dict:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {
            table: {row[0]: row for row in conn.execute(f"SELECT * FROM {table} ORDER BY id")}
            for table in ("user_content_progress", "users", "chat_sessions", "chat_messages")
        }


def learner_client(app, token: str):
    client = app.test_client()
    client.set_cookie("tracker_anon", token)
    return client


def test_a_read_only_sqlite_database_refuses_every_write_with_503_and_still_serves_pages(
    sqlite_with_progress, content_dir, caplog
):
    path, token = sqlite_with_progress
    before = all_rows(path)
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
    assert all_rows(path) == before


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
    before = all_rows(path)
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
    after = all_rows(path)
    for table, rows in before.items():  # everything saved before is intact
        assert {key: after[table][key] for key in rows} == rows
    print("\n[disk full] writes that still fitted before the first 503: "
          + ", ".join(f"{name} {fitted}" for name, (_, fitted) in refused.items()))


def cannot_grow(dbapi_connection, _record) -> None:
    """The file may not grow beyond its current pages: SQLite answers SQLITE_FULL, as on a full disk."""
    dbapi_connection.execute("PRAGMA max_page_count = 1")  # never below the current size, so: the current size
