"""Where a heartbeat's Python CPU goes: tracker against bench/bare_app.py, in one process.

Calls both WSGI apps directly (no HTTP server, no load generator) with the same heartbeats
as bench/heartbeat.py, against the database that bench/heartbeat.py prepared, and reports
the Python CPU time per heartbeat of each. The two apps run in alternating blocks of
requests in random order, so that drift in the speed of a shared machine hits both alike.
With --cprofile it then profiles tracker and prints its CPU by package and its costliest
functions (time spent waiting for PostgreSQL shows up under psycopg's wait()).

Run bench.heartbeat once first (it creates tracker_bench), then, from the repository root:

    .venv/bin/python -m bench.profile_heartbeat
    .venv/bin/python -m bench.profile_heartbeat --cprofile
"""
import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections import Counter

from werkzeug.test import EnvironBuilder

from bench import ROOT
from bench import heartbeat as bench


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_heartbeat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="blocks per app (default 30)")
    parser.add_argument("--block", type=int, default=150, help="heartbeats per block (default 150)")
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--database", default="tracker_bench")
    parser.add_argument("--cprofile", action="store_true", help="also profile tracker with cProfile")
    return parser.parse_args(argv)


def load_apps(database: str) -> dict:
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{database}"
    os.environ.update(DATABASE_URL=url, BENCH_DSN=url.replace("+psycopg", ""), SECRET_KEY="bench")
    # One address sends every heartbeat, as in bench/heartbeat.py: its limit is raised, still counted.
    os.environ["TRACKER_RATELIMIT_HEARTBEAT_PER_IP"] = "100000000/minute"
    # Imported only now: both apps read their settings from the environment as they are made.
    from bench import bare_app
    import wsgi  # the repository root's, as gunicorn serves it

    return {"tracker": wsgi.app, "bare": bare_app.app}


class Heartbeats:
    """Ready-made WSGI environments for random heartbeats, and a caller that checks for 204."""

    def __init__(self, learners: int):
        self.placements, self.learners = bench.demo_placements(), learners
        self.statuses = Counter()

    def environ(self) -> dict:
        p = random.choice(self.placements)
        return EnvironBuilder(
            path=bench.HEARTBEAT_PATH, method="POST", data=bench.heartbeat_body(p, random.randint(5, 60)),
            headers={
                "Content-Type": "application/json",
                "X-Anonymous-Token": bench.learner_token(random.randrange(self.learners)),
                "User-Agent": "wrk/4.1",
            },
        ).get_environ()

    def start_response(self, status, headers, exc_info=None):
        self.statuses[status.split()[0]] += 1

    def run(self, app, environs: list[dict]) -> float:
        """Serve the requests; return the Python CPU milliseconds per request."""
        gc.collect()
        start = time.process_time()
        for environ in environs:
            for _ in app(environ, self.start_response):
                pass
        return (time.process_time() - start) * 1000 / len(environs)


def compare(apps: dict, heartbeats: Heartbeats, rounds: int, block: int) -> dict[str, list[float]]:
    for app in apps.values():  # warm caches, pools and prepared statements
        heartbeats.run(app, [heartbeats.environ() for _ in range(300)])
    samples = {name: [] for name in apps}
    for _ in range(rounds):
        for name in random.sample(list(apps), len(apps)):
            samples[name].append(heartbeats.run(apps[name], [heartbeats.environ() for _ in range(block)]))
    return samples


def package_of(filename: str) -> str:
    match = re.search(r"site-packages/([^/]+)", filename)
    if match:
        return match.group(1)
    if f"{ROOT}/tracker/" in filename:
        return "tracker"
    return "C functions" if filename == "~" else "standard library"


def profile(app, heartbeats: Heartbeats, requests: int = 3000) -> None:
    environs = [heartbeats.environ() for _ in range(requests)]
    profiler = cProfile.Profile()
    profiler.enable()
    heartbeats.run(app, environs)
    profiler.disable()
    stats = pstats.Stats(profiler)
    by_package, calls = Counter(), Counter()
    for (filename, _, _), (_, ncalls, tottime, _, _) in stats.stats.items():
        by_package[package_of(filename)] += tottime
        calls[package_of(filename)] += ncalls
    print("\ntracker under cProfile (which inflates every figure), per heartbeat:")
    for package, seconds in by_package.most_common(12):
        print(f"  {package:<20} {seconds * 1000 / requests:.3f} ms  {calls[package] / requests:6.1f} calls")
    print()
    stats.sort_stats("tottime").print_stats(25)


def main(argv=None) -> int:
    args = parse_args(argv)
    apps = load_apps(args.database)
    heartbeats = Heartbeats(args.learners)
    samples = compare(apps, heartbeats, args.rounds, args.block)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, values in samples.items():
        q1, _, q3 = statistics.quantiles(values, n=4)
        print(f"{name:<8} {medians[name]:.3f} ms of Python CPU per heartbeat (quartiles {q1:.3f}-{q3:.3f})")
    print(f"tracker - bare = {medians['tracker'] - medians['bare']:.3f} ms;"
          f" tracker/bare = {medians['tracker'] / medians['bare']:.2f}")
    if args.cprofile:
        profile(apps["tracker"], heartbeats)
    bad = {status: n for status, n in heartbeats.statuses.items() if status != "204"}
    if bad:
        print(f"!!! responses other than 204: {bad}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
