"""Benchmark of the admin dashboard on PostgreSQL: every admin page, 20 times, p50 and p95.

It recreates a dedicated database (tracker_dashboard_bench, dropped again at the end), migrates it, fills it with
`flask tracker seed-demo-load --learners N` (timing the seed), creates an admin with
`flask tracker create-admin`, serves the app under gunicorn and logs in through the real
login form (CSRF token and session cookie, with http.client). Then it requests each page
`--repeat` times in a row, after two unmeasured requests, and prints a Markdown table.

    .venv/bin/python -m bench.dashboard                     # 10,000 learners
    .venv/bin/python -m bench.dashboard --learners 100000   # the larger run
    .venv/bin/python -m bench.dashboard --keep              # leave the database for a later --reuse

The exit status is 1 when any page answered other than 200 or missed --target-ms at p95.
"""

import argparse
import http.client
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from urllib.parse import urlencode

import psycopg

from bench import ROOT, VENV_BIN
from bench.gunicorn import Gunicorn, GunicornFailed
from bench.machine import cpu_model

SERVER = "postgresql://postgres@127.0.0.1:5432"
DATABASE = "tracker_dashboard_bench"
ADMIN = ("bench-admin@example.org", "bench admin password")
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"flask {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout.strip()


def recreate_database() -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


def prepare(env: dict, learners: int, reuse: bool) -> str:
    if reuse:
        return "reused the seeded database"
    recreate_database()
    flask(env, "db", "upgrade")
    started = time.monotonic()
    output = flask(env, "tracker", "seed-demo-load", "--learners", str(learners))
    seconds = time.monotonic() - started
    flask(env, "tracker", "create-admin", ADMIN[0], stdin=ADMIN[1] + "\n")
    return f"{output} (command wall time {seconds:.1f} s)"


class Session:
    """A browser session over http.client: keeps the session cookie, reads CSRF tokens from forms."""

    def __init__(self, port: int):
        self.port, self.cookie = port, ""

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {**(headers or {}), **({"Cookie": self.cookie} if self.cookie else {})}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        conn.close()
        return response.status, data.decode("utf-8", "replace"), dict(response.getheaders())

    def log_in(self, email: str, password: str) -> None:
        status, page, _ = self.request("GET", "/login")
        token = CSRF_FIELD.search(page).group(1)
        form = urlencode({"csrf_token": token, "email": email, "password": password})
        status, _, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 303:
            sys.exit(f"logging in as the admin answered {status}")


def start_gunicorn(env: dict, port: int, workers: int) -> Gunicorn:
    """The app under gunicorn, once it serves the login page."""
    arguments = [
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
        "--timeout", "600",  # a full xAPI export of 50,000 learners streams for longer than the default 30 s
        "--log-level", "warning", "wsgi:app",
    ]
    server = Gunicorn(arguments, port=port, env=env)
    try:
        server.wait_ready("/login", workers=workers, status=200)
    except GunicornFailed as error:
        server.stop()
        sys.exit(f"gunicorn did not start: {error}")
    return server


def pages(session: Session) -> list[tuple[str, str, dict]]:
    """(name, path, headers) of every admin page, with real ids and a real second-page cursor."""
    _, html, _ = session.request("GET", "/admin/learners")
    account = re.search(r'href="(/admin/learners/\d+)"', html).group(1)
    anonymous = re.search(r'href="(/admin/learners/anonymous/\d+)"', html).group(1)
    second = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    _, overview, _ = session.request("GET", "/admin/")
    modules = sorted(set(re.findall(r'href="(/admin/modules/[a-z0-9-]+)"', overview)))
    listed = [
        ("overview", "/admin/", {}),
        ("overview, 30 s refresh (htmx partial)", "/admin/", {"HX-Request": "true"}),
        ("insights", "/admin/insights", {}),
        *((f"module {path.rsplit('/', 1)[1]}", path, {}) for path in modules),
        ("learners, by last active", "/admin/learners", {}),
        ("learners, page 2", second, {}),
        ("learners, by time spent", "/admin/learners?sort=time", {}),
        ("learners, by modules completed, lowest first", "/admin/learners?sort=modules&dir=asc", {}),
        ("learners, live search (htmx partial)", "/admin/learners?q=grace", {"HX-Request": "true"}),
        ("learners, token prefix search", "/admin/learners?q=ab12", {}),
        ("learner (account)", account, {}),
        ("learner (anonymous)", anonymous, {}),
        ("module table CSV", "/admin/exports/modules.csv", {}),
        ("per-lens CSV", f"{modules[0]}/lenses.csv", {}),
    ]
    return listed


def measure(session: Session, path: str, headers: dict, repeat: int) -> list[float]:
    for _ in range(2):
        session.request("GET", path, headers=headers)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        status, _, _ = session.request("GET", path, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"{path} answered {status}")
    return timings


def page_table(session: Session, listed: list[tuple[str, str, dict]], repeat: int, target_ms: float) -> bool:
    """Measure each (name, path, headers) and print the Markdown table; True when a p95 missed the target."""
    print("| page | p50 ms | p95 ms |\n|---|---:|---:|")
    missed = False
    for name, path, headers in listed:
        timings = measure(session, path, headers, repeat)
        p50, p95 = statistics.median(timings), percentile(timings, 0.95)
        missed |= p95 > target_ms
        print(f"| {name} | {p50:.0f} | {p95:.0f} |", flush=True)
    return missed


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: with 20 samples, p95 is the 19th fastest."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--target-ms", type=float, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the seeded database for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="skip the seed; use the database a --keep run left")
    args = parser.parse_args()
    env = {**os.environ, "DATABASE_URL": f"{SERVER}/{DATABASE}", "SECRET_KEY": "bench", "TRACKER_CONTENT_CHECK_S": "0",
           "TRACKER_BASE_URL": "https://tracker.example.org/"}  # the xAPI download builds its activity ids from it
    seeded = prepare(env, args.learners, args.reuse)
    with psycopg.connect(f"{SERVER}/{DATABASE}") as conn:
        rows = conn.execute("SELECT COUNT(*) FROM user_content_progress").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    server = start_gunicorn(env, args.port, args.workers)
    failed = False
    load_before = os.getloadavg()
    try:
        session = Session(args.port)
        session.log_in(*ADMIN)
        print(
            f"\n{seeded}\n{rows:,} progress rows; PostgreSQL {version}; {os.cpu_count()} cores {cpu_model(platform.processor() or 'unknown CPU')};"
            f" gunicorn, {args.workers} sync workers; {args.repeat} requests per page\n"
        )
        failed |= page_table(session, pages(session), args.repeat, args.target_ms)
        print("\n| full download, once | MB | seconds |\n|---|---:|---:|")
        for name, path in (
            ("learners CSV", "/admin/exports/learners.csv"),
            ("xAPI statements", "/admin/exports/xapi.jsonl"),
        ):
            started = time.perf_counter()
            status, body, _ = session.request("GET", path)
            failed |= status != 200
            print(f"| {name} | {len(body.encode()) / 1e6:.1f} | {time.perf_counter() - started:.1f} |", flush=True)
    finally:
        server.stop()
        if not args.keep:
            with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
    load_after = os.getloadavg()
    print(
        f"\nload average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after; the benchmark itself adds about 1"
    )
    print(f"p95 target {args.target_ms:.0f} ms: {'missed' if failed else 'met'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
