"""The module progress update, as the progress service applies it at explicit moments: time, completion, state.

The same route through HTTP is tested in tests/test_heartbeat.py and tests/test_completion.py.
"""
import pytest

from support.service import LENS, as_utc, at
from tracker import progress

# The budget as shipped (tracker/config.py), pinned so that these figures do not move with a default.
SHIPPED_BUDGET = pytest.mark.app_config(TRACKER_BURST_S=120, TRACKER_MAX_DELTA_S=120)


def lens_state(state: dict, name: str) -> dict:
    return next(lens for lens in state["lenses"] if lens["name"] == name)


@SHIPPED_BUDGET
def test_time_reported_for_a_lens_of_the_module_is_credited_at_its_moment_on_every_level(client_):
    credited, state = client_.update_module(30, time_spent_s=30)
    assert credited == 30
    assert state["time_spent_s"] == lens_state(state, LENS)["time_spent_s"] == 30
    rows = client_.rows()
    assert {key: (row["total_time_spent_s"], as_utc(row["last_heartbeat_at"])) for key, row in rows.items()} == {
        LENS: (30, at(30)), "lo": (30, at(30)), "module": (30, at(30))
    }


@SHIPPED_BUDGET
def test_a_completing_update_credits_its_seconds_first_and_completes_at_its_moment(client_):
    client_.update_module(30, time_spent_s=30)
    credited, state = client_.update_module(50, time_spent_s=20, completed=True)
    assert credited == 20
    assert lens_state(state, LENS)["completed"] is True
    lens = client_.rows()[LENS]
    assert (as_utc(lens["completed_at"]), lens["time_to_complete_s"]) == (at(50), 50)


@pytest.mark.app_config(TRACKER_BURST_S=10, TRACKER_MAX_DELTA_S=120)
def test_module_updates_share_the_heartbeats_budget_at_their_moments(client_):
    assert client_.beat(0, 10) == 10
    assert client_.update_module(0, time_spent_s=60)[0] == 0, "the burst is used up at this moment"
    assert client_.update_module(4, time_spent_s=60)[0] == 4, "four seconds later, four seconds more"
    assert client_.beat(4, 10) == 0
    assert client_.total() == client_.total("lo") == client_.total("module") == 14


def test_an_update_that_reports_nothing_writes_nothing_and_answers_the_state(client_):
    credited, state = client_.update_module(10)
    assert credited is None
    assert state["time_spent_s"] == 0 and state["status"] == "not_started"
    assert client_.rows() == {}


def test_a_lens_outside_the_module_is_refused_and_writes_nothing(client_):
    with pytest.raises(progress.LensNotInModule):
        client_.update_module(10, "the-testing-effect", time_spent_s=30)
    assert client_.rows() == {}
