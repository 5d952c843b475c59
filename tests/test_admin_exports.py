"""CSV and xAPI exports stream, parse back, and say what the database says; xAPI as an LRS needs it."""

import csv
import hashlib
import io
import json
import re
import uuid
from datetime import datetime, timezone

import pytest

from support.admin import Account, run_cli
from support.database import query_db
from support.learners import ProgressApi
from support.lrs import post_statements
from tracker.admin import exports

pytestmark = pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000)
MODULE = "how-memory-works"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
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
        assert statement["object"]["id"].startswith("https://tracker.example.org/activities/")
        assert statement["context"]["platform"] == "tracker" and statement["context"]["language"] == "en"
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
        row = rows[(uuid.UUID(statement["object"]["id"].rsplit("/", 1)[1]), not statement["actor"]["account"]["name"].startswith("anonymous-"))]
        completed = statement["verb"]["display"]["en-US"] == "completed"
        assert statement["result"]["completion"] is completed
        assert seconds(statement["result"]["duration"]) == (
            row.time_to_complete_s if completed else row.total_time_spent_s
        )
        assert moment(statement["timestamp"]) == moment(row.completed_at if completed else row.last_heartbeat_at)


def account_actor(app, email: str) -> dict:
    pseudonym = query_db(app, "SELECT pseudonym FROM users WHERE email = :email", email=email)[0][0]
    return {"objectType": "Agent", "account": {"homePage": "https://tracker.example.org/", "name": str(uuid.UUID(str(pseudonym)))}}


def test_xapi_actors_are_accounts_by_pseudonym_and_anonymous_learners_by_a_pseudonym_of_their_token(admin, app, progress_made):
    anonymous, account = progress_made
    exported = xapi(admin)
    actors = {json.dumps(s["actor"], sort_keys=True) for s in exported}
    assert len(actors) == 2
    by_kind = {json.loads(a)["account"]["name"].startswith("anonymous-"): json.loads(a) for a in actors}
    assert by_kind[False] == account_actor(app, "ada@example.org")
    assert by_kind[True]["name"] == f"Anonymous · {anonymous.token[:8]}"
    assert anonymous.token not in json.dumps(by_kind[True])
    everything = json.dumps(exported)
    assert "ada@example.org" not in everything and '"Ada"' not in everything
    account_id = str(query_db(app, "SELECT id FROM users WHERE email = 'ada@example.org'")[0][0])
    assert all(s["actor"]["account"]["name"] != account_id for s in exported)


@pytest.mark.parametrize("kind", ["mbox", "mbox_sha1sum"])
def test_installations_that_want_emails_get_them(admin, app, progress_made, kind):
    app.config["TRACKER_XAPI_ACTOR"] = kind
    actors = {json.dumps(s["actor"], sort_keys=True) for s in xapi(admin) if "account" not in s["actor"]}
    expected = (
        {"objectType": "Agent", "name": "Ada", "mbox": "mailto:ada@example.org"}
        if kind == "mbox"
        else {"objectType": "Agent", "mbox_sha1sum": hashlib.sha1(b"mailto:ada@example.org").hexdigest()}
    )
    assert [json.loads(a) for a in actors] == [expected]


def test_xapi_durations_are_iso_8601(admin, progress_made):
    durations = {s["result"]["duration"] for s in xapi(admin) if not s["actor"]["account"]["name"].startswith("anonymous-")}
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


def test_the_same_export_through_two_host_names_is_byte_identical(admin, progress_made):
    through = [
        admin.get("/admin/exports/xapi.jsonl", base_url=f"http://{host}/").get_data()
        for host in ("localhost", "tracker.internal:8080")
    ]
    assert through[0] == through[1]
    assert b"localhost" not in through[0] and b"tracker.internal" not in through[0]


@pytest.mark.app_config(TRACKER_BURST_S=10_000_000, TRACKER_MAX_DELTA_S=100_000, TRACKER_BASE_URL="")
def test_without_a_canonical_base_the_export_says_which_setting_is_missing(admin, progress_made):
    response = admin.get("/admin/exports/xapi.jsonl")
    assert response.status_code == 409
    assert "TRACKER_BASE_URL must be set for xAPI" in response.get_data(as_text=True)


def activity_ids(context: dict, kind: str) -> set[str]:
    return {activity["id"] for activity in context["contextActivities"].get(kind, [])}


def test_a_lens_in_two_modules_has_a_parent_per_placement_and_both_modules_in_grouping(admin, demo, make_learner, api):
    lens = demo.lenses_by_name["the-forgetting-curve"]
    placements = demo.placements_of(lens.id)
    assert len({p.module.id for p in placements}) == 2
    learner = make_learner()
    assert api.complete(learner, "the-forgetting-curve").status_code == 200
    [statement] = [s for s in xapi(admin) if s["object"]["id"].endswith(f"/lens/{lens.id}")]
    base = "https://tracker.example.org/activities"
    context = statement["context"]
    assert activity_ids(context, "parent") == {f"{base}/lo/{p.outcome.id}" for p in placements}
    assert activity_ids(context, "grouping") == {f"{base}/module/{p.module.id}" for p in placements} | {f"{base}/course/study-skills"}
    types = {a["id"].split("/")[-2]: a["definition"]["type"] for a in context["contextActivities"]["grouping"]}
    assert types == {"module": "http://adlnet.gov/expapi/activities/module", "course": "http://adlnet.gov/expapi/activities/course"}


def test_an_lo_rolls_up_into_its_module_and_a_module_into_its_course(admin, app, progress_made, demo):
    base = "https://tracker.example.org/activities"
    module = demo.modules_by_slug[MODULE]
    by_object = {s["object"]["id"]: s for s in xapi(admin) if not s["actor"]["account"]["name"].startswith("anonymous-")}
    outcome = module.outcomes[0]
    lo_context = by_object[f"{base}/lo/{outcome.id}"]["context"]
    assert activity_ids(lo_context, "parent") == {f"{base}/module/{module.id}"}
    assert activity_ids(lo_context, "grouping") == {f"{base}/module/{module.id}", f"{base}/course/study-skills"}
    progressed = by_object[f"{base}/module/{module.id}"]
    assert activity_ids(progressed["context"], "parent") == {f"{base}/course/study-skills"}
    required = len(module.required_lens_ids)
    assert progressed["result"]["extensions"] == {"https://w3id.org/xapi/cmi5/result/extensions/progress": round(100 * 3 / required)}


def test_every_statement_of_a_seeded_database_is_valid_xapi_and_an_lrs_takes_the_export_in_one_post(admin, app, ralph):
    from ralph.models.xapi.base.statements import BaseXapiStatement

    run_cli(app, "seed-demo-load", "--learners", "60")
    body = admin.get("/admin/exports/xapi.jsonl").get_data(as_text=True)
    statements = [json.loads(line) for line in body.splitlines()]
    assert len(statements) > 200
    for statement in statements:
        BaseXapiStatement.model_validate(statement)  # raises on the first statement that is not valid xAPI
    progress = [s["result"]["extensions"][PROGRESS] for s in statements if s["verb"]["display"]["en-US"] == "progressed"]
    assert progress and all(0 <= p < 100 for p in progress)
    name, password = ralph.credentials(1)
    answer = post_statements(ralph.endpoint, name, password, statements)
    assert answer == (200, sorted(s["id"] for s in statements))
    assert sorted(s["id"] for s in ralph.stored()) == sorted(s["id"] for s in statements)
    # Exported again, the same statements: the LRS has them all, and stores nothing twice.
    again = [json.loads(line) for line in admin.get("/admin/exports/xapi.jsonl").get_data(as_text=True).splitlines()]
    assert post_statements(ralph.endpoint, name, password, again)[0] == 204
    assert len(ralph.stored()) == len(statements)
