"""What the browser tests are made of: Chromium's settings, heartbeat logs on both sides, and helpers for pages.

Playwright launches the system Chromium (TRACKER_TEST_CHROMIUM, default /usr/bin/chromium): it
never downloads a browser. Without it the browser tests are skipped, saying how to install it;
with CI set they fail (tests/browser/conftest.py).
"""
import io
import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

CHROMIUM = os.environ.get("TRACKER_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS_DIR = ROOT / "tests" / "screenshots"
HTMX = ROOT / "tracker" / "static" / "vendor" / "htmx.min.js"
HEARTBEAT_PATH = "/api/progress/time"
ANONYMOUS_COOKIE = "tracker_anon"
# Page scripts that hide the tab and show it again, as switching tabs does (Playwright's pages stay visible).
HIDE = """() => {
    Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
    Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
    document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
    delete document.visibilityState;
    delete document.hidden;
    document.dispatchEvent(new Event("visibilitychange"));
}"""
# The browser's pages heartbeat every second and go inactive after 3 s; a test may change them.
FAST_TRACKING = {"TRACKER_HEARTBEAT_INTERVAL_S": 1, "TRACKER_INACTIVITY_TIMEOUT_S": 3}


def chromium_missing() -> str | None:
    """Why the browser tests cannot run here, in one line that says how to fix it; None when they can."""
    if os.access(CHROMIUM, os.X_OK):
        return None
    return (
        f"no Chromium at {CHROMIUM}: install it (apt-get install chromium) or set"
        " TRACKER_TEST_CHROMIUM to its path to run the browser tests"
    )


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


ANNOTATE = """note => {
    const box = document.createElement("pre");
    box.id = "test-annotation";
    box.textContent = note;
    box.style.cssText = "position:fixed;right:16px;bottom:16px;z-index:2147483647;margin:0;max-width:520px;"
        + "padding:10px 14px;background:#1d2733;color:#f5f7fa;font:13px/1.45 ui-monospace,monospace;"
        + "white-space:pre-wrap;border-radius:6px;box-shadow:0 2px 10px rgba(0,0,0,.35);opacity:.94";
    document.body.appendChild(box);
}"""


def anonymous_token(context) -> str | None:
    """The learner's anonymous token: the value of the page's tracker_anon cookie."""
    return next((c["value"] for c in context.cookies() if c["name"] == ANONYMOUS_COOKIE), None)


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


def stay_active(page, until, timeout: float = 20, message: str = "the condition"):
    """Move the mouse like a reader would until `until()` is truthy; fail after `timeout` s."""
    for step in range(int(timeout / 0.25)):
        value = until()
        if value:
            return value
        page.mouse.move(200 + 40 * (step % 5), 300 + 25 * (step % 3))
        page.wait_for_timeout(250)
    pytest.fail(f"still waiting for {message} after {timeout} s of activity")
