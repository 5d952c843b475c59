"""What the fault tests share: bounded requests, learners under load, and checks that nothing was lost or doubled.

Every fault ends in a 503 with Retry-After (JSON under /api/, the error page or its htmx fragment
elsewhere), never a 500 and never a hang: each faulty request runs in a thread joined with a
generous bound, a liveness guard and not a speed assertion. The client retries a 503 (tracker.js
queues the seconds), so the tests check that whatever was answered 2xx is in the database, once.
"""
import threading
import time
import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text

from support.app import app_settings
from support.csrf import csrf_token
from support.database import empty_database
from support.waiting import poll
from tracker import create_app
from tracker.db import db
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
    app = create_app(app_settings(url, content_dir, RATELIMIT_ENABLED=False, **settings))
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


def wait_for(condition, timeout: float = 20, message: str = "the condition"):
    return poll(condition, timeout, interval=0.05, message=message)


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


def learner_client(app, token: str):
    client = app.test_client()
    client.set_cookie("tracker_anon", token)
    return client


@pytest.fixture(name="content_dir")
def copied_content(editable_content):
    """`content_dir` for the fault tests: a copy of the demo content, which the reload test rewrites.

    A test file that imports it runs its tests on the copy.
    """
    return editable_content
