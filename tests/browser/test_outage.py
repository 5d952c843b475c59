"""A database outage in a real browser: the page keeps the seconds and delivers them once it is back.

The app runs on a private PostgreSQL cluster (tests/support/pg_cluster.py) that the test stops and starts;
the shared test database is never touched. Heartbeats come every second (see conftest.py).
"""
import time

import pytest

from support.browser import stay_active
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content

MODULE, LENS = "how-memory-works", "memory-in-three-stages"
UNAVAILABLE = {"error": "the database is unavailable; try again shortly", "status": 503}


@pytest.fixture
def database_url(private_postgres):
    """The app of this module runs on the private cluster."""
    return private_postgres.url


@pytest.fixture
def cluster(private_postgres):
    yield private_postgres
    if not private_postgres.is_running():
        private_postgres.start()


def queued_seconds(page) -> int:
    return sum(entry["seconds"] for entry in page.evaluate("tracker.queue()"))


@pytest.mark.app_config(TRACKER_INACTIVITY_TIMEOUT_S=3)
def test_seconds_counted_during_a_database_outage_are_queued_and_delivered_once_it_is_back(
    page, cluster, heartbeats, received, time_spent, wait_until, screenshot
):
    module = load_content(DEMO_CONTENT_DIR).modules_by_slug[MODULE]
    section = next(s for s in module.sections if s.lens.name == LENS)
    levels = (str(section.lens.id), str(section.outcome.id), str(module.id))
    page.goto(f"/modules/{MODULE}/{LENS}")
    stay_active(page, lambda: sum(h.delivered for h in heartbeats.all) >= 2, message="two delivered heartbeats", timeout=30)

    cluster.stop("fast")
    stopped_at = time.monotonic()
    stay_active(page, lambda: sum(h.status == 503 for h in heartbeats.all) >= 3 and queued_seconds(page) >= 3,
                message="three heartbeats refused with 503 and their seconds queued", timeout=30)
    refused = [r for r in received if r.status == 503]
    screenshot(page, "outage-queued", note=(
        f"database stopped: {len(refused)} heartbeats answered 503, "
        f"{queued_seconds(page)} s waiting in the retry queue (localStorage)"))
    cluster.start()
    started_at = time.monotonic()

    # Back: the queue drains while the learner goes on reading, then the learner stops.
    stay_active(page, lambda: page.evaluate("tracker.queue()") == [] and any(
        r.status == 204 and r.at > started_at for r in received), message="the queue to drain", timeout=30)
    drained_at = time.monotonic()
    wait_until(lambda: not page.evaluate("tracker.isActive()"), timeout=10, page=page, message="the learner to go inactive")
    page.wait_for_timeout(2000)  # a heartbeat already on its way lands
    wait_until(lambda: all(h.status or h.failure for h in heartbeats.all), page=page, message="every request answered")
    assert page.evaluate("tracker.queue()") == [] and page.evaluate("tracker.pendingSeconds()") == 0

    # Every chunk of seconds the page sent, live or from the queue, was credited once in the end:
    # those refused with 503 were sent again with the same id, and nothing else was.
    chunks = {}
    for r in received:
        chunks.setdefault(int(r.body["chunk_id"]), []).append(r)
    assert {r.status for r in received} <= {204, 503}
    assert all(any(r.status == 204 for r in deliveries) for deliveries in chunks.values()), chunks
    assert all(sum(r.credited or 0 for r in deliveries) == deliveries[0].seconds for deliveries in chunks.values())
    counted = sum(deliveries[0].seconds for deliveries in chunks.values())
    failed = sum(deliveries[0].seconds for deliveries in chunks.values() if deliveries[0].status == 503)
    queued = sum(deliveries[0].seconds for deliveries in chunks.values() if "backlog_age_s" in deliveries[0].body)
    assert failed >= 1 and queued >= 3
    wait_until(lambda: tuple(time_spent().get(key, 0) for key in levels) == (counted,) * 3, page=page,
               message=f"lens, LO and module to hold the {counted} s the page counted")
    assert sum(r.credited for r in received if r.status == 204) == counted  # nothing lost, nothing twice
    screenshot(page, "outage-recovered", note=(
        f"database back after {started_at - stopped_at:.1f} s: the queue drained in {drained_at - started_at:.1f} s\n"
        f"counted {counted} s = database (lens, LO and module); {failed} s refused and sent again,"
        f" {queued} s queued without a try"))
    print(f"\n[browser outage] outage {started_at - stopped_at:.1f} s, {sum(r.status == 503 for r in received)}"
          f" heartbeats answered 503"
          f" ({failed} s refused, {queued} s queued), queue drained {drained_at - started_at:.1f} s after the restart;"
          f" counted {counted} s = database")
