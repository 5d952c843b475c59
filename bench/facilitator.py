"""Benchmark of the facilitator's pages on PostgreSQL: a group of 30 in a database of N learners, p50 and p95.

It seeds the database as bench/dashboard.py does (`seed-demo-load --learners N`; `--reuse` takes the
database a `python -m bench.dashboard --keep` run left), then, through the cohorts service, makes a
cohort of the demo course that started 3 days ago and first meets in 4 days, one group of 30 of the
seeded accounts (those who did the most, so that every row has progress, days and chats to read)
and a facilitator for it. It serves the app under gunicorn, logs in as the facilitator through the
login form and requests each of their pages `--repeat` times after two unmeasured requests.

    .venv/bin/python -m bench.facilitator --learners 100000
    .venv/bin/python -m bench.dashboard --learners 100000 --keep && .venv/bin/python -m bench.facilitator --reuse

The exit status is 1 when a page answered other than 200 or missed --target-ms at p95.
"""
import argparse
import os
import platform
import sys
from datetime import datetime, timedelta, timezone

import psycopg

from bench import dashboard
from bench.machine import cpu_model

FACILITATOR = ("bench-facilitator@example.org", "bench facilitator password")
GROUP_SIZE = 30


def make_group(env: dict) -> tuple[int, int]:
    """The cohort, its group of the 30 busiest seeded accounts, and the facilitator; (group id, one member's id)."""
    os.environ.update(env)
    from tracker import cohorts, create_app
    from tracker.accounts import create_user

    app = create_app()
    db, index = app.extensions["tracker.db"], app.extensions["tracker.content"].index
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        busiest = conn.execute(
            "SELECT u.id, u.email FROM users u JOIN user_content_progress p ON p.user_id = u.id"
            " WHERE p.content_type = 'module' GROUP BY u.id, u.email ORDER BY sum(p.total_time_spent_s) DESC LIMIT %s",
            (GROUP_SIZE,),
        ).fetchall()
    starts_on = datetime.now(timezone.utc).date() - timedelta(days=3)
    first = datetime.combine(starts_on + timedelta(days=7), datetime.min.time())
    cohort_id = cohorts.create_cohort(
        db, index, course="study-skills", name=f"Bench cohort {datetime.now(timezone.utc):%H%M%S}", starts_on=str(starts_on),
        time_zone="UTC", meeting_dates=f"{first:%Y-%m-%d %H:%M}\n{first + timedelta(days=7):%Y-%m-%d %H:%M}",
    )
    group_id = cohorts.create_group(db, cohort_id, name="Bench group")
    for _, email in busiest:
        cohorts.place_learner(db, cohort_id, email=email, group_id=str(group_id))
    create_user(db, FACILITATOR[0], FACILITATOR[1], "Bench Facilitator")
    cohorts.make_facilitator(db, cohort_id, email=FACILITATOR[0], group_id=str(group_id))
    app.extensions["tracker.db"].dispose()
    return group_id, busiest[0][0]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.facilitator", description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--target-ms", type=float, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    parser.add_argument("--reuse", action="store_true", help="skip the seed; use the database a --keep run left")
    args = parser.parse_args()
    env = {
        **os.environ, "DATABASE_URL": f"{dashboard.SERVER}/{dashboard.DATABASE}", "SECRET_KEY": "bench",
        "TRACKER_CONTENT_CHECK_S": "0",
    }
    seeded = dashboard.prepare(env, args.learners, args.reuse)
    if args.reuse:
        with psycopg.connect(env["DATABASE_URL"], autocommit=True) as conn:
            conn.execute("DELETE FROM users WHERE email = %s", (FACILITATOR[0],))
    group_id, member_id = make_group(env)
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        learners = conn.execute(
            "SELECT (SELECT count(*) FROM users) + (SELECT count(DISTINCT anonymous_token) FROM user_content_progress)"
        ).fetchone()[0]
        rows = conn.execute("SELECT count(*) FROM user_content_progress").fetchone()[0]
        days = conn.execute("SELECT count(*) FROM daily_module_time").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    server = dashboard.start_gunicorn(env, args.port, args.workers)
    failed = False
    try:
        session = dashboard.Session(args.port)
        session.log_in(*FACILITATOR)
        print(
            f"\n{seeded}\n{learners:,} learners, {rows:,} progress rows, {days:,} days in the ledger; a group of {GROUP_SIZE};"
            f" PostgreSQL {version}; {os.cpu_count()} cores {cpu_model(platform.processor() or 'unknown CPU')};"
            f" gunicorn, {args.workers} sync workers; {args.repeat} requests per page\n"
        )
        failed = dashboard.page_table(session, [
            ("my groups", "/facilitate/", {}),
            ("group page", f"/facilitate/groups/{group_id}", {}),
            ("group page, 30 s refresh (htmx partial)", f"/facilitate/groups/{group_id}", {"HX-Request": "true"}),
            ("group CSV", f"/facilitate/groups/{group_id}/members.csv", {}),
            ("member page", f"/facilitate/groups/{group_id}/members/{member_id}", {}),
        ], args.repeat, args.target_ms)
    finally:
        server.stop()
        if not args.keep:
            with psycopg.connect(f"{dashboard.SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {dashboard.DATABASE} WITH (FORCE)")
    print(f"p95 target {args.target_ms:.0f} ms: {'missed' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
