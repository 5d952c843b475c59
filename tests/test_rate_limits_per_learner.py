"""Rate limits per learner: over the limit, heartbeats, completions and chat messages get 429 and write nothing.

conftest raises every limit out of reach; each test sets the small limits it is about with
`app_config`. Flask-Limiter's fixed window starts at a key's first hit, so a window rolls over
only if a test runs for longer than the window. The requests each limit counts and the shape of
a refusal are in support/rate_limits.py.
"""
import pytest

from support.rate_limits import (
    HOUR,
    LENSES,
    MINUTE,
    complete_on_the_page,
    lens_id,
    refused_as_html,
    refused_as_json,
    send_chat,
    send_completion,
    send_heartbeat,
    send_module_completion,
    send_module_progress,
)

app_config = pytest.mark.app_config


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="3/minute")
def test_a_learner_over_the_heartbeat_limit_gets_429_with_retry_after_and_nothing_is_written(
    client, demo, make_learner, progress_rows, database_snapshot
):
    learner = make_learner()
    served = [send_heartbeat(client, demo, learner) for _ in range(3)]
    assert [r.status_code for r in served] == [204, 204, 204]
    credited = sum(int(r.headers["X-Credited-Seconds"]) for r in served)
    assert credited > 0
    before = database_snapshot()

    refused = send_heartbeat(client, demo, learner)
    refused_as_json(refused, "Too many heartbeats from this learner: the limit is 3 a minute.", MINUTE)
    assert database_snapshot() == before
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
    client, demo, make_learner, database_snapshot, chat_rows, send, says, window_s
):
    learner = make_learner()
    assert [send(client, demo, learner, n).status_code for n in range(2)] == [200, 200]
    before = database_snapshot()

    refused_as_json(send(client, demo, learner, 2), says, window_s)
    assert database_snapshot() == before
    assert "Question 2?" not in [text for _, text, _ in chat_rows(learner.token)], "a refused message is not kept"

    assert send(client, demo, make_learner(), 2).status_code == 200


@pytest.mark.parametrize(
    "htmx, served, shape",
    [(True, 200, '<p class="error" role="alert">'), (False, 303, "<h1>429</h1>")],
    ids=["htmx-fragment", "full-page"],
)
@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="1/hour")
def test_a_refused_completion_on_the_lens_page_is_a_readable_html_message_and_writes_nothing(
    client, database_snapshot, htmx, served, shape
):
    assert complete_on_the_page(client, LENSES[0], htmx).status_code == served
    before = database_snapshot()

    refused = complete_on_the_page(client, LENSES[1], htmx)
    html = refused_as_html(refused, "Too many completions from this learner: the limit is 1 an hour.", HOUR)
    assert html.lstrip().startswith(shape) if htmx else shape in html  # htmx swaps a fragment in; a form gets a page
    assert database_snapshot() == before


@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="2/hour")
def test_completions_from_the_page_and_the_api_count_together_for_one_learner(client, demo, make_learner, database_snapshot):
    assert complete_on_the_page(client, LENSES[0], htmx=True).status_code == 200
    learner = make_learner(client.get_cookie("tracker_anon").value)  # the page's learner, calling the API
    assert send_completion(client, demo, learner, 1).status_code == 200
    before = database_snapshot()
    refused_as_html(complete_on_the_page(client, LENSES[2], htmx=True), "Too many completions from this learner", HOUR)
    assert database_snapshot() == before


@app_config(TRACKER_RATELIMIT_COMPLETION_PER_LEARNER="1/hour")
def test_module_progress_counts_as_a_completion_only_when_it_completes(client, demo, make_learner, database_snapshot):
    learner = make_learner()
    # Reporting time alone is no completion: however often, the one completion allowed is still there.
    for _ in range(3):
        assert send_module_progress(client, demo, learner, 0, timeSpentS=10).status_code == 200
    assert send_module_progress(client, demo, learner, 0, timeSpentS=10, completed=False).status_code == 200
    assert send_completion(client, demo, learner, 0).status_code == 200
    before = database_snapshot()

    refused = send_module_progress(client, demo, learner, 1, timeSpentS=10, completed=True)
    refused_as_json(refused, "Too many completions from this learner", HOUR)
    assert database_snapshot() == before, "neither the completion nor the time it carried is written"
    assert send_module_progress(client, demo, learner, 1, timeSpentS=10).status_code == 200


@app_config(TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="2/hour")
def test_module_progress_uses_up_the_same_heartbeat_allowance_as_heartbeats(client, demo, make_learner, database_snapshot):
    learner = make_learner()
    assert send_heartbeat(client, demo, learner).status_code == 204
    assert send_module_progress(client, demo, learner, 0, timeSpentS=10).status_code == 200
    before = database_snapshot()
    refused_as_json(send_heartbeat(client, demo, learner), "Too many heartbeats from this learner", HOUR)
    refused_as_json(send_module_progress(client, demo, learner, 0, timeSpentS=10), "Too many heartbeats from this learner", HOUR)
    assert database_snapshot() == before
