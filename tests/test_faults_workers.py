"""A gunicorn worker killed mid-request: its heartbeat writes nothing, and the learner's retry is credited once."""
import http.client
import json
import os
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from bench.gunicorn import Gunicorn
from bench.processes import free_port
from support.faults import LENS, LIVENESS_S, backend_pid, blocked_by, level_totals, lock_module_row, placement, wait_for
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content


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
