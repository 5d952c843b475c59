"""Rate limits: heartbeats, completions, chat, logins and sign-ups answer 429 with Retry-After.

Each limit counts per learner and per network address, and a refused request writes nothing.
Counters live in each process's memory, or in Redis (TRACKER_RATELIMIT_STORAGE_URL) where every
worker and server counts together. conftest raises every limit out of reach; each test here sets
the small limits it is about with `app_config`.

Flask-Limiter's fixed window starts at a key's first hit, so a window rolls over only if a test
runs for longer than the window. Limits are "N/hour" unless a test is about a shorter window.
"""
import json
import math
import os
import subprocess
import sys
import uuid

import pytest
import redis
from limits.storage import MemoryStorage, RedisStorage
from sqlalchemy import text

from admin_support import OwnContextClient
from conftest import csrf_token, empty_database
from tracker import create_app
from tracker.config import DEMO_CONTENT_DIR, RATE_LIMIT_SETTINGS, ConfigError, load_settings
from tracker.db import db, dispose_engines
from tracker.http.ratelimit import ViewLimiter, limiter

MODULE = "how-memory-works"
LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]
CHAT_LENS = "talk-through-how-memory-works"
LENS_PAGE = f"/modules/{MODULE}/{LENSES[0]}"
HERE, ELSEWHERE = "127.0.0.1", "10.0.0.2"  # the test client's address, and another one
EMAIL, PASSWORD = "ada@example.org", "correct horse battery"
MINUTE, HOUR, QUARTER_HOUR = 60, 3600, 900
TABLES = ("users", "user_content_progress", "chat_sessions", "chat_messages")
app_config = pytest.mark.app_config


# --- helpers ----------------------------------------------------------------------------------


@pytest.fixture
def database_state(app):
    """Every row of every table the app writes: equal before and after means nothing was written."""

    def state() -> dict:
        with app.app_context(), db.engine.connect() as conn:
            return {table: sorted(repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {table}")))
                    for table in TABLES}

    return state


def lens_id(demo, name: str) -> str:
    return str(demo.lenses_by_name[name].id)


def on(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


# Every sender takes n, the n-th request of a test: completions complete a new lens each time.
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


# --- per learner ------------------------------------------------------------------------------


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="3/minute")
def test_a_learner_over_the_heartbeat_limit_gets_429_with_retry_after_and_nothing_is_written(
    client, demo, make_learner, progress_rows, database_state
):
    learner = make_learner()
    served = [send_heartbeat(client, demo, learner) for _ in range(3)]
    assert [r.status_code for r in served] == [204, 204, 204]
    credited = sum(int(r.headers["X-Credited-Seconds"]) for r in served)
    assert credited > 0
    before = database_state()

    refused = send_heartbeat(client, demo, learner)
    refused_as_json(refused, "Too many heartbeats from this learner: the limit is 3 a minute.", MINUTE)
    assert database_state() == before
    assert progress_rows(learner)[lens_id(demo, LENSES[0])]["total_time_spent_s"] == credited

    assert send_heartbeat(client, demo, make_learner()).status_code == 204, "another learner has their own allowance"


LIMITS_PER_LEARNER = [
    pytest.param(send_completion, "Too many completions from this learner: the limit is 2 an hour.", HOUR,
                 marks=app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="2/hour"), id="api-completion"),
    pytest.param(send_module_completion, "Too many completions from this learner: the limit is 2 an hour.", HOUR,
                 marks=app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="2/hour"), id="module-progress-completing"),
    pytest.param(send_chat, "Too many messages to the tutor from this learner: the limit is 2 a minute.", MINUTE,
                 marks=app_config(TRACKER_CHAT_MESSAGES_PER_MINUTE=2), id="chat"),
]


@pytest.mark.parametrize("send, says, window_s", LIMITS_PER_LEARNER)
def test_a_learner_over_the_limit_gets_429_and_nothing_is_written_while_another_learner_is_served(
    client, demo, make_learner, database_state, chat_rows, send, says, window_s
):
    learner = make_learner()
    assert [send(client, demo, learner, n).status_code for n in range(2)] == [200, 200]
    before = database_state()

    refused_as_json(send(client, demo, learner, 2), says, window_s)
    assert database_state() == before
    assert "Question 2?" not in [text for _, text, _ in chat_rows(learner.token)], "a refused message is not kept"

    assert send(client, demo, make_learner(), 2).status_code == 200


def complete_on_the_page(client, lens: str, htmx: bool):
    headers = {"HX-Request": "true", "HX-Target": "completion"} if htmx else {}
    return client.post(f"/modules/{MODULE}/{lens}/complete", data={"csrf_token": csrf_token(client, LENS_PAGE)}, headers=headers)


@pytest.mark.parametrize(
    "htmx, served, shape",
    [(True, 200, '<p class="error" role="alert">'), (False, 303, "<h1>429</h1>")],
    ids=["htmx-fragment", "full-page"],
)
@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="1/hour")
def test_a_refused_completion_on_the_lens_page_is_a_readable_html_message_and_writes_nothing(
    client, database_state, htmx, served, shape
):
    assert complete_on_the_page(client, LENSES[0], htmx).status_code == served
    before = database_state()

    refused = complete_on_the_page(client, LENSES[1], htmx)
    html = refused_as_html(refused, "Too many completions from this learner: the limit is 1 an hour.", HOUR)
    assert html.lstrip().startswith(shape) if htmx else shape in html  # htmx swaps a fragment in; a form gets a page
    assert database_state() == before


@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="2/hour")
def test_completions_from_the_page_and_the_api_count_together_for_one_learner(client, demo, make_learner, database_state):
    assert complete_on_the_page(client, LENSES[0], htmx=True).status_code == 200
    learner = make_learner(client.get_cookie("tracker_anon").value)  # the page's learner, calling the API
    assert send_completion(client, demo, learner, 1).status_code == 200
    before = database_state()
    refused_as_html(complete_on_the_page(client, LENSES[2], htmx=True), "Too many completions from this learner", HOUR)
    assert database_state() == before


@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="1/hour")
def test_module_progress_counts_as_a_completion_only_when_it_completes(client, demo, make_learner, database_state):
    learner = make_learner()
    # Reporting time alone is no completion: however often, the one completion allowed is still there.
    for _ in range(3):
        assert send_module_progress(client, demo, learner, 0, timeSpentS=10).status_code == 200
    assert send_module_progress(client, demo, learner, 0, timeSpentS=10, completed=False).status_code == 200
    assert send_completion(client, demo, learner, 0).status_code == 200
    before = database_state()

    refused = send_module_progress(client, demo, learner, 1, timeSpentS=10, completed=True)
    refused_as_json(refused, "Too many completions from this learner", HOUR)
    assert database_state() == before, "neither the completion nor the time it carried is written"
    assert send_module_progress(client, demo, learner, 1, timeSpentS=10).status_code == 200


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="2/hour")
def test_module_progress_uses_up_the_same_heartbeat_allowance_as_heartbeats(client, demo, make_learner, database_state):
    learner = make_learner()
    assert send_heartbeat(client, demo, learner).status_code == 204
    assert send_module_progress(client, demo, learner, 0, timeSpentS=10).status_code == 200
    before = database_state()
    refused_as_json(send_heartbeat(client, demo, learner), "Too many heartbeats from this learner", HOUR)
    refused_as_json(send_module_progress(client, demo, learner, 0, timeSpentS=10), "Too many heartbeats from this learner", HOUR)
    assert database_state() == before


# --- per network address ----------------------------------------------------------------------

LIMITS_PER_ADDRESS = [
    pytest.param(send_heartbeat, 204, "Too many heartbeats from this network address: the limit is 2 an hour.",
                 marks=app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_IP="2/hour"), id="heartbeat"),
    pytest.param(send_completion, 200, "Too many completions from this network address: the limit is 2 an hour.",
                 marks=app_config(TRACKER_RATELIMIT_COMPLETION_PER_IP="2/hour"), id="api-completion"),
    pytest.param(send_module_completion, 200, "Too many completions from this network address: the limit is 2 an hour.",
                 marks=app_config(TRACKER_RATELIMIT_COMPLETION_PER_IP="2/hour"), id="module-progress-completing"),
    pytest.param(send_chat, 200, "Too many messages to the tutor from this network address: the limit is 2 an hour.",
                 marks=app_config(TRACKER_RATELIMIT_CHAT_PER_IP="2/hour"), id="chat"),
]


@pytest.mark.parametrize("send, served, says", LIMITS_PER_ADDRESS)
def test_many_learners_from_one_address_share_its_limit_while_another_address_is_served(
    client, demo, make_learner, database_state, send, served, says
):
    assert [send(client, demo, make_learner()).status_code for _ in range(2)] == [served, served]
    newcomer = make_learner()
    before = database_state()

    refused_as_json(send(client, demo, newcomer), says, HOUR)
    assert database_state() == before

    assert send(client, demo, newcomer, address=ELSEWHERE).status_code == served


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="2/hour", TRACKER_RATELIMIT_HEARTBEAT_PER_IP="4/hour")
def test_heartbeats_refused_per_learner_do_not_use_up_the_address_allowance(client, demo, make_learner):
    # Both limits are per hour: Flask-Limiter checks limits in order of their unit, and the
    # per-learner one comes first only among limits of the same unit.
    eager = make_learner()
    assert [send_heartbeat(client, demo, eager).status_code for _ in range(5)] == [204, 204, 429, 429, 429]
    # The address has counted only the two heartbeats it served, so two are left for a classmate.
    classmate = make_learner()
    assert [send_heartbeat(client, demo, classmate).status_code for _ in range(2)] == [204, 204]
    refused_as_json(send_heartbeat(client, demo, make_learner()), "Too many heartbeats from this network address", HOUR)


@app_config(TRACKER_PROXY_HOPS=1, TRACKER_RATELIMIT_HEARTBEAT_PER_IP="2/hour")
def test_behind_a_proxy_the_forwarded_client_address_is_what_the_limit_counts(client, demo, make_learner):
    # Every request comes from the proxy at 127.0.0.1; only X-Forwarded-For tells the clients apart.
    def from_client(forwarded_for: str):
        return send_heartbeat(client, demo, make_learner(), headers={"X-Forwarded-For": forwarded_for})

    assert [from_client("203.0.113.7").status_code for _ in range(2)] == [204, 204]
    refused_as_json(from_client("203.0.113.7"), "Too many heartbeats from this network address", HOUR)
    # A client's own X-Forwarded-For comes first; the proxy appends the address it saw, and that one counts.
    refused_as_json(from_client("198.51.100.1, 203.0.113.7"), "Too many heartbeats from this network address", HOUR)
    assert from_client("203.0.113.8").status_code == 204, "another client behind the same proxy is served"


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_IP="2/hour")
def test_without_a_proxy_a_forged_x_forwarded_for_gets_no_fresh_allowance(client, demo, make_learner, database_state):
    assert [send_heartbeat(client, demo, make_learner()).status_code for _ in range(2)] == [204, 204]
    before = database_state()
    forged = send_heartbeat(client, demo, make_learner(), headers={"X-Forwarded-For": "198.51.100.99"})
    refused_as_json(forged, "Too many heartbeats from this network address", HOUR)
    assert database_state() == before


# --- logins and sign-ups ----------------------------------------------------------------------


def log_in(client, email: str, password: str, address: str = HERE):
    data = {"csrf_token": csrf_token(client, "/login"), "email": email, "password": password}
    return client.post("/login", data=data, **on(address))


def sign_up(client, email: str, password: str = PASSWORD, address: str = HERE):
    data = {"csrf_token": csrf_token(client, "/signup"), "email": email, "password": password}
    return client.post("/signup", data=data, **on(address))


def logged_in(client) -> bool:
    return "Log in</a>" not in client.get("/").get_data(as_text=True)


@pytest.fixture
def account(browser_like):
    """An account for EMAIL, and the browser logged out again."""
    assert browser_like.signup(EMAIL, PASSWORD).status_code == 303
    assert browser_like.logout().status_code == 303
    assert not logged_in(browser_like.client)
    return EMAIL


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="3 per 15 minutes")
def test_after_repeated_failed_logins_even_the_right_password_gets_429_until_the_window_ends(
    client, account, database_state
):
    assert [log_in(client, account, "wrong password").status_code for _ in range(3)] == [422, 422, 422]
    before = database_state()

    # Refused before the password is checked: a guesser learns nothing, even when the guess is right.
    refused = log_in(client, account, PASSWORD)
    html = refused_as_html(
        refused, "Too many failed logins for this email from this network address: the limit is 3 per 15 minutes.", QUARTER_HOUR
    )
    assert "<h1>429</h1>" in html
    assert not logged_in(client)
    assert database_state() == before

    assert log_in(client, account, PASSWORD, address=ELSEWHERE).status_code == 303, "the owner elsewhere is not locked out"


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="2/hour", TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP="2/hour")
def test_successful_logins_do_not_count_against_the_failed_login_limit(client, browser_like, account):
    assert log_in(client, account, "wrong password").status_code == 422
    for _ in range(3):
        assert log_in(client, account, PASSWORD).status_code == 303
        browser_like.logout()
    assert log_in(client, account, "wrong password").status_code == 422, "one failure is still left"
    refused_as_html(log_in(client, account, PASSWORD), "Too many failed logins", HOUR)


@app_config(TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP_AND_EMAIL="2/hour", TRACKER_RATELIMIT_LOGIN_FAILURES_PER_IP="4/hour")
def test_another_email_from_the_same_address_has_its_own_allowance_until_the_address_limit(client, account):
    assert [log_in(client, account, "wrong").status_code for _ in range(2)] == [422, 422]
    refused_as_html(log_in(client, account, "wrong"), "Too many failed logins for this email from this network address", HOUR)

    assert [log_in(client, "grace@example.org", "wrong").status_code for _ in range(2)] == [422, 422]
    # Four failures from this address now, whatever the emails: a third email is refused at once.
    refused_as_html(
        log_in(client, "alan@example.org", "wrong"),
        "Too many failed logins from this network address: the limit is 4 an hour.", HOUR,
    )
    assert log_in(client, "alan@example.org", "wrong", address=ELSEWHERE).status_code == 422


def emails(app) -> list[str]:
    with app.app_context(), db.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT email FROM users")).scalars())


@app_config(TRACKER_RATELIMIT_SIGNUP_PER_LEARNER="2/hour")
def test_one_browser_sending_too_many_signups_gets_429_and_no_account_is_made(app, client, database_state):
    client.get("/")  # the browser gets its anonymous cookie, which names it
    assert [sign_up(client, f"ada{n}@example.org", "short").status_code for n in range(2)] == [422, 422]
    before = database_state()

    refused = sign_up(client, EMAIL)
    refused_as_html(refused, "Too many sign-ups from this browser: the limit is 2 an hour.", HOUR)
    assert database_state() == before and emails(app) == []

    # Browsers without our cookie cannot be told apart, so only the address limit counts them:
    # more of them than one browser's allowance are served.
    newcomers = [f"newcomer{n}@example.org" for n in range(3)]
    assert [sign_up(OwnContextClient(app), email).status_code for email in newcomers] == [303, 303, 303]
    assert emails(app) == newcomers


@app_config(TRACKER_RATELIMIT_SIGNUP_PER_IP="2/hour")
def test_signups_from_one_address_are_limited_together_while_another_address_is_served(app, database_state):
    # Fresh browsers without a cookie (each with its own CSRF token): only their address tells them apart.
    assert [sign_up(OwnContextClient(app), f"ada{n}@example.org").status_code for n in range(2)] == [303, 303]
    before = database_state()

    refused = sign_up(OwnContextClient(app), EMAIL)
    refused_as_html(refused, "Too many sign-ups from this network address: the limit is 2 an hour.", HOUR)
    assert database_state() == before

    assert sign_up(OwnContextClient(app), EMAIL, address=ELSEWHERE).status_code == 303
    assert EMAIL in emails(app)


# --- settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["lots", "0/minute", "10 per fortnight", "5"])
def test_an_invalid_rate_limit_setting_stops_the_app_with_its_name(tmp_path, value):
    with pytest.raises(ConfigError, match="TRACKER_RATELIMIT_HEARTBEAT_PER_IP"):
        load_settings(str(tmp_path), {"TRACKER_RATELIMIT_HEARTBEAT_PER_IP": value, "SECRET_KEY": "test"})


@pytest.mark.parametrize("name", [name for name, _ in RATE_LIMIT_SETTINGS])
def test_every_rate_limit_is_checked_from_the_environment_and_from_create_app(tmp_path, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(str(tmp_path), {name: "lots", "SECRET_KEY": "test"})
    # Settings given to create_app() skip load_settings; the limiter checks them itself.
    with pytest.raises(ConfigError, match=name):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'unused.sqlite3'}", "SECRET_KEY": "test", name: "lots"})


def test_a_chat_limit_under_one_message_a_minute_stops_the_app_with_its_name(tmp_path):
    with pytest.raises(ConfigError, match="TRACKER_CHAT_MESSAGES_PER_MINUTE"):
        load_settings(str(tmp_path), {"TRACKER_CHAT_MESSAGES_PER_MINUTE": "0", "SECRET_KEY": "test"})


# --- storage: each process alone, or every worker together in Redis ---------------------------

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


@pytest.fixture
def shared_redis():
    """Redis for shared counters, under a key prefix of this test's own, whose keys go afterwards.

    With CI set, an unreachable Redis is a failure, not a skip.
    """
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as error:
        connection.close()
        if os.environ.get("CI"):
            pytest.fail(f"Redis is required in CI but unreachable at {REDIS_URL}: {error}")
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    prefix = f"tracker-test-{uuid.uuid4().hex}"
    yield connection, prefix
    keys = list(connection.scan_iter(match=f"{prefix}*"))  # the test's other prefixes start with it too
    if keys:
        connection.delete(*keys)
    connection.close()


def worker_settings(database_url: str, storage_url: str, prefix: str) -> dict:
    return {
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "TRACKER_CONTENT_DIR": str(DEMO_CONTENT_DIR),
        "TRACKER_CONTENT_CHECK_S": 0, "SECRET_KEY": "test",
        **{name: "1000000/minute" for name, _ in RATE_LIMIT_SETTINGS},
        "TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER": "4/hour",
        "TRACKER_RATELIMIT_STORAGE_URL": storage_url, "TRACKER_RATELIMIT_KEY_PREFIX": prefix,
    }


@pytest.mark.parametrize(
    "storage, other_prefix, shared",
    [("memory", False, False), ("redis", False, True), ("redis", True, False)],
    ids=["memory-each-worker-alone", "redis-workers-count-together", "redis-other-key-prefix-counts-apart"],
)
def test_workers_share_counters_in_redis_and_count_alone_in_memory(
    request, database_url, make_learner, storage, other_prefix, shared
):
    if storage == "redis":
        connection, prefix = request.getfixturevalue("shared_redis")
        settings = worker_settings(database_url, REDIS_URL, prefix)
    else:
        settings = worker_settings(database_url, "memory://", "tracker")
    this_worker = create_app(settings)
    try:
        empty_database(this_worker)
        content_id = str(this_worker.extensions["tracker.content"].index.lenses_by_name[LENSES[0]].id)
        learner = make_learner()

        def heartbeats_here(count: int) -> list[int]:
            client = this_worker.test_client()
            body = {"content_id": content_id, "time_delta_s": 1}
            return [client.post("/api/progress/time", json=body, headers=learner.headers).status_code for _ in range(count)]

        assert heartbeats_here(2) == [204, 204]
        other = {**settings, "TRACKER_RATELIMIT_KEY_PREFIX": f"{prefix}-other"} if other_prefix else settings
        there = heartbeats_from_another_worker(other, learner.token, content_id, 5)
        if shared:
            # 4 an hour across both workers: this one took 2, so the other gets 2, and then 429 here too.
            assert there == [204, 204, 429, 429, 429]
            assert heartbeats_here(1) == [429]
            assert list(connection.scan_iter(match=f"{prefix}:*")), "the counters are in Redis, under the prefix"
        else:
            # Each worker counts alone: the other has its own 4.
            assert there == [204, 204, 204, 204, 429]
            assert heartbeats_here(3) == [204, 204, 429]
    finally:
        dispose_engines(this_worker)


# Last in this file: Flask-Limiter keeps "the storage is down" on the process's one limiter, so the
# apps of the next tests count in its memory fallback until it checks the storage again.
@app_config(TRACKER_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0", TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="2/hour")
def test_with_redis_unreachable_requests_are_served_and_limits_hold_in_this_process(
    client, demo, make_learner, database_state
):
    learner = make_learner()
    assert [send_heartbeat(client, demo, learner).status_code for _ in range(2)] == [204, 204]
    # Redis is what is configured, but the counting falls back to this process's memory.
    assert isinstance(limiter.storage, RedisStorage)
    assert isinstance(limiter.limiter.storage, MemoryStorage)
    before = database_state()
    refused_as_json(send_heartbeat(client, demo, learner), "Too many heartbeats from this learner", HOUR)
    assert database_state() == before
    assert send_heartbeat(client, demo, make_learner()).status_code == 204


def test_the_limiter_skips_its_app_wide_check_and_still_checks_every_view(app, client, make_learner, monkeypatch):
    """ViewLimiter overrides a private method of Flask-Limiter (pinned to 4.1 in pyproject.toml).

    If a Flask-Limiter release stopped calling it, the app-wide check would come back on every
    request, unnoticed, or the views' own limits would stop being checked: this fails instead.
    """
    before_each_request = [getattr(hook, "__func__", hook) for hook in app.before_request_funcs[None]]
    assert ViewLimiter._check_request_limit in before_each_request, "Flask-Limiter hooks in another method now"

    calls = []
    checked = ViewLimiter._check_request_limit

    def recording(self, callable_name=None, in_middleware=True):
        calls.append(in_middleware)
        return checked(self, callable_name=callable_name, in_middleware=in_middleware)

    monkeypatch.setattr(ViewLimiter, "_check_request_limit", recording)
    learner = make_learner()
    lens = app.extensions["tracker.content"].index.lenses_by_name[LENSES[0]]
    heartbeat = {"content_id": str(lens.id), "time_delta_s": 5}
    assert client.post("/api/progress/time", json=heartbeat, headers=learner.headers).status_code == 204
    assert False in calls, "the heartbeat's own limits are no longer checked through the override"
