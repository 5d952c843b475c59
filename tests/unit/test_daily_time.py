"""The daily ledger's split at UTC midnight, at explicit moments: the service is given its `now`.

Live seconds are the last seconds before the heartbeat that carried them; queued seconds lie
where the budget puts them, from the oldest one's moment on. tests/test_daily_time.py checks
the same ledger through HTTP on the wall clock.
"""
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from support.database import ledger_days
from support.service import MODULE, Client

REALISTIC = dict(TRACKER_BURST_S=90, TRACKER_MAX_DELTA_S=120, TRACKER_MAX_BACKLOG_S=6 * 3600)
MIDNIGHT_S = 15 * 3600  # T0 is 09:00 UTC on 1 December: midnight comes 15 h later
DEC_1, DEC_2 = date(2026, 12, 1), date(2026, 12, 2)


def days_of(client: Client) -> dict[date, int]:
    module_id = client.index.modules_by_slug[MODULE].id
    return {day: seconds for (module, day), seconds in ledger_days(client.app, token=str(client.token)).items() if module == module_id}


@pytest.mark.app_config(**REALISTIC)
def test_a_live_heartbeat_across_midnight_splits_at_it_to_the_second(client_):
    assert client_.beat(MIDNIGHT_S - 10, 30, chunk=1) == 30  # 23:59:20 to 23:59:50
    assert days_of(client_) == {DEC_1: 30}
    assert client_.beat(MIDNIGHT_S + 20, 30, chunk=2) == 30  # 23:59:50 to 00:00:20
    assert days_of(client_) == {DEC_1: 40, DEC_2: 20}
    assert sum(days_of(client_).values()) == client_.total("module")


@pytest.mark.app_config(**REALISTIC)
def test_seconds_that_end_on_midnight_belong_to_the_day_before(client_):
    assert client_.beat(MIDNIGHT_S, 30, chunk=1) == 30
    assert days_of(client_) == {DEC_1: 30}


@pytest.mark.app_config(**REALISTIC)
def test_a_fraction_of_a_second_rounds_and_the_two_days_still_add_up(client_):
    assert client_.beat(MIDNIGHT_S + 12.4, 30, chunk=1) == 30  # 17.6 s before midnight, 12.4 s after
    assert days_of(client_) == {DEC_1: 18, DEC_2: 12}
    assert client_.beat(MIDNIGHT_S + 12.6 + 30, 30, chunk=2) == 30
    assert sum(days_of(client_).values()) == 60


@pytest.mark.app_config(**REALISTIC)
def test_queued_seconds_are_dated_from_the_oldest_one_on(client_):
    """Offline from 23:59:30 for two minutes; the page sends its queue at 00:05, five and a half minutes after its first second."""
    assert client_.beat(MIDNIGHT_S + 300, 120, age=330, chunk=1) == 120
    assert days_of(client_) == {DEC_1: 30, DEC_2: 90}


@pytest.mark.app_config(**REALISTIC)
def test_what_the_budget_withholds_is_in_no_day(client_):
    for n in range(5):  # five heartbeats of 60 s in the same second: the burst is credited, once
        client_.beat(MIDNIGHT_S + 30, 60, chunk=n + 1)
    assert client_.total("module") == 90
    assert sum(days_of(client_).values()) == 90


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(gaps=st.lists(st.integers(min_value=1, max_value=90), min_size=1, max_size=25), start=st.integers(-1500, 60))
@pytest.mark.app_config(**REALISTIC)
def test_an_honest_page_gets_each_second_on_the_day_it_was_spent(app, gaps, start):
    """A page that reports exactly the seconds since its last heartbeat (at most the burst), around midnight."""
    client = Client(app)
    moment, expected = MIDNIGHT_S + start, {}
    for n, gap in enumerate(gaps):
        moment += gap
        assert client.beat(moment, gap, chunk=n + 1) == gap
        for second in range(moment - gap, moment):  # the second that starts at `second`
            day = DEC_1 if second < MIDNIGHT_S else DEC_2
            expected[day] = expected.get(day, 0) + 1
    assert days_of(client) == expected
    assert sum(expected.values()) == client.total("module") == sum(gaps)
