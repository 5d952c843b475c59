"""The wall-clock budget through HTTP: a flood or replay of heartbeats gains at most the burst allowance.

The rules at explicit moments, without sleeping, are in tests/unit/test_budget.py.
"""
import math
import time

import pytest

MODULE = "how-memory-works"
LENS = "memory-in-three-stages"


@pytest.mark.app_config(TRACKER_BURST_S=120, TRACKER_MAX_DELTA_S=120)
def test_flood_of_heartbeats_credits_at_most_burst_plus_elapsed(api, make_learner, progress_rows):
    learner = make_learner()
    started = time.monotonic()
    responses = [api.heartbeat(learner, MODULE, LENS, 60) for _ in range(50)]
    elapsed = time.monotonic() - started
    assert {r.status_code for r in responses} == {204}
    credited = sum(int(r.headers["X-Credited-Seconds"]) for r in responses)
    assert 120 <= credited <= 120 + math.ceil(elapsed)
    for row in progress_rows(learner).values():
        assert row["total_time_spent_s"] == credited
    assert [r.headers["X-Credited-Seconds"] for r in responses[:2]] == ["60", "60"]


@pytest.mark.app_config(TRACKER_BURST_S=3, TRACKER_MAX_DELTA_S=120)
def test_budget_refills_with_wall_clock_time(api, make_learner):
    learner = make_learner()
    assert api.heartbeat(learner, MODULE, LENS, 60).headers["X-Credited-Seconds"] == "3"
    assert api.heartbeat(learner, MODULE, LENS, 60).headers["X-Credited-Seconds"] == "0"
    time.sleep(2.1)
    refilled = int(api.heartbeat(learner, MODULE, LENS, 60).headers["X-Credited-Seconds"])
    assert refilled in (2, 3), "about two seconds of wall-clock time became available again"
