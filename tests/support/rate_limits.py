"""What the rate-limit tests share: the requests each limit counts, and what a refusal looks like.

Every sender takes n, the n-th request of a test (completions complete a new lens each time),
and the network address it comes from.
"""
import json
import math
import os
import subprocess
import sys

from sqlalchemy import text

from support.app import RAISED_LIMITS, app_settings
from support.csrf import csrf_token
from tracker.config import DEMO_CONTENT_DIR
from tracker.db import db

MODULE = "how-memory-works"
LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]
CHAT_LENS = "talk-through-how-memory-works"
LENS_PAGE = f"/modules/{MODULE}/{LENSES[0]}"
HERE, ELSEWHERE = "127.0.0.1", "10.0.0.2"  # the test client's address, and another one
EMAIL, PASSWORD = "ada@example.org", "correct horse battery"
MINUTE, HOUR, QUARTER_HOUR = 60, 3600, 900


def lens_id(demo, name: str) -> str:
    return str(demo.lenses_by_name[name].id)


def on(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def send_heartbeat(client, demo, learner, n=0, address=HERE, headers=None):
    body = {"content_id": lens_id(demo, LENSES[0]), "time_delta_s": 10}
    return client.post("/api/progress/time", json=body, headers={**learner.headers, **(headers or {})}, **on(address))


def send_completion(client, demo, learner, n=0, address=HERE):
    body = {"content_id": lens_id(demo, LENSES[n]), "content_type": "lens", "module_slug": MODULE}
    return client.post("/api/progress/complete", json=body, headers=learner.headers, **on(address))


def send_module_progress(client, demo, learner, n=0, address=HERE, **fields):
    body = {"contentId": lens_id(demo, LENSES[n]), **fields}
    return client.post(f"/api/modules/{MODULE}/progress", json=body, headers=learner.headers, **on(address))


def send_module_completion(client, demo, learner, n=0, address=HERE):
    return send_module_progress(client, demo, learner, n, address, completed=True)


def send_chat(client, demo, learner, n=0, address=HERE):
    response = client.post(
        f"/api/modules/{MODULE}/{CHAT_LENS}/chat", json={"message": f"Question {n}?"}, headers=learner.headers, **on(address)
    )
    response.get_data()  # read the streamed answer to its end, as a client would
    return response


def wait_in_words(seconds: int) -> str:
    return f"{seconds} s" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def retry_after(response, window_s: int) -> int:
    """Retry-After in whole seconds, never more than one window away."""
    value = response.headers.get("Retry-After", "")
    assert value.isdigit(), f"Retry-After must be a whole number of seconds, got {value!r}"
    assert 1 <= int(value) <= window_s
    return int(value)


def refused_as_json(response, says: str, window_s: int) -> str:
    """An API refusal: 429, the error shape every API error has, naming the limit and when to try again."""
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    wait_s = retry_after(response, window_s)
    assert response.is_json and set(response.json) == {"error", "status"} and response.json["status"] == 429
    message = response.json["error"]
    assert says in message
    assert message.endswith(f"Try again in {wait_in_words(wait_s)}."), message
    return message


def refused_as_html(response, says: str, window_s: int) -> str:
    """A page refusal: 429 and a message a person can read, saying when to try again."""
    assert response.status_code == 429, response.get_data(as_text=True)[:300]
    wait_s = retry_after(response, window_s)
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert says in html
    assert f"Try again in {wait_in_words(wait_s)}." in html
    return html


def complete_on_the_page(client, lens: str, htmx: bool):
    headers = {"HX-Request": "true", "HX-Target": "completion"} if htmx else {}
    return client.post(f"/modules/{MODULE}/{lens}/complete", data={"csrf_token": csrf_token(client, LENS_PAGE)}, headers=headers)


def log_in(client, email: str, password: str, address: str = HERE):
    data = {"csrf_token": csrf_token(client, "/login"), "email": email, "password": password}
    return client.post("/login", data=data, **on(address))


def sign_up(client, email: str, password: str = PASSWORD, address: str = HERE):
    data = {"csrf_token": csrf_token(client, "/signup"), "email": email, "password": password}
    return client.post("/signup", data=data, **on(address))


def logged_in(client) -> bool:
    return "Log in</a>" not in client.get("/").get_data(as_text=True)


def emails(app) -> list[str]:
    with app.app_context(), db.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT email FROM users")).scalars())


REDIS_URL = os.environ.get("TRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/3")

# A second worker: another process with an app of its own, as gunicorn's workers are.
WORKER = """
import json, sys
from tracker import create_app
settings, token, content_id, count = json.loads(sys.argv[1])
client = create_app(settings).test_client()
body = {"content_id": content_id, "time_delta_s": 1}
statuses = [client.post("/api/progress/time", json=body, headers={"X-Anonymous-Token": token}).status_code
            for _ in range(count)]
print("STATUSES " + json.dumps(statuses))
"""


def heartbeats_from_another_worker(settings: dict, token: str, content_id: str, count: int) -> list[int]:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps([settings, token, content_id, count])],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("STATUSES "))
    return json.loads(line.removeprefix("STATUSES "))


def worker_settings(database_url: str, storage_url: str, prefix: str) -> dict:
    """A worker's settings: 4 heartbeats an hour per learner, counted in `storage_url` under `prefix`."""
    return app_settings(database_url, DEMO_CONTENT_DIR, **(RAISED_LIMITS | {
        "TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER": "4/hour",
        "TRACKER_RATELIMIT_STORAGE_URL": storage_url, "TRACKER_RATELIMIT_KEY_PREFIX": prefix,
    }))
