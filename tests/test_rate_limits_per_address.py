"""Rate limits per network address: learners behind one address share its allowance, a forged header gains none.

Limits here are "N/hour", so no window rolls over during a test (helpers: support/rate_limits.py).
"""
import pytest

from support.rate_limits import (
    ELSEWHERE,
    HOUR,
    refused_as_json,
    send_chat,
    send_completion,
    send_heartbeat,
    send_module_completion,
)

app_config = pytest.mark.app_config


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
    client, demo, make_learner, database_snapshot, send, served, says
):
    assert [send(client, demo, make_learner()).status_code for _ in range(2)] == [served, served]
    newcomer = make_learner()
    before = database_snapshot()

    refused_as_json(send(client, demo, newcomer), says, HOUR)
    assert database_snapshot() == before

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
def test_without_a_proxy_a_forged_x_forwarded_for_gets_no_fresh_allowance(client, demo, make_learner, database_snapshot):
    assert [send_heartbeat(client, demo, make_learner()).status_code for _ in range(2)] == [204, 204]
    before = database_snapshot()
    forged = send_heartbeat(client, demo, make_learner(), headers={"X-Forwarded-For": "198.51.100.99"})
    refused_as_json(forged, "Too many heartbeats from this network address", HOUR)
    assert database_snapshot() == before
