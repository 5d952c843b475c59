"""Completion, as the progress service applies it at explicit moments: dated then, its time snapshotted, propagated.

The same promises through HTTP are in tests/test_completion.py.
"""
import pytest

from support.service import LENS, MODULE, OTHER_LENS, as_utc, at
from tracker import progress

# The budget as shipped (tracker/config.py), pinned so that these figures do not move with a default.
SHIPPED_BUDGET = pytest.mark.app_config(TRACKER_BURST_S=120, TRACKER_MAX_DELTA_S=120)
LO1_LENSES = [LENS, OTHER_LENS, "focused-and-diffuse-thinking"]  # the required lenses of the module's first LO
CHAT_LENS = "talk-through-how-memory-works"


@SHIPPED_BUDGET
def test_a_completion_is_dated_at_its_moment_and_snapshots_the_time_spent_until_then(client_):
    assert [client_.beat(30, 30), client_.beat(60, 30)] == [30, 30]
    result = client_.complete(90)
    assert result["completed_at"] == at(90)
    lens = client_.rows()[LENS]
    assert (as_utc(lens["completed_at"]), lens["time_to_complete_s"], lens["total_time_spent_s"]) == (at(90), 60, 60)

    assert client_.beat(120, 30) == 30  # time after the completion still counts, but not towards it
    lens = client_.rows()[LENS]
    assert (lens["time_to_complete_s"], lens["total_time_spent_s"]) == (60, 90)


@SHIPPED_BUDGET
def test_completing_again_later_keeps_the_first_completion(client_):
    client_.beat(30, 30)
    client_.complete(40)
    client_.beat(70, 30)
    assert client_.complete(500)["completed_at"] == at(40)
    lens = client_.rows()[LENS]
    assert (as_utc(lens["completed_at"]), lens["time_to_complete_s"]) == (at(40), 30)


@SHIPPED_BUDGET
def test_completing_the_last_required_lens_of_an_outcome_completes_it_at_that_moment(client_):
    for n, lens in enumerate(LO1_LENSES[:-1]):
        client_.complete(10 * (n + 1), lens)
    assert client_.rows()["lo"]["completed_at"] is None
    client_.complete(100, LO1_LENSES[-1])
    rows = client_.rows()
    assert as_utc(rows["lo"]["completed_at"]) == at(100)
    assert rows["module"]["completed_at"] is None, "the module's other outcomes are still to do"


@SHIPPED_BUDGET
def test_seconds_sent_with_a_completion_are_credited_at_its_moment_before_the_snapshot(client_):
    client_.beat(30, 30)
    result = client_.complete(50, pending_s=20)
    assert result["credited_s"] == 20
    rows = client_.rows()
    assert (rows[LENS]["time_to_complete_s"], as_utc(rows[LENS]["last_heartbeat_at"])) == (50, at(50))
    assert rows["lo"]["total_time_spent_s"] == rows["module"]["total_time_spent_s"] == 50


@pytest.mark.app_config(TRACKER_BURST_S=10, TRACKER_MAX_DELTA_S=120)
def test_seconds_sent_with_a_completion_go_through_the_budget_of_its_moment(client_):
    assert client_.beat(0, 10) == 10
    result = client_.complete(5, pending_s=60)
    assert result["credited_s"] == 5, "five seconds had passed since the last credit"
    assert client_.rows()[LENS]["time_to_complete_s"] == 15


def test_a_required_chat_lens_is_not_completed_before_the_learner_writes_to_the_tutor(client_):
    with pytest.raises(progress.ChatNotStarted):
        client_.complete(10, CHAT_LENS)
    assert client_.rows() == {}


def test_a_lens_of_another_module_is_refused_and_writes_nothing(client_):
    with pytest.raises(progress.ProgressError):
        client_.complete(10, "the-testing-effect", module=MODULE)
    assert client_.rows() == {}
