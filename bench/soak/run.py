"""The soak's command line and its run: the load, then the checks and the summary."""
import argparse
import asyncio
import contextlib
import json
import os
import random
import time
from collections import Counter
from pathlib import Path

from bench import soak
from bench.machine import describe
from bench.soak.behaviours import ADMIN, BEHAVIOURS, admin_reader, make_people
from bench.soak.checks import check_database, request_checks
from bench.soak.client import Load
from bench.soak.plan import Plan
from bench.soak.reload import content_reload
from bench.soak.report import print_summary, traffic
from bench.soak.server import SOAK_RATE_LIMITS, flask_command, own_server
from bench.soak.watch import WorkerWatch, gunicorn_masters
from tracker.config import DEMO_CONTENT_DIR


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=soak.__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load (default 300)")
    parser.add_argument("--learners", type=int, default=10_000, help="learners (default 10000)")
    parser.add_argument("--accounts", type=int, default=None,
                        help="learners who sign up: half at once, half mid-session (default learners/200, 2..60)")
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between a tab's heartbeats (default 30)")
    parser.add_argument("--concurrency", type=int, default=96, help="requests in flight at most (default 96)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one, printed)")
    parser.add_argument("--target", help="base URL of a running setup; without it, start gunicorn here")
    parser.add_argument("--instance", action="append", default=[],
                        help="an instance's own base URL, for /readyz (repeat; default: the target or our gunicorn)")
    parser.add_argument("--database-url", help="the target's database (required with --target)")
    parser.add_argument("--content-dir", help="the target's TRACKER_CONTENT_DIR, edited half-way (with --target)")
    parser.add_argument("--no-content-edit", action="store_true", help="skip the content edit and reload check")
    parser.add_argument("--content-check-s", type=float, default=2.0, help="the servers' TRACKER_CONTENT_CHECK_S")
    parser.add_argument("--worker-pids-from", default="",
                        help="gunicorn master pids (or pid files), comma-separated; default: found from --instance ports")
    parser.add_argument("--max-delta", type=int, default=120, help="the servers' TRACKER_MAX_DELTA_S (default 120)")
    parser.add_argument("--burst", type=int, default=120, help="the servers' TRACKER_BURST_S (default 120)")
    parser.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432",
                        help="PostgreSQL server for our own database (without --target)")
    parser.add_argument("--database", default="tracker_soak", help="our own database, dropped and recreated")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers we start (WEB_CONCURRENCY)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker we start (GUNICORN_THREADS)")
    parser.add_argument("--json", help="write the summary here as JSON")
    args = parser.parse_args(argv)
    if args.target and not args.database_url:
        parser.error("--target needs --database-url, the database the target writes to")
    if args.target and not (args.content_dir or args.no_content_edit):
        parser.error("--target needs --content-dir (the target's TRACKER_CONTENT_DIR) or --no-content-edit")
    if args.accounts is None:
        args.accounts = max(2, min(60, args.learners // 200))
    args.seed = args.seed if args.seed is not None else random.randrange(2**32)
    return args


async def run_load(args, plan: Plan, setup: dict, masters: dict[str, int]):
    """Drive the load; return the ledger, the content reload report, the memory watch, the seconds it took, the people."""
    random.seed(args.seed)
    people = make_people(args)
    start = time.monotonic()
    load = Load(args, plan, setup["base"], start)
    watch = WorkerWatch(masters)
    reload_report: dict = {}
    arrivals = sorted(random.uniform(0, args.duration * 0.75) for _ in people)
    tasks = [asyncio.create_task(BEHAVIOURS[p.kind](load, p, start + at)) for p, at in zip(people, arrivals)]
    tasks.append(asyncio.create_task(admin_reader(load)))
    if not args.no_content_edit:
        tasks.append(asyncio.create_task(content_reload(load, setup["instances"], Path(setup["content_dir"]),
                                                        reload_report)))
    watcher = asyncio.create_task(watch.run(load, setup["database_url"]))
    done, pending = await asyncio.wait(tasks, timeout=args.duration + 120)
    for task in pending:  # still waiting for an answer two minutes after the end: an unknown outcome
        task.cancel()
        load.ledger.problem("a learner's request was still unanswered two minutes after the end")
    for task in done:
        if task.exception():
            load.ledger.problem(f"soak bug: {type(task.exception()).__name__}: {task.exception()}")
    elapsed = time.monotonic() - start
    await watcher
    await load.client.aclose()
    return load.ledger, reload_report, watch, elapsed, people


def main(argv=None) -> int:
    args = parse_args(argv)
    load_before = [round(x, 2) for x in os.getloadavg()]
    with contextlib.ExitStack() as stack:
        if args.target:
            setup = {"base": args.target, "instances": args.instance or [args.target],
                     "database_url": args.database_url, "content_dir": args.content_dir, "master": None}
        else:
            setup = stack.enter_context(own_server(args))  # stopped before the checks read the database
        flask_command(setup["database_url"], "tracker", "create-admin", ADMIN[0], stdin=ADMIN[1] + "\n")
        plan = Plan.load(setup["content_dir"] or DEMO_CONTENT_DIR)
        masters = gunicorn_masters(args, setup["master"], setup["instances"])
        ledger, reload_report, watch, elapsed, people = asyncio.run(run_load(args, plan, setup, masters))
        workers, cpu = watch.report(), watch.cpu_report()
    people_counts = Counter(p.kind for p in people)
    traffic_summary = traffic(ledger, elapsed)
    checks = request_checks(ledger, traffic_summary)
    if not args.no_content_edit:
        checks["content: every instance reloaded the edited content"] = {
            "passed": not reload_report.get("problems"), **reload_report,
        }
    checks.update(check_database(args, setup["database_url"], plan, ledger, people))
    summary = {
        "config": {"learners": args.learners, "accounts": args.accounts, "duration_s": args.duration,
                   "interval_s": args.interval, "concurrency": args.concurrency, "seed": args.seed,
                   "target": args.target or f"gunicorn started here ({args.workers} workers x {args.threads} threads)",
                   "instances": setup["instances"], "rate_limits_raised": SOAK_RATE_LIMITS,
                   "max_delta_s": args.max_delta, "burst_s": args.burst},
        "machine": describe(), "people": dict(people_counts), "elapsed_s": round(elapsed, 1),
        "load_average_before": load_before, "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "traffic": traffic_summary, "workers": workers, "postgres_connections_peak": watch.connections_peak,
        "cpu": cpu,
        "content_reload": reload_report or None, "checks": checks,
    }
    summary["passed"] = all(c["passed"] for name, c in checks.items() if name != "database_figures")
    print_summary(summary)
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2, default=str))
    return 0 if summary["passed"] else 1
