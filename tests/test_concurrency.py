"""On PostgreSQL, concurrent heartbeats lose no second and concurrent completions miss no propagation."""
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from support.database import ledger_days

MODULE = "how-memory-works"
LO1_LENSES = ["memory-in-three-stages", "working-memory-limits", "focused-and-diffuse-thinking"]
OTHER_REQUIRED = ["the-forgetting-curve", "illusions-of-competence", "talk-through-how-memory-works"]


@pytest.fixture
def database_url(postgresql_url):
    return postgresql_url


@pytest.mark.app_config(TRACKER_BURST_S=10_000_000)
def test_concurrent_heartbeats_lose_no_seconds(app, new_api, make_learner, progress_rows):
    """8 threads x 200 heartbeats, each thread on its own connection, one learner and lens."""
    learner = make_learner()

    def send_heartbeats(seed: int) -> tuple[int, int, list[int]]:
        api = new_api()
        rng = random.Random(seed)
        sent = credited = 0
        statuses = []
        for _ in range(200):
            delta = rng.randint(1, 120)
            response = api.heartbeat(learner, MODULE, LO1_LENSES[0], delta)
            statuses.append(response.status_code)
            sent += delta
            credited += int(response.headers.get("X-Credited-Seconds", 0))
        return sent, credited, statuses

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send_heartbeats, range(8)))

    assert {status for _, _, statuses in results for status in statuses} == {204}
    total_sent = sum(sent for sent, _, _ in results)
    assert sum(credited for _, credited, _ in results) == total_sent
    totals = sorted(row["total_time_spent_s"] for row in progress_rows(learner).values())
    assert totals == [total_sent] * 3
    assert sum(ledger_days(app, token=learner.token).values()) == total_sent, "the ledger lost no second either"


def test_concurrent_completion_of_the_last_two_lenses_always_propagates(new_api, demo, make_learner, progress_rows):
    """Repeated 50 times with fresh learners, with heartbeats on the same rows running alongside."""
    module = demo.modules_by_slug[MODULE]
    lo1_id, module_id = str(module.outcomes[0].id), str(module.id)
    setup_api = new_api()

    for _ in range(50):
        learner = make_learner()
        assert setup_api.chat(learner, MODULE, OTHER_REQUIRED[-1]).status_code == 200  # the chat lens needs a message
        for name in [LO1_LENSES[0], *OTHER_REQUIRED]:
            assert setup_api.complete(learner, name, MODULE).status_code == 200
        start = threading.Barrier(3)

        def complete(name: str) -> int:
            api = new_api()
            start.wait()
            return api.complete(learner, name, MODULE).status_code

        def heartbeat() -> int:
            api = new_api()
            start.wait()
            return api.heartbeat(learner, MODULE, LO1_LENSES[1], 5).status_code

        with ThreadPoolExecutor(max_workers=3) as pool:
            futures = [pool.submit(complete, LO1_LENSES[1]), pool.submit(complete, LO1_LENSES[2]), pool.submit(heartbeat)]
            assert [f.result() for f in futures] == [200, 200, 204]
        rows = progress_rows(learner)
        assert rows[lo1_id]["completed_at"] is not None, "the LO must complete"
        assert rows[module_id]["completed_at"] is not None, "the module must complete"


def test_concurrent_completions_in_two_modules_complete_the_module_they_share_a_lens_with(
    new_api, demo, make_learner, progress_rows
):
    """The last two lenses of spacing-and-interleaving, one of them completed through how-memory-works."""
    spacing = demo.modules_by_slug["spacing-and-interleaving"]
    setup_api = new_api()
    for _ in range(30):
        learner = make_learner()
        assert setup_api.chat(learner, spacing.slug, "study-plan-tutor").status_code == 200
        for name in ["planning-a-review-schedule", "interleaving-vs-blocking", "a-weekly-study-routine", "study-plan-tutor"]:
            assert setup_api.complete(learner, name, spacing.slug).status_code == 200
        start = threading.Barrier(2)

        def complete(name: str, module_slug: str) -> int:
            api = new_api()
            start.wait()
            return api.complete(learner, name, module_slug).status_code

        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(complete, "the-forgetting-curve", MODULE),
                       pool.submit(complete, "the-spacing-effect", spacing.slug)]
            assert [f.result() for f in futures] == [200, 200]
        rows = progress_rows(learner)
        assert rows[str(spacing.outcomes[0].id)]["completed_at"] is not None, "the shared LO must complete"
        assert rows[str(spacing.id)]["completed_at"] is not None, "the module must complete"


def test_the_same_chunk_sent_at_once_on_eight_connections_is_credited_once(new_api, demo, make_learner, progress_rows):
    """A page that sends a chunk again while its first delivery still waits for a row lock.

    At the default budget: the row lock makes each later delivery see the chunk id the first one
    stored, on the lens, the LO and the module.
    """
    module = demo.modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LO1_LENSES[0])
    body = {"content_id": str(section.lens.id), "lo_id": str(section.outcome.id), "module_id": str(module.id),
            "time_delta_s": 30, "chunk_id": 424242}
    for _ in range(20):
        learner = make_learner()
        start = threading.Barrier(8)

        def send() -> tuple[int, int]:
            client = new_api().client
            start.wait()
            response = client.post("/api/progress/time", json=body, headers=learner.headers)
            return response.status_code, int(response.headers.get("X-Credited-Seconds", -1))

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda _: send(), range(8)))
        assert {status for status, _ in answers} == {204}
        assert sorted(credited for _, credited in answers) == [0] * 7 + [30], answers
        assert sorted(row["total_time_spent_s"] for row in progress_rows(learner).values()) == [30, 30, 30]


def test_concurrent_heartbeats_at_the_default_budget_credit_what_they_report(app, new_api, make_learner, progress_rows):
    """8 threads on one learner and lens at the default burst: what the server says it credited is in the rows."""
    learner = make_learner()

    def send_heartbeats(seed: int) -> int:
        api, rng = new_api(), random.Random(seed)
        return sum(int(api.heartbeat(learner, MODULE, LO1_LENSES[0], rng.randint(1, 30)).headers["X-Credited-Seconds"])
                   for _ in range(25))

    with ThreadPoolExecutor(max_workers=8) as pool:
        credited = sum(pool.map(send_heartbeats, range(8)))
    totals = sorted(row["total_time_spent_s"] for row in progress_rows(learner).values())
    assert totals == [credited] * 3
    assert sum(ledger_days(app, token=learner.token).values()) == credited
    assert 120 <= credited <= 120 + 60  # the burst, plus the wall-clock time the test took, at most a minute
