"""Nudges: `flask tracker nudges` emails members who are behind before their group's meeting, once per meeting,
and each facilitator a summary, through a real SMTP server started by the test; learners turn nudges off
from My progress or by the one-click link in every nudge.

The cohort (tests/support/groups.py) first meets four days after its start; the command runs with
`--now` two days before that meeting, halfway through the preparation, where a member who has done
nothing is behind and one who completed everything due is ready.
"""
import json
import threading
from datetime import timedelta

import pytest
from itsdangerous import URLSafeSerializer

from support.admin import OwnContextClient
from support.csrf import csrf_token
from support.database import query_db
from support.groups import DUE_BY_FIRST_MEETING, make_groups, work
from support.smtp import free_port, smtp_server
from tracker.cli import external_links
from tracker.nudges import Composer, SmtpSettings, plan_nudges, send_nudges, smtp_mailbox
from tracker.nudges.tokens import SALT, unsubscribe_token

BASE_URL = "http://tracker.test/"
SENDER = "tracker <nudges@tracker.test>"
MEETING = "Remembering on purpose"  # the demo course's first meeting


@pytest.fixture
def mail(app):
    """The app's mail server, a real one on a free port; what it received."""
    with smtp_server() as (inbox, port):
        app.config.update(TRACKER_BASE_URL=BASE_URL, TRACKER_SMTP_HOST="127.0.0.1", TRACKER_SMTP_PORT=port, TRACKER_MAIL_FROM=SENDER)
        yield inbox


@pytest.fixture
def groups(app):
    return make_groups(app)


def run_nudges(app, groups, *options, before=timedelta(days=2)):
    """`flask tracker nudges` at the moment `before` the group's first meeting."""
    now = groups.first_meeting - before
    return app.test_cli_runner().invoke(args=["tracker", "nudges", "--now", now.isoformat(), *options])


def complete_everything_due(account, demo):
    for slug in DUE_BY_FIRST_MEETING:
        for section in demo.modules_by_slug[slug].sections:
            if not section.optional:
                work(account, demo, slug, section.lens.name, complete=True)


def sent_rows(app) -> list[tuple]:
    return sorted(tuple(row) for row in query_db(
        app, "SELECT u.email, n.kind, n.meeting_number, n.sent_at IS NOT NULL FROM sent_nudges n JOIN users u ON u.id = n.user_id"
    ))


def nudges_enabled(app, email: str) -> bool:
    return bool(query_db(app, "SELECT nudges_enabled FROM users WHERE email = :email", email=email)[0][0])


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def unsubscribe_path(message) -> str:
    link = message["List-Unsubscribe"].strip("<>")
    assert link.startswith(f"{BASE_URL}nudges/unsubscribe/"), link
    return "/" + link.removeprefix(BASE_URL)


# --- Who gets what, once -------------------------------------------------------------------------------


def test_a_behind_member_is_nudged_once_per_meeting_with_what_is_still_due(app, groups, mail, demo):
    groups.facilitator("fran@example.org", "Oak")
    idle, ready = groups.member("idle@example.org", "Oak"), groups.member("ready@example.org", "Oak")
    complete_everything_due(ready, demo)
    first_module = demo.modules_by_slug[DUE_BY_FIRST_MEETING[0]]
    done_lens = first_module.sections[0].lens
    work(idle, demo, first_module.slug, done_lens.name, complete=True)  # one lens done, in no time: still behind

    result = run_nudges(app, groups)
    assert result.exit_code == 0, result.output
    assert "sent 2 nudges (1 to learners, 1 to facilitators)" in result.output
    assert mail.to("ready@example.org") == [], "a member who is ready gets nothing"
    [nudge] = mail.to("idle@example.org")
    assert str(nudge["To"]) == "Idle <idle@example.org>" and str(nudge["From"]) == SENDER
    assert nudge["Subject"].startswith(f"Before “{MEETING}”")
    text = text_of(nudge)
    for slug in DUE_BY_FIRST_MEETING:
        module = demo.modules_by_slug[slug]
        assert f"{module.title}: {BASE_URL}modules/{slug}" in text
        for section in module.sections:
            link = f"{BASE_URL}modules/{slug}/{section.lens.name}"
            wanted = not section.optional and section.lens.id != done_lens.id
            assert (link in text) == wanted, f"{link} {'missing' if wanted else 'listed, but not still due'}"
    assert f"{BASE_URL}courses/study-skills" in text
    assert unsubscribe_path(nudge) in text, "the unsubscribe link is in the text as well as in the header"
    assert nudge["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"\r\nList-Unsubscribe: <{BASE_URL}nudges/unsubscribe/".encode() in mail.raw[0], "a plain address, not encoded words"
    html = nudge.get_body(preferencelist=("html",)).get_content()
    assert f'href="{BASE_URL}modules/{first_module.slug}/{first_module.sections[1].lens.name}"' in html

    again = run_nudges(app, groups, before=timedelta(days=1))
    assert again.exit_code == 0 and "sent 0 nudges" in again.output
    assert mail.count() == 2, "running again before the same meeting sends nothing new"
    assert sent_rows(app) == [("fran@example.org", "facilitator", 1, True), ("idle@example.org", "learner", 1, True)]


@pytest.mark.app_config(TRACKER_NUDGE_DAYS_BEFORE=1)
def test_a_meeting_further_off_than_nudge_days_before_sends_nothing(app, groups, mail, demo):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    early = run_nudges(app, groups, before=timedelta(days=2))
    assert early.exit_code == 0 and "sent 0 nudges" in early.output
    assert mail.count() == 0 and sent_rows(app) == []
    assert run_nudges(app, groups, before=timedelta(hours=23)).exit_code == 0
    assert [m["To"].addresses[0].addr_spec for m in mail.messages] == ["idle@example.org", "fran@example.org"]
    after = run_nudges(app, groups, before=-timedelta(hours=1))  # the next meeting is a week away now
    assert after.exit_code == 0 and mail.count() == 2


def test_each_facilitator_gets_one_summary_per_group_and_meeting(app, groups, mail, demo):
    groups.facilitator("fran@example.org", "Oak")
    groups.facilitator("fran@example.org", "Elm")
    groups.facilitator("gus@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    complete_everything_due(groups.member("ready@example.org", "Oak"), demo)
    groups.member("noah@example.org", "Elm")
    assert run_nudges(app, groups).exit_code == 0
    assert run_nudges(app, groups).exit_code == 0
    summaries = sorted(m["Subject"] for m in mail.to("fran@example.org"))
    assert [s.split(":")[0] for s in summaries] == ["Elm", "Oak"], "one per group"
    [oak] = mail.to("gus@example.org")
    assert oak["Subject"].startswith(f"Oak: 1 behind, 1 ready for “{MEETING}”")
    text = text_of(oak)
    behind, ready = text.index("Behind (1):"), text.index("Ready (1):")
    assert "Idle: 0 of" in text[behind:ready] and "Ready" in text[ready:]
    assert f"{BASE_URL}facilitate/groups/{groups.group_ids['Oak']}" in text
    assert "List-Unsubscribe" not in oak
    assert len(mail.to("noah@example.org")) == 1 and mail.count() == 5


def test_a_group_without_members_sends_no_summary(app, groups, mail):
    groups.facilitator("fran@example.org", "Elm")
    result = run_nudges(app, groups)
    assert result.exit_code == 0 and "sent 0 nudges" in result.output and mail.count() == 0


# --- Dry runs and settings ---------------------------------------------------------------------------


def test_a_dry_run_prints_what_would_be_sent_and_sends_and_writes_nothing(app, groups, mail, database_snapshot):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    app.config.update(TRACKER_SMTP_HOST="", TRACKER_MAIL_FROM="")  # a dry run needs no mail server
    before = database_snapshot()
    result = run_nudges(app, groups, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "To: Idle <idle@example.org>" in result.output and f"Subject: Before “{MEETING}”" in result.output
    assert "  Hello Idle," in result.output and "To: Fran <fran@example.org>" in result.output
    assert "dry run: 2 nudges (1 to learners, 1 to facilitators) due; nothing was sent or recorded" in result.output
    assert database_snapshot() == before and mail.count() == 0


@pytest.mark.parametrize("setting", ["TRACKER_BASE_URL", "TRACKER_SMTP_HOST", "TRACKER_MAIL_FROM"])
def test_without_its_settings_the_command_refuses_to_send(app, groups, mail, database_snapshot, setting):
    groups.member("idle@example.org", "Oak")
    app.config[setting] = ""
    before = database_snapshot()
    result = run_nudges(app, groups)
    assert result.exit_code == 1 and f"{setting} must be set to send nudges" in result.output
    assert database_snapshot() == before and mail.count() == 0


@pytest.mark.parametrize("moment", ["next tuesday", "2027-13-01T09:00", ""])
def test_a_now_that_is_not_a_moment_is_refused(app, mail, moment):
    result = app.test_cli_runner().invoke(args=["tracker", "nudges", "--now", moment])
    assert result.exit_code == 2 and "--now" in result.output and "is not an ISO 8601 moment" in result.output


def test_a_base_url_with_a_path_prefixes_every_link(app, groups, mail):
    groups.member("idle@example.org", "Oak")
    app.config["TRACKER_BASE_URL"] = "https://example.org/tracker/"
    assert run_nudges(app, groups).exit_code == 0
    [nudge] = mail.to("idle@example.org")
    assert "https://example.org/tracker/modules/how-memory-works" in text_of(nudge)
    assert nudge["List-Unsubscribe"].startswith("<https://example.org/tracker/nudges/unsubscribe/")


# --- Turning nudges off and on -----------------------------------------------------------------------


def test_a_learner_turns_nudges_off_and_on_from_my_progress(app, groups, mail):
    groups.facilitator("fran@example.org", "Oak")
    idle = groups.member("idle@example.org", "Oak")
    assert "Nudges are <strong>on</strong>" in idle.client.get("/me").get_data(as_text=True)
    response = idle.client.post("/me/nudges", data={"csrf_token": csrf_token(idle.client, "/me"), "nudges": "off"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert not nudges_enabled(app, "idle@example.org")
    assert "Nudges are <strong>off</strong>" in idle.client.get("/me").get_data(as_text=True)

    assert run_nudges(app, groups).exit_code == 0
    assert mail.to("idle@example.org") == [], "an opted-out learner gets nothing"
    [summary] = mail.to("fran@example.org")
    assert "Idle: 0 of" in text_of(summary) and "(has turned nudges off)" in text_of(summary), "the summary still lists them"

    idle.client.post("/me/nudges", data={"csrf_token": csrf_token(idle.client, "/me"), "nudges": "on"})
    assert nudges_enabled(app, "idle@example.org")
    assert run_nudges(app, groups).exit_code == 0
    assert len(mail.to("idle@example.org")) == 1 and len(mail.to("fran@example.org")) == 1


@pytest.mark.parametrize("fields", [{"nudges": "maybe"}, {"nudges": ""}, {}], ids=["maybe", "empty", "missing"])
def test_a_nudge_setting_other_than_on_or_off_is_refused_and_writes_nothing(groups, database_snapshot, fields):
    idle = groups.member("idle@example.org", "Oak")
    token = csrf_token(idle.client, "/me")
    before = database_snapshot()
    response = idle.client.post("/me/nudges", data={"csrf_token": token, **fields})
    assert response.status_code == 422 and "nudges must be “on” or “off”" in response.get_data(as_text=True)
    assert database_snapshot() == before


def test_a_visitor_cannot_change_a_nudge_setting(app, database_snapshot):
    visitor = OwnContextClient(app)
    token = csrf_token(visitor, "/login")
    before = database_snapshot()
    response = visitor.post("/me/nudges", data={"csrf_token": token, "nudges": "off"})
    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert database_snapshot() == before


def test_the_unsubscribe_link_shows_a_button_and_a_one_click_post_turns_nudges_off(app, groups, mail, database_snapshot):
    groups.member("idle@example.org", "Oak")
    assert run_nudges(app, groups).exit_code == 0
    path = unsubscribe_path(mail.to("idle@example.org")[0])
    mail_program = OwnContextClient(app)  # not logged in, no cookies, no CSRF token
    before = database_snapshot()
    page = mail_program.get(path)
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    assert database_snapshot() == before, "opening the link changes nothing"
    response = mail_program.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "Nudges are off" in response.get_data(as_text=True)
    assert not nudges_enabled(app, "idle@example.org")
    assert mail_program.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200, "twice is the same as once"
    assert "Nudges are already off" in mail_program.get(path).get_data(as_text=True)


def test_an_opted_out_learner_is_not_nudged_for_the_next_meeting(app, groups, mail):
    groups.member("idle@example.org", "Oak")
    assert run_nudges(app, groups).exit_code == 0
    OwnContextClient(app).post(unsubscribe_path(mail.to("idle@example.org")[0]))
    assert run_nudges(app, groups, before=-timedelta(days=5)).exit_code == 0  # two days before the second meeting
    assert len(mail.to("idle@example.org")) == 1


def tampered(token: str) -> str:
    """The token with its first character changed: the payload no longer matches the signature."""
    return ("B" if token[0] != "B" else "C") + token[1:]


BAD_LINKS = {
    "tampered": (lambda key, user_id, email: tampered(unsubscribe_token(key, user_id, email)), 400, "is not valid"),
    "cut short": (lambda key, user_id, email: unsubscribe_token(key, user_id, email)[:-8], 400, "is not valid"),
    "not a token": (lambda key, user_id, email: "not-a-token", 400, "is not valid"),
    "another key": (lambda key, user_id, email: unsubscribe_token("another key", user_id, email), 400, "is not valid"),
    "another shape": (lambda key, user_id, email: URLSafeSerializer(key, salt=SALT).dumps({"user": user_id}), 400, "is not valid"),
    "another email": (lambda key, user_id, email: unsubscribe_token(key, user_id, "eve@example.org"), 404, "no longer exists"),
    "no such account": (lambda key, user_id, email: unsubscribe_token(key, user_id + 1000, email), 404, "no longer exists"),
}


@pytest.mark.parametrize("kind", BAD_LINKS)
def test_a_bad_unsubscribe_link_gets_a_clear_error_and_writes_nothing(app, groups, database_snapshot, kind):
    groups.member("idle@example.org", "Oak")
    [(user_id,)] = query_db(app, "SELECT id FROM users WHERE email = 'idle@example.org'")
    make, status, says = BAD_LINKS[kind]
    path = f"/nudges/unsubscribe/{make(app.config['SECRET_KEY'], user_id, 'idle@example.org')}"
    before = database_snapshot()
    for response in (OwnContextClient(app).get(path), OwnContextClient(app).post(path, data={"List-Unsubscribe": "One-Click"})):
        assert response.status_code == status and says in response.get_data(as_text=True), response.get_data(as_text=True)[:300]
    assert database_snapshot() == before and nudges_enabled(app, "idle@example.org")


# --- The learner's data ------------------------------------------------------------------------------


def test_download_my_data_has_the_nudges_and_delete_my_data_removes_them(app, groups, mail):
    fran = groups.facilitator("fran@example.org", "Oak")
    idle = groups.member("idle@example.org", "Oak")
    assert run_nudges(app, groups).exit_code == 0
    exported = json.loads(idle.client.get("/me/export.json").get_data(as_text=True))["account"]
    assert exported["nudges_enabled"] is True
    [sent] = exported["nudges_sent"]
    assert (sent["kind"], sent["group"], sent["cohort"], sent["meeting_number"]) == ("learner", "Oak", "Winter cohort", 1)
    assert sent["sent_at"] and sent["claimed_at"]
    assert [s["kind"] for s in json.loads(fran.client.get("/me/export.json").get_data(as_text=True))["account"]["nudges_sent"]] == ["facilitator"]

    response = idle.client.post("/me/delete", data={"csrf_token": csrf_token(idle.client, "/me/delete")})
    assert response.status_code == 303
    assert sent_rows(app) == [("fran@example.org", "facilitator", 1, True)]
    assert json.loads(idle.client.get("/me/export.json").get_data(as_text=True))["account"]["nudges_sent"] == []


def test_an_anonymous_learners_data_has_no_nudges(client):
    exported = json.loads(client.get("/me/export.json").get_data(as_text=True))
    assert exported["account"] is None, "the setting and the nudges are the account's"


# --- When the mail server fails ---------------------------------------------------------------------


def test_a_mail_server_that_is_down_is_a_clear_error_and_claims_nothing(app, groups, mail):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    working_port, app.config["TRACKER_SMTP_PORT"] = app.config["TRACKER_SMTP_PORT"], free_port()
    result = run_nudges(app, groups)
    assert result.exit_code == 1
    assert f"could not reach the SMTP server at 127.0.0.1:{app.config['TRACKER_SMTP_PORT']}" in result.output
    assert "nothing was sent or recorded, and the 2 nudges (1 to learners, 1 to facilitators) due will be tried on the next run" in result.output
    assert sent_rows(app) == []
    app.config["TRACKER_SMTP_PORT"] = working_port
    assert run_nudges(app, groups).exit_code == 0 and mail.count() == 2


def test_a_refused_recipient_is_released_and_tried_again_on_the_next_run(app, groups, mail):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    mail.refused.add("idle@example.org")
    result = run_nudges(app, groups)
    assert result.exit_code == 1
    assert "not sent, tried again on the next run: the SMTP server refused the recipient Idle <idle@example.org>: 550" in result.output
    assert sent_rows(app) == [("fran@example.org", "facilitator", 1, True)]
    mail.refused.clear()
    assert run_nudges(app, groups).exit_code == 0
    assert len(mail.to("idle@example.org")) == 1 and len(mail.to("fran@example.org")) == 1


def test_a_connection_lost_mid_message_keeps_that_claim_and_sends_it_at_most_once(app, groups, mail):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    mail.hang_up_on.add("idle@example.org")  # the learner's nudge goes first
    result = run_nudges(app, groups)
    assert result.exit_code == 1
    assert "The nudge to Idle <idle@example.org> may not have arrived and will not be sent again" in result.output
    assert sent_rows(app) == [("idle@example.org", "learner", 1, False)], "claimed, never confirmed; the summary was not tried"
    mail.hang_up_on.clear()
    assert run_nudges(app, groups).exit_code == 0
    assert mail.to("idle@example.org") == [] and len(mail.to("fran@example.org")) == 1


# --- Overlapping runs --------------------------------------------------------------------------------


def service_run(app, demo, groups):
    """What one run of the command does: its plan, and a way to send it."""
    composer = Composer(external_links(BASE_URL), SENDER, app.config["SECRET_KEY"], app.config["TRACKER_CHAT_ALLOWANCE_S"])
    smtp = SmtpSettings("127.0.0.1", app.config["TRACKER_SMTP_PORT"])
    planned = plan_nudges(app.extensions["tracker.db"], demo, groups.first_meeting - timedelta(days=2), 3, composer)
    return planned, (lambda: smtp_mailbox(smtp))


def test_a_run_that_planned_before_another_sent_sends_nothing_twice(app, groups, mail, demo):
    groups.facilitator("fran@example.org", "Oak")
    groups.member("idle@example.org", "Oak")
    first_plan, connect = service_run(app, demo, groups)
    second_plan, _ = service_run(app, demo, groups)
    assert len(first_plan) == len(second_plan) == 2
    db = app.extensions["tracker.db"]
    assert len(send_nudges(db, second_plan, connect).sent) == 2
    late = send_nudges(db, first_plan, connect)
    assert late.sent == [] and len(late.taken) == 2 and mail.count() == 2


def test_two_runs_at_the_same_moment_send_each_nudge_once(app, groups, mail, demo):
    groups.facilitator("fran@example.org", "Oak")
    for name in ("idle", "ivy", "ian", "iris"):
        groups.member(f"{name}@example.org", "Oak")
    plans = [service_run(app, demo, groups) for _ in range(2)]
    db, start, reports = app.extensions["tracker.db"], threading.Barrier(2), []

    def run(planned, connect):
        start.wait()
        reports.append(send_nudges(db, planned, connect))

    threads = [threading.Thread(target=run, args=plan) for plan in plans]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports) == 2
    assert sum(len(r.sent) for r in reports) == 5 and sum(len(r.taken) for r in reports) == 5
    assert mail.count() == 5 and len(sent_rows(app)) == 5
