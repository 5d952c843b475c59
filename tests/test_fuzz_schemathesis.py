"""Schemathesis, a schema-driven fuzzer, against the app as it runs in production: it finds nothing.

The app runs under gunicorn with the production settings file, on PostgreSQL (this run's schema)
when TRACKER_TEST_POSTGRES_URL is set and on SQLite otherwise, with the demo content and the
rate limits raised (the limits have tests of their own; here they would only refuse the fuzz).
Schemathesis reads /api/openapi.json from it and runs every phase: the document's examples
(the served content's real ids, so its requests reach the code behind the routes), coverage of
each schema's edges, fuzzing, and stateful sequences that feed one answer into the next request.
Every check runs but one (see EXCLUDED_CHECKS), and so a server error, an answer that does not
match the document, a valid request refused or an invalid one accepted fails the test, and so
does any warning (an operation that only ever answers 404, a rate limit that refused the fuzz).

With CI set, a missing PostgreSQL or schemathesis fails the test instead of skipping it.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from bench.gunicorn import Gunicorn, GunicornFailed
from bench.processes import free_port
from support.app import app_settings, running_app
from support.fuzz_harness import RAISED_LIMITS
from support.required import missing
from tracker.config import DEMO_CONTENT_DIR

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
# Test cases per operation and phase: the test takes about a minute and a half on two cores.
MAX_EXAMPLES = 120
SEED = 15  # the same cases on every run, as in the Hypothesis fuzz; each failure comes with a curl to reproduce it
EXCLUDED_CHECKS = [
    # ignored_auth sends a token that is not a UUID and expects 401 or 403. The document promises 400
    # for it ("the anonymous token is not a UUID"; tests/test_bad_input.py and test_identity.py hold the
    # app to that), and no well-formed token is wrong: an anonymous learner is whoever holds the UUID.
    # Requests with no learner at all get 401, as tests/test_authorization.py checks for every /api route.
    "ignored_auth",
]
# Any warning fails the run: an operation that never got past 404, a refused rate limit, a schema it cannot read.
CONFIG = "[warnings]\nfail-on = true\n"


@pytest.fixture
def schemathesis() -> Path:
    if not SCHEMATHESIS.exists():
        missing(f"schemathesis is not installed at {SCHEMATHESIS} (scripts/setup installs it from requirements.lock)")
    return SCHEMATHESIS


@pytest.fixture
def fuzz_database_url(request) -> str:
    """This run's PostgreSQL schema when TRACKER_TEST_POSTGRES_URL is set, else SQLite; emptied first."""
    backend = "postgresql_url" if os.environ.get("TRACKER_TEST_POSTGRES_URL") else "sqlite_url"
    url = request.getfixturevalue(backend)
    with running_app(app_settings(url, DEMO_CONTENT_DIR)):  # which empties the database
        pass
    return url


@pytest.fixture
def served_app(fuzz_database_url, tmp_path):
    """gunicorn.conf.py serving the app (two workers, as on this machine), answering /readyz."""
    port = free_port()
    env = {
        **os.environ, **{name: str(value) for name, value in RAISED_LIMITS.items()},
        "DATABASE_URL": fuzz_database_url, "SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4",
        "TRACKER_CONTENT_DIR": str(DEMO_CONTENT_DIR), "TRACKER_CONTENT_CHECK_S": "0",
        "TRACKER_OFFLINE_TUTOR_DELAY_MS": "0", "TRACKER_RATELIMIT_STORAGE_URL": "memory://",
    }
    server = Gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], port=port, env=env, log=tmp_path / "gunicorn.log")
    try:
        try:
            server.wait_ready("/readyz", workers=2, status=200)
        except GunicornFailed as error:
            pytest.fail(str(error))
        yield server
    finally:
        server.stop()


def schemathesis_command(schemathesis: Path, base_url: str, config_file: Path) -> list[str]:
    return [
        str(schemathesis), "--config-file", str(config_file), "--no-color",
        "run", f"{base_url}/api/openapi.json",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--checks", "all", "--exclude-checks", ",".join(EXCLUDED_CHECKS),
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
        # The anonymousToken security scheme: every request is this learner's.
        "--header", f"X-Anonymous-Token: {uuid.uuid4()}",
        # One request at a time, so that a stateful sequence runs in order and SQLite's one writer is never busy.
        "--workers", "1", "--request-timeout", "30",
        "--generation-database", "none",
    ]


def test_schemathesis_finds_no_server_error_and_no_answer_that_breaks_the_document(schemathesis, served_app, tmp_path):
    config_file = tmp_path / "schemathesis.toml"
    config_file.write_text(CONFIG)
    command = schemathesis_command(schemathesis, served_app.base_url, config_file)
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
    print(result.stdout[-3000:])
    assert result.returncode == 0, (
        f"{' '.join(command)}\nexited with {result.returncode}:\n{result.stdout[-30000:]}\n{result.stderr[-5000:]}"
        f"\n--- the server's log, last lines ---\n{served_app.log_tail(60)}"
    )
