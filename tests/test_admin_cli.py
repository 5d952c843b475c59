"""`flask tracker create-admin` and `flask tracker seed-demo-load`."""

import uuid
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import pytest

from support.admin import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin, run_cli
from support.database import query_db


def test_create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(app, browser_like):
    result = create_admin(app, "Boss@Example.org", "a long enough password")
    assert "created admin boss@example.org" in result.output
    assert query_db(app, "SELECT is_admin FROM users WHERE email = 'boss@example.org'")[0][0] in (True, 1)
    assert browser_like.login("boss@example.org", "a long enough password").status_code == 303
    assert browser_like.client.get("/admin/").status_code == 200


def test_create_admin_promotes_an_existing_account_and_keeps_its_password(app, browser_like):
    browser_like.signup("learner@example.org", "learner password")
    browser_like.logout()
    result = app.test_cli_runner().invoke(args=["tracker", "create-admin", "learner@example.org"], input="")
    assert result.exit_code == 0, result.output
    assert "promoted admin learner@example.org" in result.output
    assert browser_like.login("learner@example.org", "learner password").status_code == 303
    assert browser_like.client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "email, password, message",
    [
        ("someone@example.org", "short", "at least 8 characters"),
        ("not-an-email", "a long enough password", "not an email address"),
    ],
)
def test_create_admin_refuses_bad_input_and_creates_nothing(app, email, password, message):
    result = app.test_cli_runner().invoke(args=["tracker", "create-admin", email], input=password + "\n")
    assert result.exit_code != 0
    assert message in result.output
    assert query_db(app, "SELECT COUNT(*) FROM users")[0][0] == 0


def test_create_admin_twice_is_harmless(app):
    create_admin(app)
    assert "promoted" in create_admin(app).output
    assert query_db(app, "SELECT COUNT(*) FROM users WHERE email = :e", e=ADMIN_EMAIL)[0][0] == 1


def parse_moment(value) -> datetime:
    value = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


@pytest.fixture
def seeded(app):
    result = run_cli(app, "seed-demo-load", "--learners", "150", "--seed", "3")
    assert "added 150 learners" in result.output
    rows = query_db(
        app,
        "SELECT user_id, anonymous_token, content_id, content_type, started_at, last_heartbeat_at,"
        " total_time_spent_s, time_to_complete_s, completed_at FROM user_content_progress",
    )
    learners = defaultdict(dict)
    for row in rows:
        learners[row.user_id or str(row.anonymous_token)][uuid.UUID(str(row.content_id))] = row
    return learners


def test_seeded_completions_are_consistent_with_the_required_lenses(demo, seeded):
    checked = 0
    for rows in seeded.values():
        done = {cid for cid, row in rows.items() if row.completed_at is not None and row.content_type == "lens"}
        for module in demo.modules:
            if module.id in rows:
                assert (rows[module.id].completed_at is not None) == (module.required_lens_ids <= done)
            for outcome in module.outcomes:
                if outcome.id in rows:
                    assert (rows[outcome.id].completed_at is not None) == (outcome.required_lens_ids <= done)
                    checked += 1
    assert checked > 150


def test_seeded_time_is_the_same_at_every_level(demo, seeded):
    for rows in seeded.values():
        for module in demo.modules:
            if module.id in rows:
                outcome_time = sum(rows[o.id].total_time_spent_s for o in module.outcomes if o.id in rows)
                assert rows[module.id].total_time_spent_s == outcome_time
        for row in rows.values():
            assert (row.completed_at is None) == (row.time_to_complete_s is None)
            assert row.time_to_complete_s is None or row.time_to_complete_s <= row.total_time_spent_s


def test_seeded_days_add_up_to_each_module_row_and_lie_between_its_start_and_last_heartbeat(app, demo, seeded):
    days = defaultdict(list)
    for row in query_db(app, "SELECT user_id, anonymous_token, module_id, utc_day, active_s FROM daily_module_time"):
        day = row.utc_day if isinstance(row.utc_day, date) else date.fromisoformat(row.utc_day)
        days[(row.user_id or str(row.anonymous_token), uuid.UUID(str(row.module_id)))].append((day, row.active_s))
    modules = {m.id for m in demo.modules}
    checked = 0
    for learner, rows in seeded.items():
        for content_id, row in rows.items():
            if content_id not in modules:
                continue
            learner_days = days.pop((learner, content_id))
            assert sum(seconds for _, seconds in learner_days) == row.total_time_spent_s
            first, last = parse_moment(row.started_at).date(), parse_moment(row.last_heartbeat_at).date()
            assert all(first <= day <= last and seconds > 0 for day, seconds in learner_days)
            checked += 1
    assert checked > 150 and not days, "a day for every module row, and none for anything else"


def test_seeded_learners_are_spread_over_the_last_60_days_at_various_stages(app, demo, seeded):
    now = datetime.now(timezone.utc)
    starts = [parse_moment(row.started_at) for rows in seeded.values() for row in rows.values()]
    assert min(starts) >= now - timedelta(days=61) and max(starts) <= now
    assert min(starts) < now - timedelta(days=40) and max(starts) > now - timedelta(days=10)
    modules_done = [
        sum(1 for m in demo.modules if m.id in rows and rows[m.id].completed_at) for rows in seeded.values()
    ]
    assert {0, 1, 3} <= set(modules_done)
    accounts = sum(1 for key in seeded if isinstance(key, int))
    assert 0 < accounts < len(seeded) == 150


def test_seeded_accounts_cannot_log_in(app, browser_like, seeded):
    email = query_db(app, "SELECT email FROM users LIMIT 1")[0][0]
    for password in ("", "password", ADMIN_PASSWORD):
        assert browser_like.login(email, password or "x").status_code == 422


def test_seeding_twice_adds_more_learners(app, seeded):
    before = query_db(app, "SELECT COUNT(*) FROM users")[0][0]
    run_cli(app, "seed-demo-load", "--learners", "10", "--seed", "3")
    assert query_db(app, "SELECT COUNT(*) FROM users")[0][0] > before


def test_after_seeding_the_insights_name_a_slow_lens_a_drop_off_and_an_estimate_to_fix(app, seeded, browser_like):
    create_admin(app)
    browser_like.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    html = browser_like.client.get("/admin/insights").get_data(as_text=True)
    assert 'id="slowest-lenses"' in html and "Not enough" not in html
    assert "much slower than estimated" in html or "much faster than estimated" in html
