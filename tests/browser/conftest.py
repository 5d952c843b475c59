"""Browser fixtures: the real app on a local port, a headless Chromium, and helpers to watch tracking.

The app runs in a background thread (werkzeug, threaded) against the test database: PostgreSQL
when it is reachable, else SQLite (with CI set, PostgreSQL is required, as in tests/conftest.py).
Tables are emptied before every test. Heartbeats come every second and a learner goes inactive
after 3 s; a test may change any setting with `@pytest.mark.app_config(...)`.

Playwright launches the system Chromium (/usr/bin/chromium): it never downloads a browser.
"""
import io
import json
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from conftest import empty_database
from tracker import create_app
from tracker.db import db, dispose_engines
from tracker.models import UserContentProgress

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_DIR = ROOT / "tests" / "screenshots"
HTMX = ROOT / "tracker" / "static" / "vendor" / "htmx.min.js"
HEARTBEAT_PATH = "/api/progress/time"
ANONYMOUS_COOKIE = "tracker_anon"
progress = UserContentProgress.__table__


def poll(condition, timeout: float = 15, interval: float = 0.2, message: str = "condition", page=None):
    """Call `condition()` until it returns something truthy, and return that; fail after `timeout` s.

    With `page`, waits through Playwright so the page's events (requests, console) keep arriving.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}; last value: {value!r}")
        if page is not None:
            page.wait_for_timeout(interval * 1000)
        else:
            time.sleep(interval)


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
    settings = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "TRACKER_CONTENT_DIR": str(content_dir),
        "TRACKER_CONTENT_CHECK_S": 0,
        "TRACKER_HEARTBEAT_INTERVAL_S": 1,
        "TRACKER_INACTIVITY_TIMEOUT_S": 3,
        "SECRET_KEY": "test",
    }
    marker = request.node.get_closest_marker("app_config")
    settings.update(marker.kwargs if marker else {})
    app = create_app(settings)
    empty_database(app)
    yield app
    dispose_engines(app)


class Received:
    """One heartbeat as the server received it, with the answer it gave."""

    def __init__(self, environ, raw: bytes):
        self.at = time.monotonic()
        self.content_type = (environ.get("CONTENT_TYPE") or "").split(";")[0].strip()
        self.sec_fetch_mode = environ.get("HTTP_SEC_FETCH_MODE")  # "no-cors" for a beacon, "cors" for fetch
        self.body = parse_body(raw.decode("utf-8", "replace"), self.content_type)
        self.status = None
        self.credited = None  # X-Credited-Seconds

    @property
    def seconds(self) -> int:
        return int(self.body.get("time_delta_s") or 0)

    def __repr__(self):
        return f"<Received {self.content_type} {self.body} status={self.status} credited={self.credited}>"


class RecordingMiddleware:
    """Wraps the app to note every heartbeat that reaches the server.

    Playwright cannot see every request a page sends: a beacon sent while the page unloads belongs
    to no page any more, so the browser-side log misses it. The server sees them all.
    """

    def __init__(self, app):
        self.app, self.received = app, []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] != "POST" or environ.get("PATH_INFO") != HEARTBEAT_PATH:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        entry = Received(environ, raw)
        self.received.append(entry)

        def recording_start_response(status, headers, exc_info=None):
            entry.status = int(status.split()[0])
            entry.credited = next((int(v) for k, v in headers if k.lower() == "x-credited-seconds"), None)
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)


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
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
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


ANNOTATE = """note => {
    const box = document.createElement("pre");
    box.id = "test-annotation";
    box.textContent = note;
    box.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483647;margin:0;max-width:520px;"
        + "padding:10px 14px;background:#1d2733;color:#f5f7fa;font:13px/1.45 ui-monospace,monospace;"
        + "white-space:pre-wrap;border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.35);opacity:.94";
    document.body.appendChild(box);
}"""


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


def anonymous_token(context) -> str | None:
    """The learner's anonymous token: the value of the page's tracker_anon cookie."""
    return next((c["value"] for c in context.cookies() if c["name"] == ANONYMOUS_COOKIE), None)


@pytest.fixture
def learner_rows(app, context):
    """The progress rows of the browser's learner, straight from the database: {content_id: row}."""

    def read() -> dict:
        token = anonymous_token(context)
        if token is None:
            pytest.fail(f"the browser has no {ANONYMOUS_COOKIE} cookie: the page did not identify the learner")
        with app.app_context(), db.engine.connect() as conn:
            query = select(progress).where(progress.c.anonymous_token == uuid.UUID(token))
            return {str(row["content_id"]): dict(row) for row in conn.execute(query).mappings()}

    return read


@pytest.fixture
def time_spent(learner_rows):
    """{content_id: total_time_spent_s} of the browser's learner."""
    return lambda: {key: row["total_time_spent_s"] for key, row in learner_rows().items()}


def parse_body(raw: str, content_type: str) -> dict:
    """A heartbeat body: form-encoded from htmx, JSON from beacons and retries."""
    if content_type == "application/x-www-form-urlencoded":
        return dict(parse_qsl(raw, keep_blank_values=True))
    try:
        body = json.loads(raw)
    except ValueError:
        return {"_raw": raw}
    return body if isinstance(body, dict) else {"_raw": raw}


class Heartbeat:
    """One heartbeat request the browser sent, with its body parsed and, once known, its outcome."""

    def __init__(self, request):
        self.request = request
        self.at = time.monotonic()
        self.url = request.url
        self.resource_type = request.resource_type  # "xhr" (htmx), "fetch" (retries), "ping" (beacon)
        self.content_type = (request.headers.get("content-type") or "").split(";")[0].strip()
        self.body = parse_body(request.post_data or "", self.content_type)
        self.status = None  # HTTP status once answered
        self.credited = None  # X-Credited-Seconds of a delivered heartbeat
        self.failure = None  # the network error, if it failed

    @property
    def seconds(self) -> int:
        return int(self.body.get("time_delta_s") or 0)

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def __repr__(self):
        return f"<Heartbeat {self.resource_type} {self.body} status={self.status} failure={self.failure}>"


class HeartbeatLog:
    """Every heartbeat request the pages of the context send, in order, as the browser reports them.

    It sees requests that never reach the server (offline), but not a beacon sent while the page
    unloads (Chromium no longer ties it to a page); `received` has those.
    """

    def __init__(self, context):
        self.all: list[Heartbeat] = []
        self._by_request = {}
        self._lock = threading.Lock()
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)

    def _on_request(self, request):
        if request.method == "POST" and request.url.split("?")[0].endswith(HEARTBEAT_PATH):
            heartbeat = Heartbeat(request)
            with self._lock:
                self.all.append(heartbeat)
                self._by_request[id(request)] = heartbeat

    def _on_finished(self, request):
        heartbeat = self._by_request.get(id(request))
        if heartbeat is not None:
            response = request.response()
            if response is not None:
                heartbeat.status = response.status
                credited = response.headers.get("x-credited-seconds")
                heartbeat.credited = int(credited) if credited else None

    def _on_failed(self, request):
        heartbeat = self._by_request.get(id(request))
        if heartbeat is not None:
            heartbeat.failure = request.failure or "failed"

    def __len__(self):
        return len(self.all)

    def since(self, index: int) -> list[Heartbeat]:
        return self.all[index:]

    def seconds(self, content_id: str | None = None, delivered_only: bool = False) -> int:
        return sum(
            h.seconds for h in self.all
            if (content_id is None or h.body.get("content_id") == content_id) and (h.delivered or not delivered_only)
        )

    def wait_for(self, page, count: int, timeout: float = 15) -> list[Heartbeat]:
        """Wait (letting the page's events run) until at least `count` heartbeats were sent."""
        deadline = time.monotonic() + timeout
        while len(self.all) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} heartbeats within {timeout} s, got {len(self.all)}: {self.all}")
            page.wait_for_timeout(100)
        return self.all


@pytest.fixture
def heartbeats(context):
    """Record the heartbeat requests of every page in the test's browser context."""
    return HeartbeatLog(context)


def stay_active(page, until, timeout: float = 20, message: str = "the condition"):
    """Move the mouse like a reader would until `until()` is truthy; fail after `timeout` s."""
    for step in range(int(timeout / 0.25)):
        value = until()
        if value:
            return value
        page.mouse.move(200 + 40 * (step % 5), 300 + 25 * (step % 3))
        page.wait_for_timeout(250)
    pytest.fail(f"still waiting for {message} after {timeout} s of activity")
