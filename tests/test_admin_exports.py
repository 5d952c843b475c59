"""CSV and xAPI exports stream, parse back, and say what the database says."""

import csv
import io
import json
import re
import uuid
from datetime import datetime, timezone

import pytest

from support.admin import Account, run_cli
from support.database import query_db
from support.learners import ProgressApi
from tracker.admin import exports

pytestmark = pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000)
MODULE = "how-memory-works"
DURATION = re.compile(r"^PT(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?$")


def seconds(duration: str) -> int:
    hours, minutes, secs = DURATION.match(duration).groups()
    return int(hours or 0) * 3600 + int(minutes or 0) * 60 + int(secs or 0)


@pytest.fixture
def progress_made(app, demo, new_api, make_learner):
    """An anonymous learner part way into the first LO, and an account through it."""
    anonymous = make_learner()
    api = new_api()
    api.heartbeat(anonymous, MODULE, "memory-in-three-stages", 60)
    api.complete(anonymous, "memory-in-three-stages", MODULE)
    api.heartbeat(anonymous, MODULE, "working-memory-limits", 40)
    account = Account(app, "ada@example.org", display_name="Ada")
    account_api = ProgressApi(account.client, demo)
    for lens, spent in (
        ("memory-in-three-stages", 90),
        ("working-memory-limits", 3700),
        ("focused-and-diffuse-thinking", 1200),
    ):
        assert account_api.heartbeat(account, MODULE, lens, spent).status_code == 204
        assert account_api.complete(account, lens, MODULE).status_code == 200
    return anonymous, account


def xapi(client) -> list[dict]:
    response = client.get("/admin/exports/xapi.jsonl")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "application/x-ndjson"
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_xapi_has_one_statement_per_completion_and_per_module_in_progress(admin, app, progress_made):
    statements = xapi(admin)
    completions = query_db(app, "SELECT COUNT(*) FROM user_content_progress WHERE completed_at IS NOT NULL")[0][0]
    in_progress = query_db(
        app, "SELECT COUNT(*) FROM user_content_progress WHERE content_type = 'module' AND completed_at IS NULL"
    )[0][0]
    verbs = [s["verb"]["display"]["en-US"] for s in statements]
    assert (verbs.count("completed"), verbs.count("progressed")) == (completions, in_progress) == (5, 2)
    assert len({s["id"] for s in statements}) == len(statements)
    for statement in statements:
        uuid.UUID(statement["id"])
        assert statement["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
        assert statement["object"]["id"].startswith("http://localhost/activities/")
        assert datetime.fromisoformat(statement["timestamp"]).tzinfo is not None
        assert DURATION.match(statement["result"]["duration"])


def moment(value) -> datetime:
    """A timestamp read back from either database, as naive UTC."""
    value = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return value.replace(tzinfo=None) if value.tzinfo is None else value.astimezone(timezone.utc).replace(tzinfo=None)


def test_xapi_statements_match_the_rows_they_come_from(admin, app, progress_made):
    rows = {
        (uuid.UUID(str(row.content_id)), row.user_id is not None): row
        for row in query_db(
            app,
            "SELECT content_id, user_id, time_to_complete_s, total_time_spent_s, completed_at,"
            " last_heartbeat_at FROM user_content_progress",
        )
    }
    for statement in xapi(admin):
        row = rows[(uuid.UUID(statement["object"]["id"].rsplit("/", 1)[1]), "mbox" in statement["actor"])]
        completed = statement["verb"]["display"]["en-US"] == "completed"
        assert statement["result"]["completion"] is completed
        assert seconds(statement["result"]["duration"]) == (
            row.time_to_complete_s if completed else row.total_time_spent_s
        )
        assert moment(statement["timestamp"]) == moment(row.completed_at if completed else row.last_heartbeat_at)


def test_xapi_actors_are_accounts_by_email_and_anonymous_learners_by_pseudonym(admin, progress_made):
    anonymous, account = progress_made
    actors = {json.dumps(s["actor"], sort_keys=True) for s in xapi(admin)}
    assert len(actors) == 2
    by_kind = {("mbox" in json.loads(a)): json.loads(a) for a in actors}
    assert by_kind[True] == {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"}
    assert by_kind[False]["name"] == f"Anonymous · {anonymous.token[:8]}"
    assert by_kind[False]["account"]["name"].startswith("anonymous-")
    assert anonymous.token not in json.dumps(by_kind[False])


def test_xapi_durations_are_iso_8601(admin, progress_made):
    durations = {s["result"]["duration"] for s in xapi(admin) if "mbox" in s["actor"]}
    assert {"PT1M30S", "PT1H1M40S", "PT20M"} <= durations  # 90 s, 3700 s, 1200 s


def test_exports_read_in_batches_leave_nothing_out_and_repeat_nothing(admin, app, monkeypatch):
    run_cli(app, "seed-demo-load", "--learners", "40")
    whole = xapi(admin)
    learners = admin.get("/admin/exports/learners.csv?sort=modules").get_data(as_text=True)
    monkeypatch.setattr(exports, "EXPORT_BATCH", 7)
    batched = xapi(admin)
    assert [s["id"] for s in batched] == [s["id"] for s in whole]
    assert admin.get("/admin/exports/learners.csv?sort=modules").get_data(as_text=True) == learners
    expected = query_db(
        app, "SELECT COUNT(*) FROM user_content_progress WHERE completed_at IS NOT NULL OR content_type = 'module'"
    )[0][0]
    assert len(whole) == expected


def test_csv_exports_stream_and_parse_back(admin, progress_made):
    for path in ("/admin/exports/modules.csv", f"/admin/modules/{MODULE}/lenses.csv", "/admin/exports/learners.csv"):
        response = admin.get(path)
        assert response.is_streamed
        assert response.headers["Content-Disposition"].startswith("attachment;")
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert rows
    learners = {
        row["learner"]: row
        for row in csv.DictReader(io.StringIO(admin.get("/admin/exports/learners.csv").get_data(as_text=True)))
    }
    assert learners["Ada"]["email"] == "ada@example.org"
    assert (learners["Ada"]["lenses_completed"], learners["Ada"]["total_time_s"]) == ("3", str(90 + 3700 + 1200))
    assert learners["Ada"]["kind"] == "account"


def test_csv_cells_cannot_start_a_spreadsheet_formula(admin, app):
    Account(app, "mallory@example.org", display_name='=HYPERLINK("http://evil")')
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/exports/learners.csv").get_data(as_text=True))))
    assert '\'=HYPERLINK("http://evil")' in [row["learner"] for row in rows]


def test_xapi_since_a_day_exports_only_what_happened_from_then_on(admin, app, progress_made):
    from datetime import date, timedelta

    everything = xapi(admin)
    today = date.today()  # UTC on the test machine is close enough: the data is from seconds ago
    assert len(xapi_since(admin, today - timedelta(days=1))) == len(everything)
    assert xapi_since(admin, today + timedelta(days=2)) == []
    backdate_completions(app, days=10)
    recent = xapi_since(admin, today - timedelta(days=3))
    assert {s["verb"]["display"]["en-US"] for s in recent} == {"progressed"}


def xapi_since(client, day) -> list[dict]:
    response = client.get(f"/admin/exports/xapi.jsonl?since={day.isoformat()}")
    assert response.status_code == 200
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def backdate_completions(app, days: int):
    from datetime import timedelta

    from sqlalchemy import update

    from tracker.db import db
    from tracker.progress.model import progress

    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            update(progress)
            .where(progress.c.completed_at.is_not(None))
            .values(completed_at=datetime.now(timezone.utc) - timedelta(days=days))
        )


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "2026-11-01T00:00"])
def test_xapi_since_must_be_a_date(admin, since):
    response = admin.get(f"/admin/exports/xapi.jsonl?since={since}")
    assert response.status_code == 400
    assert "since must be a date" in response.get_data(as_text=True)
