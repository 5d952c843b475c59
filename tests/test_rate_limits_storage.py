"""Where rate limits count: each process alone in memory, or every worker together in Redis.

With Redis unreachable, requests are still served and limits hold in each process. The tests of
this file run after every other rate-limit test (the file names sort so): Flask-Limiter keeps
"the storage is down" on the process's one limiter (see the last tests below).
"""
import uuid

import pytest
import redis
from limits.storage import MemoryStorage, RedisStorage

from support.app import running_app
from support.rate_limits import (
    HOUR,
    LENSES,
    REDIS_URL,
    heartbeats_from_another_worker,
    refused_as_json,
    send_heartbeat,
    worker_settings,
)
from support.required import missing
from tracker.http.ratelimit import ViewLimiter, limiter

app_config = pytest.mark.app_config


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
        missing(f"Redis unreachable at {REDIS_URL}", f"Redis is required in CI but unreachable at {REDIS_URL}: {error}")
    prefix = f"tracker-test-{uuid.uuid4().hex}"
    yield connection, prefix
    keys = list(connection.scan_iter(match=f"{prefix}*"))  # the test's other prefixes start with it too
    if keys:
        connection.delete(*keys)
    connection.close()


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
    with running_app(settings) as this_worker:
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


# Last in this file: Flask-Limiter keeps "the storage is down" on the process's one limiter, so the
# apps of the next tests count in its memory fallback until it checks the storage again.
@app_config(TRACKER_RATELIMIT_STORAGE_URL="redis://127.0.0.1:1/0", TRACKER_RATELIMIT_HEARTBEAT_PER_LEARNER="2/hour")
def test_with_redis_unreachable_requests_are_served_and_limits_hold_in_this_process(
    client, demo, make_learner, database_snapshot
):
    learner = make_learner()
    assert [send_heartbeat(client, demo, learner).status_code for _ in range(2)] == [204, 204]
    # Redis is what is configured, but the counting falls back to this process's memory.
    assert isinstance(limiter.storage, RedisStorage)
    assert isinstance(limiter.limiter.storage, MemoryStorage)
    before = database_snapshot()
    refused_as_json(send_heartbeat(client, demo, learner), "Too many heartbeats from this learner", HOUR)
    assert database_snapshot() == before
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
