"""PostgreSQL faults: a restart under load answers 503 and loses nothing; a lost pooled connection costs one heartbeat.

The restart runs on a private cluster (tests/support/pg_cluster.py), never on the shared server.
The load, the bounded requests and the checks are in support/faults.py.
"""
import time
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from support.faults import copied_content  # noqa: F401 (the fixture content_dir: a copy of the content)
from support.faults import (
    LENS,
    MODULE,
    NO_BUDGET_LIMIT,
    UNAVAILABLE,
    Load,
    assert_refused,
    bounded,
    heartbeat,
    make_app,
    module_heartbeat,
    sign_up,
    totals,
)
from tracker.db import dispose_engines


@pytest.fixture
def private_app(private_postgres, content_dir):
    app = make_app(private_postgres.url, content_dir, TRACKER_BURST_S=NO_BUDGET_LIMIT)
    yield app
    if not private_postgres.is_running():
        private_postgres.start()
    dispose_engines(app)


def test_postgresql_restart_under_load_answers_503_then_recovers_with_nothing_lost_or_doubled(
    private_app, private_postgres, caplog
):
    app, cluster = private_app, private_postgres
    account = app.test_client()
    assert sign_up(account, "ada@example.org").status_code == 303
    senders = [heartbeat] * 4 + [module_heartbeat]  # both engines: autocommit (no pre-ping) and pooled transactions

    with Load(app, senders) as load:
        load.wait_for_deliveries(3)
        stopped_at = time.monotonic()
        cluster.stop("fast")  # every backend is terminated, open transactions are rolled back
        down_at = time.monotonic()
        # While it is down: pages answer the error page or its fragment, also for a logged-in learner.
        page = bounded(lambda: app.test_client().get(f"/modules/{MODULE}/{LENS}"))
        fragment = bounded(lambda: app.test_client().get(f"/modules/{MODULE}/{LENS}", headers={"HX-Request": "true"}))
        mine = bounded(lambda: account.get("/me"))
        time.sleep(max(0.0, 3 - (time.monotonic() - down_at)))
        cluster.start()
        up_at = time.monotonic()
        load.wait_for_deliveries(5, after=up_at)  # the same app, no restart: its pools recovered

    for response in (page, fragment, mine):
        assert_refused(response, UNAVAILABLE)
    assert fragment.get_data(as_text=True).strip().startswith('<p class="error"')  # no page around it
    refused = [a for a in load.answers if a.status != 200 and a.status != 204]
    assert refused and {a.status for a in refused} == {503}
    assert all(a.body == {"error": UNAVAILABLE, "status": 503} for a in refused)
    assert any("the database is unavailable" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    figures = load.check_nothing_lost_or_doubled()
    recovered_at = min(a.sent_at + a.took_s for a in load.delivered(after=up_at))
    print(
        f"\n[restart] outage {up_at - stopped_at:.1f} s (stop took {down_at - stopped_at:.2f} s);"
        f" {len(load.answers)} requests, {len(refused)} answered 503, slowest during the outage"
        f" {max(a.took_s for a in refused):.2f} s; first 2xx {recovered_at - up_at:.2f} s after the start,"
        f" {sum(a.sent_at >= up_at for a in refused)} answered 503 after it;"
        f" credited {figures['credited_s']} s = database"
    )


# ---------------------------------------------------------------- a connection lost in the pool


def test_a_lost_pooled_connection_costs_one_heartbeat_and_none_of_the_transactions(postgresql_url, content_dir):
    """The heartbeat pool has no pre-ping (it would cost a round trip): the heartbeat that meets a
    dead connection gets 503 and the next one reconnects. The transaction pool pre-pings, so a
    request there never sees the dead connection."""
    name = f"tracker-faults-{uuid.uuid4().hex[:8]}"
    app = make_app(f"{postgresql_url}&application_name={name}", content_dir, TRACKER_BURST_S=NO_BUDGET_LIMIT)
    index, client, token = app.extensions["tracker.content"].index, app.test_client(), str(uuid.uuid4())
    try:
        assert heartbeat(client, index, token, 10).status_code == 204
        assert module_heartbeat(client, index, token, 10).status_code == 200
        terminate_backends(postgresql_url, name)  # as a restart, a failover or an idle timeout would

        assert_refused(bounded(lambda: heartbeat(client, index, token, 10)), UNAVAILABLE)
        assert heartbeat(client, index, token, 10).status_code == 204
        terminate_backends(postgresql_url, name)
        assert module_heartbeat(client, index, token, 10).status_code == 200
        assert totals(app, token) == {"module": 40, "lo": 40, "lens": 40}  # the refused 10 s are not in
    finally:
        dispose_engines(app)


def terminate_backends(url: str, application_name: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        killed = conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": application_name},
        ).all()
    engine.dispose()
    assert killed, "the app had no connection to terminate"
