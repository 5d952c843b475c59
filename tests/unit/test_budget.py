"""The wall-clock budget, as the progress service applies it, at explicit moments (no sleeps).

Live heartbeats: over any window, a row gains at most the window's length plus the burst.
Whatever a client sends: a row never holds more than the wall-clock time since its first
heartbeat (dated back to the oldest second it carried) plus the burst; a backlog older than
TRACKER_MAX_BACKLOG_S is not credited; a chunk sent twice is credited once. The same budget
through HTTP, on the wall clock, is in tests/test_budget.py.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.service import LENS, OTHER_LENS, T0, Client, Sent, as_utc, at

BURST_S, MAX_BACKLOG_S = 10, 6 * 3600
REALISTIC = dict(TRACKER_BURST_S=BURST_S, TRACKER_MAX_DELTA_S=120, TRACKER_MAX_BACKLOG_S=MAX_BACKLOG_S)


@pytest.mark.app_config(TRACKER_BURST_S=3, TRACKER_MAX_DELTA_S=120)
def test_budget_refills_with_wall_clock_time_at_explicit_moments(client_):
    """tests/test_budget.py's test_budget_refills_with_wall_clock_time, with `now` given instead of a sleep."""
    assert client_.beat(0, 60) == 3
    assert client_.beat(0, 60) == 0
    assert client_.beat(2.1, 60) == 2, "the 2.1 s that passed, in whole seconds"
    assert client_.beat(2.1, 60) == 0
    assert client_.beat(3.1, 60) == 1
    assert client_.beat(1000, 60) == 3, "however long the pause, no more than the burst"
    assert client_.total() == client_.total("lo") == client_.total("module") == 9


def assert_within_guarantees(client: Client, now_s: float, first_request_s: float) -> None:
    """What holds for every row, whatever was sent: the wall-clock bound and its dating."""
    for key, row in client.rows().items():
        started_s = (as_utc(row["started_at"]) - T0).total_seconds()
        # The database keeps microseconds, the budget milliseconds: a millisecond of leeway.
        assert row["total_time_spent_s"] <= now_s - started_s + BURST_S + 0.001, (key, row)
        assert started_s >= first_request_s - MAX_BACKLOG_S, (key, row)
        assert row["credited_until_ms"] <= int(at(now_s).timestamp() * 1000), (key, row)


def assert_live_bound(sent: list[Sent]) -> None:
    """Over every window between two live heartbeats, the credits fit the window plus the burst."""
    live = sorted((s for s in sent if s.backlog_age_s is None), key=lambda s: s.at_s)
    for i, first in enumerate(live):
        credited = 0
        for last in live[i:]:
            credited += last.credited
            assert credited <= last.at_s - first.at_s + BURST_S, (first, last)


@pytest.mark.app_config(**REALISTIC)
def test_a_flood_of_live_heartbeats_gains_at_most_the_window_plus_the_burst(client_):
    """600 heartbeats of 60 s in one minute, ten a second."""
    for n in range(600):
        client_.beat(n / 10, 60, chunk=n + 1)
    assert_live_bound(client_.sent)
    assert client_.total() == sum(s.credited for s in client_.sent) <= 60 + BURST_S
    assert client_.total() >= 59.9  # the wall clock's seconds were all there to credit
    assert client_.total("module") == client_.total("lo") == client_.total()
    assert_within_guarantees(client_, 59.9, 0)


@pytest.mark.app_config(**REALISTIC)
def test_a_chunk_sent_again_is_credited_once_on_every_level(client_):
    assert client_.beat(3, 3, chunk=11) == 3
    assert client_.beat(5, 3, chunk=11) == 0  # the answer was lost and the page sent it again
    # Another lens of the same LO and module is credited in between: the LO and module rows have
    # seen another chunk since, and still credit the repeat nothing.
    assert client_.beat(9, 3, OTHER_LENS, chunk=12) == 3
    assert client_.beat(12, 3, chunk=11, age=9) == 0
    assert (client_.total(), client_.total(OTHER_LENS), client_.total("lo"), client_.total("module")) == (3, 3, 6, 6)
    assert_within_guarantees(client_, 12, 3)


@pytest.mark.app_config(**REALISTIC)
def test_a_backlog_is_credited_in_full_and_the_next_live_heartbeat_too(client_):
    """The learner of the issue: 6 s online, 30 s without a network, 6 s online again (interval 3 s)."""
    assert [client_.beat(3, 3, chunk=1), client_.beat(6, 3, chunk=2)] == [3, 3]
    # Back online at 36.5 s: the queue goes first, saying its oldest second is 31 s old (rounded up).
    assert client_.beat(36.5, 30, age=31, chunk=3) == 30
    assert [client_.beat(39.5, 3, chunk=4), client_.beat(42.5, 3, chunk=5)] == [3, 3]
    assert client_.total() == client_.total("lo") == client_.total("module") == 42
    assert_within_guarantees(client_, 42.5, 3)


@pytest.mark.app_config(**REALISTIC)
def test_a_backlog_on_a_row_it_creates_dates_the_row_back_to_its_oldest_second(client_):
    """Cut off before the first heartbeat ever arrived: the rows start when the learner did."""
    assert client_.beat(300, 120, age=300, chunk=1) == 120
    assert client_.beat(300.2, 120, age=300, chunk=2) == 120
    assert client_.beat(300.4, 60, age=300, chunk=3) == 60
    rows = client_.rows()
    assert {rows[k]["total_time_spent_s"] for k in (LENS, "lo", "module")} == {300}
    assert as_utc(rows[LENS]["started_at"]) == at(0)
    # Replaying the backlog gains nothing: its 300 s of wall clock are taken.
    assert client_.beat(300.6, 120, age=300, chunk=4) == 0
    assert_within_guarantees(client_, 300.6, 300)


@pytest.mark.app_config(**REALISTIC)
def test_a_forged_ten_hour_backlog_is_not_credited_and_writes_nothing(client_):
    assert client_.beat(0, 120, age=10 * 3600, chunk=1) == 0
    assert client_.rows() == {}
    client_.beat(5, 5, chunk=2)
    before = client_.rows()
    assert client_.beat(10, 120, age=10 * 3600, chunk=3) == 0
    assert client_.rows() == before


@pytest.mark.app_config(**REALISTIC)
def test_a_backlog_older_than_the_maximum_age_is_not_credited(client_):
    assert client_.beat(0, 120, age=MAX_BACKLOG_S + 1, chunk=1) == 0
    assert client_.beat(0, 120, age=MAX_BACKLOG_S, chunk=2) == 120  # at the limit it still counts


@pytest.mark.app_config(**REALISTIC)
def test_a_flood_of_forged_backlogs_never_passes_the_wall_clock(client_):
    """A client claiming, over and over, that every chunk is six hours old."""
    client_.beat(0, 5, chunk=1)
    for n in range(400):
        client_.beat(10 + n / 100, 120, age=MAX_BACKLOG_S, chunk=100 + n)
    assert_within_guarantees(client_, 14, 0)
    # Each credited second is a distinct second of the last six hours: no more than there were.
    assert client_.total() <= MAX_BACKLOG_S + 14


@pytest.mark.app_config(**REALISTIC)
def test_an_out_of_order_backlog_stays_within_the_guarantees(client_):
    """A live heartbeat overtakes the backlog (two tabs): the backlog finds part of its time taken."""
    client_.beat(3, 3, chunk=1)
    client_.beat(6, 3, chunk=2)
    live = client_.beat(39, 3, chunk=4)
    backlog = client_.beat(39.5, 30, age=34, chunk=3)
    assert live == 3 and 0 < backlog <= 30
    assert client_.total() == 6 + live + backlog
    assert_within_guarantees(client_, 39.5, 3)


@pytest.mark.app_config(**REALISTIC)
def test_a_wrong_client_clock_changes_nothing_the_server_counts(client_):
    """The page's clock jumped back (a backlog age of 0) or forward a day: the server's clock decides."""
    assert client_.beat(0, 120, age=0, chunk=1) == BURST_S  # as young as live seconds: the burst
    assert client_.beat(1, 120, age=86_400, chunk=2) <= 120
    assert_within_guarantees(client_, 1, 0)


@st.composite
def traffic(draw):
    """A random mix of live heartbeats, backlogs, repeats and forgeries, in time order.

    A repeat is the page sending its lens's last chunk again, as it does when an answer was lost:
    it retries a chunk before it sends any newer one (tracker.js keeps its queue in order).
    """
    beats, at_s, chunk, last_of_lens = [], 0.0, 0, {}
    for _ in range(draw(st.integers(1, 40))):
        at_s += draw(st.floats(0, 30))
        kind = draw(st.sampled_from(["live", "backlog", "repeat", "forged"]))
        lens = draw(st.sampled_from([LENS, OTHER_LENS]))
        if kind == "repeat" and lens in last_of_lens:
            beats.append((at_s, *last_of_lens[lens][1:]))
            continue
        chunk += 1
        age = {"live": None, "backlog": draw(st.integers(0, 4000)), "repeat": None,
               "forged": draw(st.integers(0, 2 * MAX_BACKLOG_S))}[kind]
        beats.append((at_s, draw(st.integers(1, 120)), lens, age, chunk))
        last_of_lens[lens] = beats[-1]
    return beats


@pytest.mark.app_config(**REALISTIC)
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(beats=traffic())
def test_whatever_a_client_sends_every_row_stays_within_the_guarantees(app, beats):
    client = Client(app)
    for at_s, delta_s, lens, age, chunk in beats:
        client.beat(at_s, delta_s, lens, age=age, chunk=chunk)
    assert_within_guarantees(client, beats[-1][0], beats[0][0])
    assert_live_bound([s for s in client.sent if s.lens == LENS])
    # A chunk id is credited at most once, on every level.
    by_chunk = {}
    for s in client.sent:
        by_chunk.setdefault(s.chunk_id, []).append(s.credited)
    assert all(sum(1 for c in credits if c) <= 1 for credits in by_chunk.values()), by_chunk
    # The LO and the module see the same heartbeats; each has its own budget, so heartbeats for
    # two lenses at once (which one page never sends) may fill theirs before the lenses' own.
    lens_total = client.total(LENS) + client.total(OTHER_LENS)
    assert client.total("lo") == client.total("module") <= lens_total
