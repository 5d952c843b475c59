"""Two instances behind nginx (scripts/two-instances) under a 30-second soak (python -m bench.soak).

The soak checks the database against every answer the clients got: each row holds exactly the
seconds credited to it, every LO and module whose required lenses are complete is complete, no
learner has two rows for one item, no request got a 5xx or went unanswered, and both instances
reload a lens title edited half-way through. This test runs it on a database of its own and
asserts that every check passed.

It needs PostgreSQL (TRACKER_TEST_POSTGRES_URL; without it the test is skipped) and nginx. With
CI set, a missing nginx or an unreachable PostgreSQL fails the test instead of skipping it.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bench.processes import free_port
from bench.soak.server import SOAK_RATE_LIMITS

ROOT = Path(__file__).resolve().parent.parent
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
SOAK_SECONDS = 30


def unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the soak test")
    pytest.skip(reason)


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def soak_database():
    """A database of its own on the test server, dropped afterwards."""
    url = os.environ.get("TRACKER_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("TRACKER_TEST_POSTGRES_URL is not set")
    if not os.access(NGINX, os.X_OK):
        unavailable(f"nginx is not installed at {NGINX}")
    parsed = make_url(url).set(drivername="postgresql")
    server = parsed.set(database="postgres").render_as_string(hide_password=False)
    name = f"tracker_soak_test_{os.getpid()}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {name}")
    except psycopg.OperationalError as error:
        unavailable(f"PostgreSQL unreachable at {url}: {error}")
    yield parsed.set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def two_instances(soak_database, tmp_path):
    """scripts/two-instances on that database, with the per-address rate limits raised for the soak."""
    run_dir = tmp_path / "run"
    ports = {"PORT_A": free_port(), "PORT_B": free_port(), "PROXY_PORT": free_port()}
    env = {
        **os.environ, **SOAK_RATE_LIMITS, **{k: str(v) for k, v in ports.items()},
        "DATABASE_URL": soak_database, "SECRET_KEY": uuid.uuid4().hex, "RUN_DIR": str(run_dir),
        "TRACKER_OFFLINE_TUTOR_DELAY_MS": "0",
        # Shared counters in Redis when there is one; the limits are not what this test is about.
        "TRACKER_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/1" if redis_reachable() else "memory://",
        "TRACKER_RATELIMIT_KEY_PREFIX": f"soak-test-{uuid.uuid4().hex[:8]}",
    }
    output = tmp_path / "two-instances.out"
    with open(output, "w") as out:
        script = subprocess.Popen([str(ROOT / "scripts" / "two-instances")], cwd=ROOT, env=env, stdout=out,
                                  stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while "ready:" not in output.read_text():
            if script.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"scripts/two-instances did not start:\n{output.read_text()[-3000:]}")
            time.sleep(0.2)
        yield {"run_dir": run_dir, "database_url": soak_database,
               **{name: f"http://127.0.0.1:{port}" for name, port in ports.items()}}
    finally:
        stop(script, run_dir)


def stop(script: subprocess.Popen, run_dir: Path) -> None:
    """SIGTERM, as a process manager would; the script stops nginx and both instances."""
    script.send_signal(signal.SIGTERM)
    try:
        script.wait(timeout=60)
    except subprocess.TimeoutExpired:
        for pid_file in (run_dir / "a.pid", run_dir / "b.pid", run_dir / "nginx" / "nginx.pid"):
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGKILL)
        script.kill()
        script.wait()
        pytest.fail("scripts/two-instances did not stop within 60 s of SIGTERM")


def instances_served(run_dir: Path) -> Counter:
    """Requests nginx passed to each instance, from its access log."""
    log = (run_dir / "logs" / "nginx-access.log").read_text()
    return Counter(re.findall(r" upstream=127\.0\.0\.1:(\d+) ", log))


def test_soak_behind_nginx_loses_nothing_and_both_instances_reload_content(two_instances, tmp_path):
    run_dir, summary_file = two_instances["run_dir"], tmp_path / "soak.json"
    soak = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--target", two_instances["PROXY_PORT"],
         "--instance", two_instances["PORT_A"], "--instance", two_instances["PORT_B"],
         "--database-url", two_instances["database_url"], "--content-dir", str(run_dir / "content"),
         "--duration", str(SOAK_SECONDS), "--interval", "10", "--learners", "1500", "--json", str(summary_file)],
        cwd=ROOT, capture_output=True, text=True, timeout=SOAK_SECONDS + 180, check=False,
    )
    assert summary_file.exists(), soak.stdout[-3000:] + soak.stderr[-3000:]
    summary = json.loads(summary_file.read_text())
    checks = {name: check for name, check in summary["checks"].items() if name != "database_figures"}
    failed = [name for name, check in checks.items() if not check["passed"]]
    assert not failed, soak.stdout[-6000:]
    assert soak.returncode == 0, soak.stdout[-3000:] + soak.stderr[-3000:]

    heartbeats = summary["traffic"]["heartbeat"]["statuses"]
    assert heartbeats.get("204", 0) > 500, heartbeats  # the load did happen
    assert set(heartbeats) <= {"204", "422"}  # 422: the invalid deltas the soak sends on purpose
    assert checks["time: every row holds exactly what its heartbeats were credited"]["mismatches"] == 0
    assert summary["traffic"]["completion"]["statuses"].get("200", 0) > 0

    reload = checks["content: every instance reloaded the edited content"]
    assert set(reload["seconds_to_reload"]) == {two_instances["PORT_A"], two_instances["PORT_B"]}
    assert reload["pages_after_reload"]["stale"] == 0 < reload["pages_after_reload"]["served"]

    served = instances_served(run_dir)
    port_a, port_b = (two_instances[name].rsplit(":", 1)[1] for name in ("PORT_A", "PORT_B"))
    assert served[port_a] > 0 and served[port_b] > 0, served
