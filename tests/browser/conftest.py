"""Browser fixtures: the real app on a local port, a headless Chromium, and helpers to watch tracking.

The app runs in a background thread (werkzeug, threaded) against the test database: PostgreSQL
when it is reachable, else SQLite (with CI set, PostgreSQL is required, as in tests/conftest.py).
Tables are emptied before every test. Heartbeats come every second and a learner goes inactive
after 3 s; a test may change any setting with `@pytest.mark.app_config(...)`.

Playwright launches the system Chromium (TRACKER_TEST_CHROMIUM, default /usr/bin/chromium): it
never downloads a browser. Without Chromium every test here is skipped with one line saying how
to install it; with CI set they fail. What the fixtures are made of is in support/browser.py.
"""
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from support.app import app_settings, marked_settings, running_app
from support.browser import (
    ANNOTATE,
    ANONYMOUS_COOKIE,
    CHROMIUM,
    CHROMIUM_ARGS,
    FAST_TRACKING,
    HTMX,
    ROOT,
    SCREENSHOTS_DIR,
    HeartbeatLog,
    RecordingMiddleware,
    anonymous_token,
    chromium_missing,
)
from support.database import progress_rows_of
from support.required import missing
from support.waiting import poll


@pytest.fixture(scope="session", autouse=True)
def chromium():
    """The system Chromium, checked once: without it every browser test is skipped (fails with CI set)."""
    problem = chromium_missing()
    if problem:
        missing(problem, f"Chromium is required in CI: {problem}")
    return CHROMIUM


@pytest.fixture
def wait_until():
    """`poll` as a fixture: wait_until(condition, timeout=15, message=..., page=None)."""
    return poll


@pytest.fixture
def database_url(request):
    """PostgreSQL when reachable (required with CI set), else SQLite: browser tests run on one backend."""
    try:
        return request.getfixturevalue("postgresql_url")
    except pytest.skip.Exception:
        return request.getfixturevalue("sqlite_url")


@pytest.fixture
def app(request, database_url, content_dir):
    """The app the browser talks to, on an emptied database, with fast heartbeats."""
    if not HTMX.exists():
        pytest.fail(f"{HTMX.relative_to(ROOT)} is missing: run scripts/setup")
    with running_app(app_settings(database_url, content_dir, **(FAST_TRACKING | marked_settings(request)))) as app:
        yield app


@pytest.fixture
def recorder(app):
    return RecordingMiddleware(app)


@pytest.fixture
def received(recorder):
    """Every heartbeat the server received during the test, in order (a list of `Received`)."""
    return recorder.received


@pytest.fixture
def server(recorder):
    """The app served on a free localhost port in a background thread; yields its base URL."""
    httpd = make_server("127.0.0.1", 0, recorder, threaded=True)
    # Track request threads, so that server_close() waits for the last beacons before the engine
    # is disposed (a closing page flushes its seconds on the way out).
    httpd.daemon_threads = False
    thread = threading.Thread(target=httpd.serve_forever, name="tracker-test-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser, server):
    context = browser.new_context(base_url=server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
    page.console_messages = messages  # shown by tests when something goes wrong
    yield page


@pytest.fixture
def screenshot():
    """Save a screenshot to tests/screenshots/<name>.png and return its path.

    `note` is drawn in a dark box at the bottom right (by the test, not the app) to say what the
    picture shows, e.g. the database totals; it is removed again after the shot.
    """

    def save(page, name: str, note: str | None = None, full_page: bool = False) -> Path:
        SCREENSHOTS_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS_DIR / f"{name}.png"
        if note:
            page.evaluate(ANNOTATE, f"test: {name}\n{note}")
        try:
            page.screenshot(path=str(path), full_page=full_page)
        finally:
            if note:
                page.evaluate("() => document.getElementById('test-annotation')?.remove()")
        return path

    return save


@pytest.fixture
def learner_rows(app, context):
    """The progress rows of the browser's learner, straight from the database: {content_id: row}."""

    def read() -> dict:
        token = anonymous_token(context)
        if token is None:
            pytest.fail(f"the browser has no {ANONYMOUS_COOKIE} cookie: the page did not identify the learner")
        return progress_rows_of(app, token)

    return read


@pytest.fixture
def time_spent(learner_rows):
    """{content_id: total_time_spent_s} of the browser's learner."""
    return lambda: {key: row["total_time_spent_s"] for key, row in learner_rows().items()}


@pytest.fixture
def heartbeats(context):
    """Record the heartbeat requests of every page in the test's browser context."""
    return HeartbeatLog(context)
