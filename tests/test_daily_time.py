"""The daily ledger through HTTP: every second a module row is credited is in exactly one UTC day.

The split at an exact moment (a live heartbeat across midnight, a span that ends on it) is in
tests/unit/test_daily_time.py, where the service is given its `now`.
"""
import json
import math
import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from support.csrf import csrf_token
from support.database import ledger_days
from support.learners import ProgressApi

MODULE, OTHER_MODULE = "how-memory-works", "retrieval-practice"
LENS, OTHER_LENS = "memory-in-three-stages", "the-testing-effect"
EMAIL = "days.learner@example.org"
# The page's interval and the server's burst as an operator sets them: a burst of a few intervals.
REALISTIC = dict(TRACKER_BURST_S=90, TRACKER_MAX_DELTA_S=120)


def module_id(demo, slug: str = MODULE) -> uuid.UUID:
    return demo.modules_by_slug[slug].id


def module_total(progress_rows, learner, demo, slug: str = MODULE) -> int:
    return progress_rows(learner)[str(module_id(demo, slug))]["total_time_spent_s"]


@pytest.mark.app_config(**REALISTIC)
def test_live_seconds_are_credited_to_today_in_each_module(app, api, demo, make_learner, progress_rows):
    learner = make_learner()
    before = datetime.now(timezone.utc).date()
    assert api.heartbeat(learner, MODULE, LENS, 30).status_code == 204
    assert api.heartbeat(learner, OTHER_MODULE, OTHER_LENS, 20).status_code == 204
    after = datetime.now(timezone.utc).date()
    days = ledger_days(app, token=learner.token)
    assert sum(seconds for (module, _), seconds in days.items() if module == module_id(demo)) == 30
    assert sum(seconds for (module, _), seconds in days.items() if module == module_id(demo, OTHER_MODULE)) == 20
    assert {day for _, day in days} <= {before - timedelta(days=1), before, after}


@pytest.mark.app_config(**REALISTIC)
def test_what_the_budget_withholds_or_a_repeated_chunk_brings_is_not_in_the_ledger(app, client, api, demo, make_learner, progress_rows):
    learner = make_learner()
    for _ in range(6):  # a flood: 6 × 60 s at once, of which the burst is credited
        assert api.heartbeat(learner, MODULE, LENS, 60).status_code == 204
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    body = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id),
            "time_delta_s": 5, "chunk_id": 77}
    time.sleep(5.2)
    assert client.post("/api/progress/time", json=body, headers=learner.headers).headers["X-Credited-Seconds"] == "5"
    assert client.post("/api/progress/time", json=body, headers=learner.headers).headers["X-Credited-Seconds"] == "0"
    total = module_total(progress_rows, learner, demo)
    assert 95 <= total <= 96
    assert sum(ledger_days(app, token=learner.token).values()) == total


@pytest.mark.app_config(**REALISTIC)
def test_a_lens_only_heartbeat_has_no_module_and_no_day(app, api, make_learner):
    learner = make_learner()
    assert api.heartbeat(learner, MODULE, LENS, 30, levels=()).status_code == 204
    assert ledger_days(app, token=learner.token) == {}


# Queued seconds from two days ago: a learner offline over a weekend, whose page sends its queue
# on Monday. The operator allows queues that old; the burst stays as it is set.
@pytest.mark.app_config(**REALISTIC, TRACKER_MAX_BACKLOG_S=3 * 86_400)
def test_queued_seconds_across_a_utc_midnight_are_split_between_the_two_days(app, client, demo, make_learner):
    """40 queued seconds whose oldest was accrued 15 s before the midnight that began yesterday."""
    learner = make_learner()
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    now = datetime.now(timezone.utc)
    yesterday = now.date() - timedelta(days=1)
    midnight = datetime(yesterday.year, yesterday.month, yesterday.day, tzinfo=timezone.utc)
    age = math.floor((now - midnight).total_seconds()) + 15
    body = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id),
            "time_delta_s": 40, "backlog_age_s": age, "chunk_id": 5}
    response = client.post("/api/progress/time", json=body, headers=learner.headers)
    assert response.status_code == 204 and response.headers["X-Credited-Seconds"] == "40"
    days = ledger_days(app, token=learner.token)
    before, after = days[(module.id, yesterday - timedelta(days=1))], days[(module.id, yesterday)]
    assert before + after == 40 and len(days) == 2
    # The oldest second lies 15 s before midnight, less the fraction of a second the request took.
    assert before in (14, 15), days


def account_id(app, email: str) -> int:
    from support.database import query_db

    return query_db(app, "SELECT id FROM users WHERE email = :email", email=email)[0][0]


@pytest.mark.app_config(**REALISTIC)
def test_logging_in_moves_the_anonymous_days_into_the_account_and_same_days_add_up(app, client, browser_like, api, demo, make_learner):
    browser_like.signup(email=EMAIL)
    page_heartbeat(client, demo, 20)  # the account's own 20 s today
    browser_like.logout()
    learner = make_learner(browser_like.anonymous_token())
    assert api.heartbeat(learner, MODULE, LENS, 30).status_code == 204
    assert api.heartbeat(learner, OTHER_MODULE, OTHER_LENS, 10).status_code == 204
    browser_like.login(email=EMAIL)
    days = ledger_days(app, user_id=account_id(app, EMAIL))
    by_module = {}
    for (module, _), seconds in days.items():
        by_module[module] = by_module.get(module, 0) + seconds
    assert by_module == {module_id(demo): 50, module_id(demo, OTHER_MODULE): 10}
    assert ledger_days(app, token=learner.token) == {}
    browser_like.login(email=EMAIL)  # claiming again finds nothing to move: nothing doubles
    assert sum(ledger_days(app, user_id=account_id(app, EMAIL)).values()) == 60


@pytest.mark.app_config(**REALISTIC)
def test_the_export_has_the_days_and_deleting_my_data_removes_them(app, client, demo, make_learner):
    page_heartbeat(client, demo, 30)
    token = client.get_cookie("tracker_anon").value
    exported = json.loads(client.get("/me/export.json").get_data(as_text=True))
    (day,) = exported["daily_time"]
    assert (day["module_id"], day["active_s"], day["module_title"]) == (str(module_id(demo)), 30, demo.modules_by_slug[MODULE].title)
    today = datetime.now(timezone.utc).date()
    assert day["utc_day"] in {str(today), str(today - timedelta(days=1))}
    other = make_learner()
    assert ProgressApi(app.test_client(), demo).heartbeat(other, MODULE, LENS, 10).status_code == 204
    response = client.post("/me/delete", data={"csrf_token": csrf_token(client, "/me/delete")})
    assert response.status_code == 303
    assert ledger_days(app, token=token) == {}
    assert sum(ledger_days(app, token=other.token).values()) == 10, "no one else's days"


def page_heartbeat(client, demo, seconds: int):
    """A heartbeat as the lens page sends it: identified by the browser's cookies."""
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    body = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id), "time_delta_s": seconds}
    client.get("/")
    assert client.post("/api/progress/time", json=body, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 204


@pytest.mark.app_config(**REALISTIC)
def test_my_progress_shows_a_weekly_chart_once_there_is_time(app, client, demo):
    client.get("/")
    assert 'id="weekly-time"' not in client.get("/me").get_data(as_text=True), "no chart of twelve empty weeks"
    page_heartbeat(client, demo, 90)
    html = client.get("/me").get_data(as_text=True)
    chart = html[html.index('id="weekly-time"'):html.index("</svg>")]
    assert "Active time per week" in chart and chart.count('class="bar"') == 12
    monday = datetime.now(timezone.utc).date() - timedelta(days=datetime.now(timezone.utc).weekday())
    assert f"Week of {monday:%-d %b}: 0 h 1 min" in chart
