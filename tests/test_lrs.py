"""The LRS outbox and `flask tracker lrs-push`: what a completion queues, and how the worker gets it to an LRS.

Against Ralph's LRS (support/lrs.py) for what an LRS stores, and against an HTTP server that
fails on purpose for the retry and give-up paths. Nothing is lost or sent twice: the LRS's
stored statement ids are compared with the outbox's.
"""
import json
import os
import signal
import uuid
from datetime import timedelta

import pytest

from support.admin import run_cli
from support.database import query_db
from bench.processes import free_port
from support.lrs import HoldingProxy, RalphLrs, ScriptedLrs, worker_process
from support.waiting import poll
from tracker import lrs
from tracker.clock import utc_now
from tracker.config import ConfigError, load_settings
from tracker.xapi import XapiSettings

MODULE = "how-memory-works"
FIRST_LO = ("memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking")


def outbox(app) -> list:
    return query_db(app, "SELECT id, statement_id, verb, statement, sent_at, rejected_at, attempts, last_error FROM lrs_outbox ORDER BY id")


def exported(client) -> list[dict]:
    return [json.loads(line) for line in client.get("/admin/exports/xapi.jsonl").get_data(as_text=True).splitlines()]


def complete_first_lo(api, learner) -> None:
    for lens in FIRST_LO:
        assert api.heartbeat(learner, MODULE, lens, 30).status_code == 204  # 90 s in all: within the default burst
        assert api.complete(learner, lens, MODULE).status_code == 200


def with_lrs(app, endpoint: str, user: int = 1) -> None:
    name, password = RalphLrs.credentials(user)
    app.config.update(TRACKER_LRS_URL=endpoint, TRACKER_LRS_USERNAME=name, TRACKER_LRS_PASSWORD=password)


def test_completions_queue_the_statements_the_export_makes_in_their_own_transaction(app, admin, api, make_learner):
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    learner = make_learner()
    complete_first_lo(api, learner)
    queued = outbox(app)
    completions = [s for s in exported(admin) if s["verb"]["display"]["en-US"] == "completed"]
    assert len(queued) == len(completions) == 4  # three lenses and their LO
    assert {str(uuid.UUID(str(row.statement_id))) for row in queued} == {s["id"] for s in completions}
    by_id = {s["id"]: s for s in completions}
    for row in queued:
        assert json.loads(row.statement) == by_id[str(uuid.UUID(str(row.statement_id)))]
        assert (row.sent_at, row.rejected_at, row.attempts) == (None, None, 0)
    # Completing again changes nothing, and queues nothing.
    assert api.complete(learner, FIRST_LO[0], MODULE).status_code == 200
    assert len(outbox(app)) == 4


def test_a_completion_that_is_refused_queues_nothing(app, api, demo, make_learner):
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    chat_lens = next(s.lens for m in demo.modules for s in m.sections if s.lens.has_chat and not s.optional)
    module = next(m for m in demo.modules if m.section_for(chat_lens.id))
    assert api.complete(make_learner(), chat_lens.name, module.slug).status_code == 409
    assert outbox(app) == []


def test_without_an_lrs_nothing_is_queued(app, api, make_learner):
    complete_first_lo(api, make_learner())
    assert outbox(app) == []


def test_progressed_statements_are_queued_at_most_once_per_learner_and_module_per_interval(app, api, demo, make_learner):
    settings, every = XapiSettings("https://tracker.example.org/"), 900
    db, index = app.extensions["tracker.db"], demo
    first, second = make_learner(), make_learner()
    for learner in (first, second):
        assert api.heartbeat(learner, MODULE, FIRST_LO[0], 30).status_code == 204
    now = utc_now()
    assert lrs.queue_progressed(db, index, settings, every, now) == 2
    assert lrs.queue_progressed(db, index, settings, every, now + timedelta(seconds=60)) == 0
    assert api.heartbeat(first, MODULE, FIRST_LO[0], 30).status_code == 204
    assert lrs.queue_progressed(db, index, settings, every, now + timedelta(seconds=every - 1)) == 0
    assert lrs.queue_progressed(db, index, settings, every, now + timedelta(seconds=every)) == 1  # only the one active since
    assert lrs.queue_progressed(db, index, settings, every, now + timedelta(seconds=3 * every)) == 0  # nothing new to say
    progressed = [json.loads(row.statement) for row in outbox(app)]
    assert [s["verb"]["display"]["en-US"] for s in progressed] == ["progressed"] * 3
    assert [s["result"]["duration"] for s in progressed] == ["PT30S", "PT30S", "PT1M"]
    assert all(s["result"]["extensions"]["https://w3id.org/xapi/cmi5/result/extensions/progress"] == 0 for s in progressed)


def stored_ids(lrs_server) -> list[str]:
    return sorted(s["id"] for s in lrs_server.stored())


def queued_ids(app) -> list[str]:
    return sorted(str(uuid.UUID(str(row.statement_id))) for row in outbox(app))


def test_lrs_push_sends_the_outbox_to_a_real_lrs_and_marks_what_it_stored(app, api, make_learner, ralph):
    with_lrs(app, ralph.endpoint, user=1)
    complete_first_lo(api, make_learner())
    result = run_cli(app, "lrs-push", "--once")
    # Four completions, and the module in progress, which the run reports first.
    assert "queued 1 progressed statements; sent 5, set aside 0" in result.output
    assert stored_ids(ralph) == queued_ids(app)
    assert all(row.sent_at is not None and row.attempts == 1 for row in outbox(app))
    # The next batch, through another LRS user (Ralph's file backend takes one write per target).
    with_lrs(app, ralph.endpoint, user=2)
    complete_first_lo(api, make_learner())
    assert "queued 1 progressed statements; sent 5, set aside 0" in run_cli(app, "lrs-push", "--once").output
    assert stored_ids(ralph) == queued_ids(app) and len(stored_ids(ralph)) == 10
    assert "queued 0 progressed statements; sent 0, set aside 0" in run_cli(app, "lrs-push", "--once").output  # nothing twice


def worker_env(app, endpoint: str, user: int = 1, **settings) -> dict:
    name, password = RalphLrs.credentials(user)
    return {
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "TRACKER_CONTENT_DIR": app.config["TRACKER_CONTENT_DIR"],
        "SECRET_KEY": "test",
        "TRACKER_BASE_URL": app.config["TRACKER_BASE_URL"],
        "TRACKER_LRS_URL": endpoint,
        "TRACKER_LRS_USERNAME": name,
        "TRACKER_LRS_PASSWORD": password,
        **{key: str(value) for key, value in settings.items()},
    }


def test_a_worker_killed_mid_batch_loses_nothing_and_the_lrs_keeps_one_copy(app, api, make_learner, ralph):
    with_lrs(app, ralph.endpoint)
    for _ in range(3):
        complete_first_lo(api, make_learner())
    with HoldingProxy(ralph.endpoint) as proxy:
        proxy.hold.set()
        with worker_process(worker_env(app, proxy.endpoint)) as worker:
            assert proxy.forwarded.wait(60), worker.stdout.read() if worker.poll() is not None else "the worker sent nothing"
            os.kill(worker.pid, signal.SIGKILL)  # the LRS has the batch; the worker never heard
        # Three learners' completions and modules in progress, all in the one batch the LRS stored.
        assert len(ralph.stored()) == 15
        assert all(row.sent_at is None for row in outbox(app))
        proxy.hold.clear()
        with_lrs(app, proxy.endpoint)
        assert "queued 0 progressed statements; sent 15, set aside 0" in run_cli(app, "lrs-push", "--once").output
    assert stored_ids(ralph) == queued_ids(app) and len(set(stored_ids(ralph))) == 15
    assert all(row.sent_at is not None for row in outbox(app))


def test_statements_wait_for_an_lrs_that_is_down_and_go_once_it_is_back(app, api, make_learner, tmp_path):
    port = free_port()
    down = RalphLrs(tmp_path / "ralph", port)
    with_lrs(app, down.endpoint)
    complete_first_lo(api, make_learner())
    with worker_process(worker_env(app, down.endpoint)) as worker:
        poll(lambda: all(row.attempts >= 2 for row in outbox(app)), timeout=30, message="two failed attempts")
        assert all(row.sent_at is None and "no answer from the LRS" in row.last_error for row in outbox(app))
        down.start()
        try:
            poll(lambda: all(row.sent_at is not None for row in outbox(app)), timeout=60, message="the outbox sent")
            assert stored_ids(down) == queued_ids(app)
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(20)
            down.stop()
    assert worker.returncode == 0


def test_a_failing_lrs_gets_the_same_batch_again_until_it_takes_it(app, api, make_learner):
    db = app.extensions["tracker.db"]
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    complete_first_lo(api, make_learner())
    with ScriptedLrs() as server:
        failures = iter([(503, "busy"), (500, "oops")])
        server.answer = lambda batch: next(failures, (200, "[]"))
        client = lrs.LrsClient(server.endpoint)
        first = lrs.push_all(db, client, size=10)
        assert (first.sent, first.failure) == (0, "HTTP 503: busy")
        second = lrs.push_all(db, client, size=10)
        assert (second.sent, second.failure) == (0, "HTTP 500: oops")
        assert all(row.attempts == 2 and row.last_error == "HTTP 500: oops" for row in outbox(app))
        third = lrs.push_all(db, client, size=10)
        assert (third.sent, third.failure) == (4, None)
        assert [[s["id"] for s in batch] for batch in server.received] == [queued_in_order(app)] * 3
    backoff = lrs.Backoff(first_s=1, max_s=10)
    assert [backoff.after_failure() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    backoff.reset()
    assert backoff.after_failure() == 1


def queued_in_order(app) -> list[str]:
    return [str(uuid.UUID(str(row.statement_id))) for row in outbox(app)]


@pytest.mark.parametrize("size", [10, 1])
def test_a_statement_the_lrs_refuses_is_set_aside_with_its_message_and_the_rest_go_on(app, admin, api, make_learner, size):
    db = app.extensions["tracker.db"]
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    complete_first_lo(api, make_learner())
    order = queued_in_order(app)
    refused = order[1]

    def answer(batch):
        if any(s["id"] == refused for s in batch):
            return 400, json.dumps({"detail": f"statement {refused} has an object this LRS does not know"})
        return 200, json.dumps([s["id"] for s in batch])

    with ScriptedLrs() as server:
        server.answer = answer
        result = lrs.push_all(db, lrs.LrsClient(server.endpoint), size=size)
        assert (result.sent, result.set_aside, result.failure) == (3, 1, None)
        # The whole batch, then each statement alone, in the order queued; a batch of one is not sent twice.
        singles = [[i] for i in order]
        assert [[s["id"] for s in batch] for batch in server.received] == ([order] + singles if size > 1 else singles)
    rows = {str(uuid.UUID(str(row.statement_id))): row for row in outbox(app)}
    assert rows[refused].rejected_at is not None and rows[refused].sent_at is None
    assert rows[refused].last_error == f"HTTP 400: statement {refused} has an object this LRS does not know"
    assert all(rows[i].sent_at is not None for i in order if i != refused)
    page = admin.get("/admin/lrs").get_data(as_text=True)
    assert refused in page and "has an object this LRS does not know" in page
    assert "3 sent" in page and "1 set aside" in page


def test_lrs_push_needs_an_lrs(app):
    result = app.test_cli_runner().invoke(args=["tracker", "lrs-push", "--once"])
    assert result.exit_code != 0 and "TRACKER_LRS_URL must be set" in result.output


@pytest.mark.parametrize(("settings", "named"), [
    ({"TRACKER_LRS_URL": "https://lrs.example.org/xAPI/"}, "TRACKER_BASE_URL must be too"),
    ({"TRACKER_LRS_URL": "lrs.example.org", "TRACKER_BASE_URL": "https://t.example.org/"}, "TRACKER_LRS_URL must be"),
    ({"TRACKER_LRS_URL": "https://lrs.example.org/xAPI/", "TRACKER_BASE_URL": "https://t.example.org/", "TRACKER_LRS_USERNAME": "u"}, "go together"),
    ({"TRACKER_XAPI_ACTOR": "email"}, "TRACKER_XAPI_ACTOR must be one of account, mbox, mbox_sha1sum"),
    ({"TRACKER_XAPI_LANGUAGE": "english!"}, "TRACKER_XAPI_LANGUAGE must be a language tag"),
])
def test_lrs_settings_that_cannot_work_are_refused_at_start(tmp_path, settings, named):
    with pytest.raises(ConfigError, match=named):
        load_settings(str(tmp_path), settings)


def test_an_account_claiming_a_browsers_progress_takes_its_statements_and_queues_what_the_claim_completes(app, api, demo, make_learner):
    from tracker import accounts, progress
    from tracker.learner import Learner

    db = app.extensions["tracker.db"]
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    anonymous = make_learner()
    for lens in FIRST_LO[:2]:
        assert api.heartbeat(anonymous, MODULE, lens, 30).status_code == 204
        assert api.complete(anonymous, lens, MODULE).status_code == 200
    user_id = accounts.create_user(db, "grace@example.org", "a long password")
    # The account completed the LO's last lens elsewhere; together, the LO is complete.
    progress.complete_lens(db, demo, Learner(user_id=user_id), lens_id=demo.lenses_by_name[FIRST_LO[2]].id,
                           module_slug=MODULE, lrs=XapiSettings("https://tracker.example.org/"))
    assert len(outbox(app)) == 3
    progress.claim_anonymous_progress(db, demo, uuid.UUID(anonymous.token), user_id, lrs=XapiSettings("https://tracker.example.org/"))
    owners = query_db(app, "SELECT user_id, anonymous_token, verb FROM lrs_outbox ORDER BY id")
    assert [(row.user_id, row.anonymous_token) for row in owners] == [(user_id, None)] * 4
    lo = json.loads(outbox(app)[-1].statement)
    assert lo["object"]["id"].endswith(f"/lo/{demo.modules_by_slug[MODULE].outcomes[0].id}")
    assert lo["actor"]["account"]["name"] == str(uuid.UUID(str(query_db(app, "SELECT pseudonym FROM users")[0][0])))


def test_deleting_my_data_drops_what_has_not_gone_to_the_lrs_and_keeps_the_record_of_what_has(app, api, make_learner):
    from tracker import progress
    from tracker.learner import Learner

    db = app.extensions["tracker.db"]
    with_lrs(app, "http://127.0.0.1:9/xAPI/")
    learner = make_learner()
    complete_first_lo(api, learner)
    with ScriptedLrs() as server:
        assert lrs.push_all(db, lrs.LrsClient(server.endpoint), size=10).sent == 4
    assert api.heartbeat(learner, "retrieval-practice", "the-testing-effect", 30).status_code == 204
    assert api.complete(learner, "the-testing-effect", "retrieval-practice").status_code == 200
    sent = [row.statement_id for row in outbox(app) if row.sent_at is not None]
    assert len(sent) == 4 and len(outbox(app)) > 4
    progress.delete_progress(db, Learner(anonymous_token=uuid.UUID(learner.token)))
    assert [row.statement_id for row in outbox(app)] == sent
