"""The dashboard's numbers on a small data set built by hand through the learner API.

how-memory-works has six required lenses in order: A, B, C (LO 1), D (LO 2, beside an optional
lens), F and G (LO 3). Six learners get there at different speeds and stop at different places;
every heartbeat credits the lens, its LO and the module, as the learner pages send them.
"""

import csv
import io
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from support.admin import Account
from support.database import query_db
from support.learners import ProgressApi
from tracker.db import db
from tracker.progress import dashboard
from tracker.progress.daily import days as daily
from tracker.progress.model import progress

pytestmark = pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000)

MODULE = "how-memory-works"
A, B, C, D, F, G = (
    "memory-in-three-stages",
    "working-memory-limits",
    "focused-and-diffuse-thinking",
    "the-forgetting-curve",
    "illusions-of-competence",
    "talk-through-how-memory-works",
)
# (lens, seconds, completed?) per learner, in the order they worked.
WORK = {
    "L1": [(A, 60, True), (B, 100, True), (C, 1000, True), (D, 100, True), (F, 200, True), (G, 600, True)],
    "L2": [(A, 100, True), (B, 100, True), (C, 1200, True), (D, 100, True), (F, 300, True), (G, 700, True)],
    "L3": [(A, 200, True), (B, 200, True), (C, 1400, True)],
    "L4": [(A, 400, True), (B, 50, False)],
    "L5": [(A, 30, False)],
    "L6": [(B, 120, True)],  # completed the second lens but never the first
}
MODULE_SECONDS = {name: sum(seconds for _, seconds, _ in work) for name, work in WORK.items()}


@pytest.fixture
def learners(new_api, make_learner):
    """The six learners, their work done through the API; {name: learner}."""
    api, made = new_api(), {}
    for name, work in WORK.items():
        learner = made[name] = make_learner()
        for lens, seconds, completed in work:
            assert api.heartbeat(learner, MODULE, lens, seconds).status_code == 204
            if completed and lens == G:  # a chat lens completes once the learner has written to the tutor
                assert api.chat(learner, MODULE, lens).status_code == 200
            if completed:
                assert api.complete(learner, lens, MODULE).status_code == 200
    return made


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def with_connection(app, function, *args):
    with app.app_context(), db.engine.connect() as conn:
        return function(conn, *args)


def test_lens_stats_count_started_and_completed_with_median_and_p90(admin, learners):
    rows = {row["lens"]: row for row in read_csv(admin.get(f"/admin/modules/{MODULE}/lenses.csv"))}
    # A: completed after 60, 100, 200 and 400 s, and L5 is still on it.
    assert (rows[A]["started"], rows[A]["completed"]) == ("5", "4")
    assert float(rows[A]["median_time_to_complete_s"]) == 150  # (100 + 200) / 2
    assert float(rows[A]["p90_time_to_complete_s"]) == 340  # position 3.7: 200 + 0.7 * (400 - 200)
    # B: 100, 100, 120, 200; L4 started it without completing.
    assert (rows[B]["started"], rows[B]["completed"]) == ("5", "4")
    assert float(rows[B]["median_time_to_complete_s"]) == 110
    assert float(rows[B]["p90_time_to_complete_s"]) == 176
    assert float(rows[A]["completion_rate"]) == 0.8
    assert rows["storage-and-retrieval-strength"]["started"] == "0"
    assert rows["storage-and-retrieval-strength"]["median_time_to_complete_s"] == ""


def test_outcome_and_module_stats_use_their_own_time_to_complete(app, demo, learners):
    module = demo.modules_by_slug[MODULE]
    report = with_connection(app, dashboard.module_report, demo, module)
    first = report["outcomes"][0]
    assert (first["started"], first["completed"]) == (6, 3)
    assert first["median_s"] == 1400  # L1 1160, L2 1400, L3 1800
    assert first["p90_s"] == 1720
    assert (report["stats"]["started"], report["stats"]["completed"]) == (6, 2)
    assert report["stats"]["median_s"] == (2060 + 2500) / 2
    assert report["stats"]["p90_s"] == 2456  # 2060 + 0.9 * 440


def test_module_table_on_the_overview_and_its_csv_agree(admin, learners):
    rows = {row["module_slug"]: row for row in read_csv(admin.get("/admin/exports/modules.csv"))}
    assert (rows[MODULE]["started"], rows[MODULE]["completed"]) == ("6", "2")
    assert float(rows[MODULE]["completion_rate"]) == pytest.approx(1 / 3, abs=1e-4)
    assert float(rows[MODULE]["median_time_to_complete_s"]) == 2280
    assert rows["retrieval-practice"]["started"] == "0"
    html = admin.get("/admin/").get_data(as_text=True)
    assert "38 min" in html  # 2280 s, the median, in the module table


def test_funnel_counts_learners_through_each_required_lens_in_order(app, demo, learners):
    module = demo.modules_by_slug[MODULE]
    report = with_connection(app, dashboard.module_report, demo, module)
    # L6 completed B without A, so never passes step 1; the optional lens is not a step.
    assert [step["learners"] for step in report["funnel"]] == [6, 4, 3, 3, 2, 2, 2]
    assert [step["lost"] for step in report["funnel"]] == [0, 2, 1, 0, 1, 0, 0]
    dropoff = {row["outcome"].title[:8]: (row["reached"], row["through"]) for row in report["dropoff"]}
    assert list(dropoff.values()) == [(6, 3), (3, 2), (2, 2)]


def test_funnel_ignores_learners_who_never_started_the_module(app, demo, learners, new_api, make_learner):
    other = make_learner()  # completes the shared lens D in another module only
    assert new_api().complete(other, D, "spacing-and-interleaving").status_code == 200
    counts = with_connection(app, dashboard.funnels, [demo.modules_by_slug[MODULE]])
    assert counts[demo.modules_by_slug[MODULE].id] == [6, 4, 3, 3, 2, 2, 2]


def test_learner_totals_are_module_level_time_only(admin, app, learners):
    """Lens, LO and module rows hold the same seconds: adding them up would triple the time."""
    rows = read_csv(admin.get("/admin/exports/learners.csv"))
    by_label = {row["learner"]: row for row in rows}
    for name, learner in learners.items():
        row = by_label[f"Anonymous · {learner.token[:8]}"]
        assert int(row["total_time_s"]) == MODULE_SECONDS[name], name
    every_level = query_db(app, "SELECT SUM(total_time_spent_s) FROM user_content_progress")[0][0]
    assert every_level == 3 * sum(MODULE_SECONDS.values())
    l1 = by_label[f"Anonymous · {learners['L1'].token[:8]}"]
    assert (l1["modules_completed"], l1["lenses_completed"]) == ("1", "6")
    l4 = by_label[f"Anonymous · {learners['L4'].token[:8]}"]
    assert (l4["modules_completed"], l4["lenses_completed"]) == ("0", "1")


def test_learner_page_shows_module_time_not_the_sum_of_levels(admin, app, learners):
    token = uuid.UUID(learners["L1"].token)
    row_id = with_connection(
        app,
        lambda conn: conn.execute(select(func.min(progress.c.id)).where(progress.c.anonymous_token == token)).scalar(),
    )
    html = admin.get(f"/admin/learners/anonymous/{row_id}").get_data(as_text=True)
    assert "34 min" in html  # 2060 s at module level; the three levels together would make 1 h 43 min
    assert "1 h 43 min" not in html


def test_completions_per_day_count_each_level(app, learners):
    today = datetime.now(timezone.utc).date()
    per_day = with_connection(app, dashboard.completions_per_day, today)
    assert len(per_day["days"]) == 30 and per_day["days"][-1] == today
    # The last two days, in case the tests run across midnight UTC.
    totals = {level: sum(counts[-2:]) for level, counts in per_day["series"].items()}
    assert totals == {"lens": 6 + 6 + 3 + 1 + 1, "lo": 3 + 3 + 1, "module": 2}


def backdate(app, learner, **moments):
    """Move a learner's timestamps into the past, as if they had been active then."""
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(update(progress).where(progress.c.anonymous_token == uuid.UUID(learner.token)).values(**moments))


def move_days(app, learner, days_back: int):
    """Move a learner's days in the ledger into the past, as if their time had been spent then."""
    with app.app_context(), db.engine.begin() as conn:
        rows = conn.execute(select(daily.c.id, daily.c.utc_day).where(daily.c.anonymous_token == uuid.UUID(learner.token))).all()
        for row_id, day in rows:
            day = day if isinstance(day, date) else date.fromisoformat(day)
            conn.execute(update(daily).where(daily.c.id == row_id).values(utc_day=day - timedelta(days=days_back)))


def test_active_learners_are_counted_by_the_days_they_were_credited_time(app, learners):
    today = datetime.now(timezone.utc).date()
    assert with_connection(app, dashboard.activity_in_days, today)["active_today"] == 6
    move_days(app, learners["L5"], 3)
    move_days(app, learners["L4"], 10)
    backdate(app, learners["L3"], started_at=datetime.now(timezone.utc) - timedelta(days=30))  # started long ago, active today
    activity = with_connection(app, dashboard.activity_in_days, today)
    assert (activity["active_today"], activity["active_7d"]) == (4, 5)
    # The window is today and the 6 days before: a day 6 days back is in it, 7 days back is not.
    move_days(app, learners["L5"], 3)
    assert with_connection(app, dashboard.activity_in_days, today)["active_7d"] == 5
    move_days(app, learners["L5"], 1)
    assert with_connection(app, dashboard.activity_in_days, today)["active_7d"] == 4


def test_active_learners_count_accounts_and_anonymous_tokens_once_each(app, demo, learners):
    account = Account(app, "learner@example.org")
    api = ProgressApi(account.client, demo)
    assert api.heartbeat(account, MODULE, A, 30).status_code == 204
    assert api.heartbeat(account, "retrieval-practice", "the-testing-effect", 30).status_code == 204
    activity = with_connection(app, dashboard.activity_in_days, datetime.now(timezone.utc).date())
    assert (activity["active_today"], activity["active_7d"]) == (7, 7)


def test_tracked_time_in_the_last_7_days_is_exactly_the_module_time_of_those_days(app, learners):
    today = datetime.now(timezone.utc).date()
    assert with_connection(app, dashboard.activity_in_days, today)["tracked_7d_s"] == sum(MODULE_SECONDS.values())
    move_days(app, learners["L3"], 6)
    assert with_connection(app, dashboard.activity_in_days, today)["tracked_7d_s"] == sum(MODULE_SECONDS.values())
    move_days(app, learners["L3"], 1)  # 7 days back: out of the window, to the second
    expected = sum(MODULE_SECONDS.values()) - MODULE_SECONDS["L3"]
    assert with_connection(app, dashboard.activity_in_days, today)["tracked_7d_s"] == expected