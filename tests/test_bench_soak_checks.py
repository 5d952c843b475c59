"""The soak's judgement of what a row must hold, on heartbeats made by hand (bench.soak.checks).

The server's per-row budget is a leaky bucket of TRACKER_BURST_S seconds (120 here) that refills
with the wall clock. budget_never_reached says whether the client's own send and receive times
prove that no heartbeat on a row can have met it; expected_times turns that into the seconds
each lens, LO and module row must hold.
"""
from collections import Counter

from bench.soak.checks import budget_never_reached, expected_times
from bench.soak.ledger import Beat, Person

BURST_S = 120
LENS_A, LENS_B, LO, MODULE = "lens-a", "lens-b", "lo-1", "module-1"
OTHER_LO, OTHER_MODULE = "lo-2", "module-2"
LENSES = {LENS_A, LENS_B}
SAME_HEARTBEATS = "LO/module: the same heartbeats as its one lens"
NEVER_REACHED = "LO/module: budget provably never reached"


def make_person(number: int = 1) -> Person:
    return Person(number, "reader", f"token-{number}")


def make_beat(at: float, delta: int, *, credited: int | None = None, took: float = 0.1, person: Person | None = None,
              lens: str = LENS_A, lo: str = LO, module: str = MODULE) -> Beat:
    """A heartbeat sent at `at` seconds and answered `took` seconds later."""
    credited = delta if credited is None else credited
    return Beat(person or make_person(), lens, lo, module, delta, credited, at, at + took, anonymous=True)


def test_asking_less_than_the_budget_in_all_never_reaches_it_whatever_the_timing():
    beats = [make_beat(0.0, 30), make_beat(0.0, 30), make_beat(0.0, 59)]  # 119 s at one moment
    assert budget_never_reached(beats, BURST_S)


def test_one_heartbeat_of_the_whole_budget_reaches_it():
    assert budget_never_reached([make_beat(0.0, 119)], BURST_S)
    assert not budget_never_reached([make_beat(0.0, 120)], BURST_S)
    assert not budget_never_reached([make_beat(0.0, 500)], BURST_S)  # asks count up to the budget: 120


def test_a_tab_sending_its_seconds_as_they_pass_never_reaches_it():
    beats = [make_beat(30.0 * n, 30) for n in range(10)]  # 300 s over 270 s
    assert budget_never_reached(beats, BURST_S)


def test_two_tabs_on_one_row_outrun_the_clock_and_reach_it():
    beats = [make_beat(30.0 * n + offset, 30) for n in range(10) for offset in (0.0, 0.5)]  # 600 s over 270 s
    assert not budget_never_reached(beats, BURST_S)


def test_two_big_asks_reach_it_together_but_not_far_apart():
    assert not budget_never_reached([make_beat(0.0, 100), make_beat(0.0, 100)], BURST_S)
    assert budget_never_reached([make_beat(0.0, 100), make_beat(200.0, 100)], BURST_S)


def test_a_slow_answer_may_have_been_applied_late_and_leave_less_time_to_refill():
    # Two asks of 100 s fit the budget when 80 s or more pass between them (200 <= 80 + 120).
    # Answered within 0.1 s, the first was applied at least 84.9 s before the second:
    assert budget_never_reached([make_beat(0.0, 100), make_beat(85.0, 100)], BURST_S)
    # answered after 10 s, perhaps only 75 s before.
    assert not budget_never_reached([make_beat(0.0, 100, took=10.0), make_beat(85.0, 100)], BURST_S)


def test_a_reader_on_one_lens_gets_its_credits_on_the_lens_lo_and_module():
    person = make_person()
    beats = [make_beat(0.0, 30, person=person), make_beat(30.0, 30, person=person),
             make_beat(60.0, 30, credited=12, person=person)]  # the last one cut by the budget
    expected, methods, unverifiable = expected_times(beats, LENSES, BURST_S)
    assert expected == {(person, LENS_A): 72, (person, LO): 72, (person, MODULE): 72}
    assert methods == Counter({"lens: X-Credited-Seconds": 1, SAME_HEARTBEATS: 2})
    assert unverifiable == []


def test_a_reader_moving_between_lenses_gets_the_seconds_asked_on_lo_and_module():
    person = make_person()
    beats = [make_beat(0.0, 30, person=person), make_beat(30.0, 30, person=person),
             make_beat(60.0, 30, person=person, lens=LENS_B), make_beat(90.0, 20, person=person, lens=LENS_B)]
    expected, methods, unverifiable = expected_times(beats, LENSES, BURST_S)
    assert expected == {(person, LENS_A): 60, (person, LENS_B): 50, (person, LO): 110, (person, MODULE): 110}
    assert methods == Counter({"lens: X-Credited-Seconds": 2, NEVER_REACHED: 2})
    assert unverifiable == []


def test_two_lenses_at_once_over_the_budget_leave_the_lo_and_module_unverifiable():
    person = make_person()
    beats = [make_beat(0.0, 100, person=person), make_beat(0.5, 100, credited=100, person=person, lens=LENS_B)]
    expected, methods, unverifiable = expected_times(beats, LENSES, BURST_S)
    assert expected == {(person, LENS_A): 100, (person, LENS_B): 100}
    assert methods == Counter({"lens: X-Credited-Seconds": 2})
    assert sorted(unverifiable, key=lambda key: key[1]) == [(person, LO), (person, MODULE)]


def test_a_lens_sent_with_two_modules_gives_each_module_the_budget_check():
    person = make_person()
    beats = [make_beat(0.0, 30, person=person),
             make_beat(30.0, 30, person=person, lo=OTHER_LO, module=OTHER_MODULE)]
    expected, methods, _ = expected_times(beats, LENSES, BURST_S)
    assert expected == {(person, LENS_A): 60, (person, LO): 30, (person, MODULE): 30,
                        (person, OTHER_LO): 30, (person, OTHER_MODULE): 30}
    assert methods == Counter({"lens: X-Credited-Seconds": 1, NEVER_REACHED: 4})


def test_learners_are_counted_apart():
    ada, grace = make_person(1), make_person(2)
    beats = [make_beat(0.0, 30, person=ada), make_beat(0.0, 60, person=grace)]
    expected, _, _ = expected_times(beats, LENSES, BURST_S)
    assert expected[ada, LENS_A] == expected[ada, MODULE] == 30
    assert expected[grace, LENS_A] == expected[grace, MODULE] == 60
