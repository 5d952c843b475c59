"""Benchmark of the heartbeat endpoint, POST /api/progress/time, on PostgreSQL.

What it measures, in one run on one machine:

1. tracker: the app under gunicorn (sync workers by default; gthread with --worker-class),
   driven from a separate process by wrk with bench/heartbeat.lua: a pool of anonymous
   learners (X-Anonymous-Token header) posting heartbeats for random lenses of the demo
   content with their matching lo_id and module_id. wrk asks for keep-alive; gunicorn's
   sync workers close the connection after every response all the same, so wrk reconnects,
   while gthread workers keep connections open. Prints heartbeats/s and p50/p99 latency for
   each worker count given with --workers, and keeps the best one (the highest throughput
   whose p99 meets the target).
2. bare: bench/bare_app.py, a minimal Flask app that runs the very same SQL statement
   through a psycopg_pool.ConnectionPool with no validation, under the same gunicorn
   settings. tracker/bare is the share of the achievable throughput that tracker keeps.
3. pgbench: the same statement driven by pgbench -M prepared, which is the ceiling the
   database itself sets on this machine.
4. SQL round trips per heartbeat: a short separate phase in which the app reaches
   PostgreSQL through a counting proxy (bench/pgwire.py) that parses the client-to-server
   wire protocol and counts Sync and simple Query messages, one per round trip.

Before that it recreates a dedicated database (tracker_bench), migrates it with
`flask db upgrade` and warms it with every learner x every content item, so that each
heartbeat updates existing rows, as in production. Each phase starts from a vacuumed,
checkpointed table and a few seconds of unmeasured load, and is repeated (--repeat, tracker
and bare in alternating order) because a small shared machine drifts. The CPU time of the
app, PostgreSQL, the load generator and the whole machine is recorded per heartbeat, and
so is any CPU that unrelated processes took during a phase, which marks it as disturbed.

Run from the repository root (needs wrk and pgbench on PATH and PostgreSQL reachable with
trust auth; the psycopg-pool bench extra must be installed):

    .venv/bin/python -m bench.heartbeat            # full run: 20 s per phase, 2/3/4 workers
    .venv/bin/python -m bench.heartbeat --quick    # smoke run, about 3 s per phase

It prints a Markdown summary ready for the README and writes the figures to
bench/results/heartbeat-<timestamp>.json. The exit status is 1 when any response was not
a 204 or any phase failed: such figures are not valid.
"""
import argparse
import http.client
import json
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
from collections import Counter
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from bench import ROOT, VENV_BIN
from bench.gunicorn import Gunicorn
from bench.machine import CpuTally, busy_share, cpu_model, machine_cpu, wait_for_quiet_machine
from bench.pgwire import CountingProxy, round_trips
from bench.processes import all_processes, free_port
from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content
from tracker.progress.statements import heartbeat_statement

BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
HEARTBEAT_PATH = "/api/progress/time"
LEVELS = ("module", "lo", "lens")
TOKEN_PREFIX = "00000000-0000-4000-8000-"  # learner n has the token TOKEN_PREFIX + n as 12 hex digits
BURST_S = 120  # tracker's default TRACKER_BURST_S, which the run keeps

TARGET_RPS = 2000
TARGET_P99_MS = 20.0
TARGET_RATIO = 0.75
OTHER_CPU_WARNING = 0.05  # unrelated processes using more than this share of the CPUs disturb a phase


# ---------------------------------------------------------------- command line


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.heartbeat", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per measured phase (default 20)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--workers", default=None,
        help="gunicorn worker counts to try, comma-separated (default 2,3,4; 2 with --quick)",
    )
    parser.add_argument(
        "--worker-class", choices=("sync", "gthread", "both"), default="sync",
        help="gunicorn worker class (gthread runs --threads 4 per worker; default sync)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument(
        "--keepalive", type=int, default=5,
        help="gunicorn --keep-alive seconds (default 5; sync workers close every connection anyway)",
    )
    parser.add_argument("--learners", type=int, default=10_000, help="anonymous learners (default 10000)")
    parser.add_argument("--pgbench-clients", type=int, default=4, help="pgbench clients (default 4)")
    parser.add_argument("--pgbench-duration", type=float, default=15.0, help="pgbench seconds (default 15)")
    parser.add_argument("--round-trip-heartbeats", type=int, default=300,
                        help="heartbeats sent through the counting proxy (default 300)")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of unmeasured load per phase (default 3)")
    parser.add_argument(
        "--repeat", type=int, default=None,
        help="measure every setting this many times, tracker and bare in alternating order, and report"
        " the medians (default 2; 1 with --quick)",
    )
    parser.add_argument(
        "--retries", type=int, default=2,
        help="measure a phase again, up to this many times, when unrelated processes took more than"
        f" {OTHER_CPU_WARNING * 100:.0f}%% of the CPUs during it (default 2)",
    )
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--pg-user", default="postgres")
    parser.add_argument("--database", default="tracker_bench", help="dropped and recreated (default tracker_bench)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 3 s phases, one worker count")
    parser.add_argument(
        "--before", type=Path, default=None, metavar="DIR",
        help="also measure tracker as another checkout has it (e.g. `git worktree add /tmp/before HEAD~1`),"
        " in the same rounds, so that a change is judged against its parent in one run",
    )
    args = parser.parse_args(argv)
    if args.before is not None:
        args.before = args.before.resolve()
        if not (args.before / "wsgi.py").is_file() or not (args.before / "tracker").is_dir():
            parser.error(f"--before {args.before}: not a tracker checkout (no wsgi.py and tracker/)")
    if args.quick:
        args.duration, args.pgbench_duration, args.warmup = 3.0, 3.0, 1.0
        args.round_trip_heartbeats = min(args.round_trip_heartbeats, 100)
    args.repeat = args.repeat or (1 if args.quick else 2)
    args.workers = [int(w) for w in (args.workers or ("2" if args.quick else "2,3,4")).split(",")]
    args.worker_classes = ["sync", "gthread"] if args.worker_class == "both" else [args.worker_class]
    return args


# ---------------------------------------------------------------- the content and the learners


@dataclass(frozen=True)
class Placement:
    """A lens where a module places it, with its LO: the three rows one heartbeat credits."""

    lens: tuple  # (id, title) of each level
    lo: tuple
    module: tuple


def demo_placements() -> list[Placement]:
    index = load_content(DEMO_CONTENT_DIR)
    return [
        Placement(
            (str(s.lens.id), s.lens.title), (str(s.outcome.id), s.outcome.title), (str(module.id), module.title)
        )
        for module in index.modules
        for s in module.sections
    ]


def content_items(placements: list[Placement]) -> list[tuple[str, str, str]]:
    """Every distinct (id, content_type, title) the placements touch."""
    items = {}
    for p in placements:
        for level in LEVELS:
            content_id, title = getattr(p, level)
            items[content_id] = (content_id, level, title)
    return sorted(items.values())


def learner_token(n: int) -> str:
    return f"{TOKEN_PREFIX}{n:012x}"


def token_sql(number_sql: str) -> str:
    """The SQL that turns a learner number into the same token as learner_token()."""
    return f"('{TOKEN_PREFIX}' || lpad(to_hex({number_sql}), 12, '0'))"


def heartbeat_body(p: Placement, delta_s: int) -> str:
    """A heartbeat as the page sends it: with a chunk id."""
    return json.dumps({
        "content_id": p.lens[0], "lo_id": p.lo[0], "module_id": p.module[0], "time_delta_s": delta_s,
        "chunk_id": random.randint(1, 2**53 - 1),
    })


def heartbeat_sql() -> str:
    """tracker's heartbeat statement, as psycopg receives it (with %(name)s placeholders)."""
    statement = heartbeat_statement("postgresql", "anonymous", LEVELS)
    return str(statement.compile(dialect=psycopg_dialect.dialect()))


# ---------------------------------------------------------------- the machine


def machine_info(args) -> dict:
    with admin_connection(args) as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()[0]
        settings = dict(conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN"
            " ('fsync', 'synchronous_commit', 'shared_buffers', 'max_connections')"
        ).fetchall())
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "postgresql": pg_version,
        "postgresql_settings": settings,
        "python": platform.python_version(),
        "gunicorn": package_version("gunicorn"),
        "wrk": tool_version(["wrk", "--version"]),
        "kernel": platform.release(),
    }


def package_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def tool_version(command: list[str]) -> str:
    out = subprocess.run(command, check=False, capture_output=True, text=True)
    first = (out.stdout or out.stderr).strip().splitlines()
    return first[0].split(" Copyright")[0] if first else "unknown"


# ---------------------------------------------------------------- the database


def admin_dsn(args, database: str = "postgres") -> str:
    return f"postgresql://{args.pg_user}@{args.pg_host}:{args.pg_port}/{database}"


def app_database_url(args, host: str | None = None, port: int | None = None, extra: str = "") -> str:
    """The SQLAlchemy URL tracker gets in DATABASE_URL."""
    host, port = host or args.pg_host, port or args.pg_port
    return f"postgresql+psycopg://{args.pg_user}@{host}:{port}/{args.database}{extra}"


@contextmanager
def admin_connection(args, database: str = "postgres"):
    with psycopg.connect(admin_dsn(args, database), autocommit=True) as conn:
        yield conn


def wal_position(args) -> int:
    """The server's current write-ahead log position, in bytes."""
    with admin_connection(args) as conn:
        return int(conn.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])


def recreate_database(args) -> None:
    with admin_connection(args) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')


def migrate(args) -> None:
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": app_database_url(args), "SECRET_KEY": "bench"}
    result = subprocess.run(
        [str(VENV_BIN / "flask"), "db", "upgrade"], check=False, cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade failed:\n{result.stdout}\n{result.stderr}")


WARM_SQL = f"""
INSERT INTO user_content_progress
  (anonymous_token, content_id, content_type, content_title, started_at, last_heartbeat_at,
   total_time_spent_s, credited_until_ms, last_credit_s)
SELECT {token_sql('learner')}::uuid, item.id, item.type, item.title,
       now() - interval '1 hour', now() - interval '1 hour', 60,
       (extract(epoch FROM now() - interval '1 hour') * 1000)::bigint, 60
FROM generate_series(0, %(learners)s - 1) AS learner
CROSS JOIN unnest(%(ids)s::uuid[], %(types)s::text[], %(titles)s::text[]) AS item(id, type, title)
"""


def warm_table(args, items: list[tuple[str, str, str]]) -> int:
    """Give every learner a row for every content item, so that heartbeats are updates."""
    ids, types, titles = (list(column) for column in zip(*items))
    with admin_connection(args, args.database) as conn:
        conn.execute(WARM_SQL, {"learners": args.learners, "ids": ids, "types": types, "titles": titles})
        conn.execute("VACUUM (ANALYZE) user_content_progress")
        return conn.execute("SELECT count(*) FROM user_content_progress").fetchone()[0]


def settle_database(args) -> None:
    """Start each phase from the same state: dead rows of the last phase vacuumed, a fresh checkpoint."""
    with admin_connection(args, args.database) as conn:
        conn.execute("VACUUM (ANALYZE) user_content_progress")
        conn.execute("CHECKPOINT")


def prepare_database(args, items) -> int:
    recreate_database(args)
    migrate(args)
    return warm_table(args, items)


# ---------------------------------------------------------------- CPU accounting


def postgres_database(pid: int) -> str | None:
    """The database a PostgreSQL backend serves, from its title ("postgres: 15/main: user db host ..."),
    or None for the server's own processes (checkpointer, WAL writer, autovacuum launcher ...)."""
    try:
        title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    words = title.split(": ", 2)[-1].split()
    if len(words) >= 3 and ("(" in words[2] or words[2] == "[local]"):
        return words[1]
    return None


class CpuMeter:
    """CPU seconds spent by the app server, PostgreSQL, the load generator and the whole machine.

    A thread samples /proc every `interval` seconds and keeps the last figure of every process
    seen, so processes that start or end within the phase (pgbench's backends) are counted up
    to their last sample. The load generator is a child of this script that ends within the
    phase, so its figure comes from getrusage.
    """

    def __init__(self, database: str, server_pid: int | None, interval: float = 0.25):
        self.database, self.server_pid, self.interval = database, server_pid, interval
        self.tally = CpuTally()
        self.stopping = threading.Event()

    def group_of(self, pid: int, name: str, ppid: int) -> str:
        if self.server_pid and (pid == self.server_pid or ppid == self.server_pid):
            return "app"
        if name.startswith("postgres"):
            database = postgres_database(pid)
            return "postgres" if database in (None, self.database) else f"other:postgres ({database})"
        if pid == os.getpid() or ppid == os.getpid():
            return "bench"  # this script and its load generator (counted from getrusage)
        if pid == 2 or ppid == 2:
            return "kernel"  # kernel threads: among other things, they write PostgreSQL's WAL
        return f"other:{name}"

    def sample(self) -> None:
        self.tally.record(
            (pid, self.group_of(pid, stat.name, stat.ppid), stat.cpu_s) for pid, stat in all_processes().items()
        )

    def run_sampler(self) -> None:
        while not self.stopping.wait(self.interval):
            self.sample()

    def __enter__(self):
        self.sample()  # what every process had spent before the phase
        self.start_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.start_busy = machine_cpu()
        self.sampler = threading.Thread(target=self.run_sampler, daemon=True)
        self.sampler.start()
        return self

    def __exit__(self, *exc):
        end_children = resource.getrusage(resource.RUSAGE_CHILDREN)
        end_busy = machine_cpu()
        self.stopping.set()
        self.sampler.join()
        self.sample()
        self.seconds = {"app": 0.0, "postgres": 0.0} if self.server_pid else {"postgres": 0.0}
        others = Counter()
        for group, spent in self.tally.spent().items():
            if group.startswith("other:"):
                others[group[len("other:"):]] += spent
            elif group in self.seconds:
                self.seconds[group] += spent
        # Anything else that ran on the machine during the phase disturbs the figures: name it.
        self.other_seconds = sum(others.values())
        self.others = {name: round(spent, 2) for name, spent in others.most_common(3) if spent >= 0.05}
        self.seconds["load"] = (end_children.ru_utime + end_children.ru_stime) - (
            self.start_children.ru_utime + self.start_children.ru_stime
        )
        busy, total = (end - start for end, start in zip(end_busy, self.start_busy))
        self.seconds["machine"] = busy
        self.machine_busy_share = busy_share(self.start_busy, end_busy)
        self.other_share = self.other_seconds / total if total else 0.0
        return False


# ---------------------------------------------------------------- gunicorn


@dataclass
class ServerSettings:
    app: str  # "tracker", "before" (tracker from the --before checkout) or "bare"
    workers: int
    worker_class: str
    threads: int
    keepalive: int
    before: str | None = None  # the --before checkout, for app "before"

    def label(self) -> str:
        kind = self.worker_class if self.worker_class == "sync" else f"gthread x{self.threads}"
        name = f"tracker before ({Path(self.before).name})" if self.app == "before" else self.app
        return f"{name}, {kind}, {self.workers} workers"


def gunicorn_arguments(settings: ServerSettings, port: int) -> list[str]:
    command = [
        "--workers", str(settings.workers),
        "--worker-class", settings.worker_class,
        "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
        "--keep-alive", str(settings.keepalive),
    ]
    if settings.worker_class == "gthread":
        command += ["--threads", str(settings.threads)]
    if Path("/dev/shm").is_dir():
        command += ["--worker-tmp-dir", "/dev/shm"]  # gunicorn's advice: keep the liveness file in memory
    if settings.app == "bare":
        command += ["bench.bare_app:app"]
    elif settings.app == "before":
        # Its own wsgi.py and tracker package come first on the path; its migrations are not run:
        # the database has this checkout's schema, which only adds to the older one.
        command += ["--chdir", str(settings.before), "--pythonpath", str(settings.before), "wsgi:app"]
    else:
        command += ["wsgi:app"]
    return command


def server_environment(args, settings: ServerSettings, database_url: str) -> dict:
    env = {**os.environ, "SECRET_KEY": "bench", "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("TRACKER_BURST_S", None)  # the run keeps tracker's defaults for the time budget
    env.pop("TRACKER_MAX_DELTA_S", None)
    # wrk sends from one address: raise its limit so that no heartbeat is refused. The limits are
    # still counted for every heartbeat, so their cost is in the figures.
    env["TRACKER_RATELIMIT_HEARTBEAT_PER_IP"] = "100000000/minute"
    if settings.app == "bare":
        env["BENCH_DSN"] = database_url.replace("postgresql+psycopg://", "postgresql://")
        env["BENCH_POOL_SIZE"] = str(settings.threads if settings.worker_class == "gthread" else 1)
    else:
        env["DATABASE_URL"] = database_url
    return env


@contextmanager
def running_server(args, settings: ServerSettings, database_url: str, workdir: Path):
    port = free_port()
    log_path = workdir / f"gunicorn-{settings.app}-{settings.worker_class}-{settings.workers}-{port}.log"
    env = server_environment(args, settings, database_url)
    server = Gunicorn(gunicorn_arguments(settings, port), port=port, env=env, log=log_path, announce_workers=True)
    try:
        # Every worker has loaded the app, and the heartbeat route answers a GET (405) without the database.
        server.wait_ready(HEARTBEAT_PATH, workers=settings.workers)
        yield server
    finally:
        server.stop(grace_s=15)


def heartbeat_url(server: Gunicorn) -> str:
    return f"{server.base_url}{HEARTBEAT_PATH}"


# ---------------------------------------------------------------- wrk


@dataclass
class LoadResult:
    label: str
    requests: int = 0
    duration_s: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_ms: float = 0.0
    non_204: int = 0
    statuses: str = "-"
    socket_errors: dict = field(default_factory=dict)
    sample: str = ""
    cpu_ms_per_heartbeat: dict = field(default_factory=dict)
    machine_busy_share: float = 0.0
    other_share: float = 0.0  # share of the machine's CPU used by unrelated processes during the phase
    others: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    rps_runs: list = field(default_factory=list)  # every measurement behind a combined figure

    @property
    def failures(self) -> int:
        return self.non_204 + sum(self.socket_errors.values())


def run_wrk(args, url: str, duration: float, placements_file: Path) -> dict:
    command = [
        "wrk", "--threads", str(args.wrk_threads), "--connections", str(args.connections),
        "--duration", f"{max(1, round(duration))}s", "--timeout", "10s", "--latency",
        "--script", str(BENCH_DIR / "heartbeat.lua"), url, "--", str(placements_file), str(args.learners),
    ]
    out = subprocess.run(command, check=False, capture_output=True, text=True)
    if out.returncode != 0 or "WRK_RESULT" not in out.stdout:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return parse_wrk(out.stdout)


def parse_wrk(stdout: str) -> dict:
    parsed = {"sample": ""}
    for line in stdout.splitlines():
        if line.startswith("WRK_RESULT "):
            for pair in line.split()[1:]:
                key, _, value = pair.partition("=")
                parsed[key] = value
        elif line.startswith("WRK_SAMPLE "):
            parsed["sample"] = line[len("WRK_SAMPLE "):]
    return parsed


def load_result(label: str, raw: dict, meter: CpuMeter, settings: dict) -> LoadResult:
    requests, duration_s = int(raw["requests"]), int(raw["duration_us"]) / 1e6
    result = LoadResult(
        label=label,
        requests=requests,
        duration_s=duration_s,
        rps=requests / duration_s if duration_s else 0.0,
        p50_ms=int(raw["p50_us"]) / 1000,
        p90_ms=int(raw["p90_us"]) / 1000,
        p99_ms=int(raw["p99_us"]) / 1000,
        max_ms=int(raw["max_us"]) / 1000,
        mean_ms=float(raw["mean_us"]) / 1000,
        non_204=int(raw["non_204"]),
        statuses=raw["statuses"],
        socket_errors={k: int(raw[f"{k}_errors"]) for k in ("connect", "read", "write")} | {
            "timeout": int(raw["timeouts"])
        },
        sample=raw["sample"],
        machine_busy_share=meter.machine_busy_share,
        other_share=meter.other_share,
        others=meter.others,
        settings=settings,
    )
    if requests:
        result.cpu_ms_per_heartbeat = {k: 1000 * v / requests for k, v in meter.seconds.items()}
    return result


def measure_server(args, settings: ServerSettings, placements_file: Path, workdir: Path) -> LoadResult:
    """Measure one setting; measure again (up to --retries times) when other processes disturbed it.

    Keeps the least disturbed attempt.
    """
    attempts = []
    for attempt in range(args.retries + 1):
        attempts.append(measure_once(args, settings, placements_file, workdir))
        if attempts[-1].other_share <= OTHER_CPU_WARNING:
            break
        if attempt < args.retries:
            print("  ... measuring it again", flush=True)
    return min(attempts, key=lambda r: r.other_share)


def measure_once(args, settings: ServerSettings, placements_file: Path, workdir: Path) -> LoadResult:
    """Start a server, warm it (every worker imported and connected), then measure it under wrk."""
    settle_database(args)
    wait_for_quiet_machine()
    with running_server(args, settings, app_database_url(args), workdir) as server:
        run_wrk(args, heartbeat_url(server), args.warmup, placements_file)
        with CpuMeter(args.database, server.pid) as meter:
            raw = run_wrk(args, heartbeat_url(server), args.duration, placements_file)
    result = load_result(settings.label(), raw, meter, asdict(settings))
    print_phase(result)
    return result


def combine(results: list[LoadResult]) -> LoadResult:
    """One figure per setting from its repeated measurements: medians, and failures summed."""
    if len(results) == 1:
        return replace(results[0], rps_runs=[results[0].rps])
    median = statistics.median
    first = results[0]
    return LoadResult(
        label=first.label,
        requests=sum(r.requests for r in results),
        duration_s=sum(r.duration_s for r in results),
        rps=median(r.rps for r in results),
        p50_ms=median(r.p50_ms for r in results),
        p90_ms=median(r.p90_ms for r in results),
        p99_ms=median(r.p99_ms for r in results),
        max_ms=max(r.max_ms for r in results),
        mean_ms=median(r.mean_ms for r in results),
        non_204=sum(r.non_204 for r in results),
        statuses=",".join(r.statuses for r in results if r.statuses != "-") or "-",
        socket_errors={k: sum(r.socket_errors[k] for r in results) for k in first.socket_errors},
        sample=next((r.sample for r in results if r.sample), ""),
        cpu_ms_per_heartbeat={k: median(r.cpu_ms_per_heartbeat.get(k, 0.0) for r in results)
                              for k in first.cpu_ms_per_heartbeat},
        machine_busy_share=median(r.machine_busy_share for r in results),
        other_share=max(r.other_share for r in results),
        others={k: v for r in results for k, v in r.others.items()},
        settings=first.settings,
        rps_runs=[r.rps for r in results],
    )


def print_phase(result: LoadResult) -> None:
    cpu = result.cpu_ms_per_heartbeat
    print(
        f"  {result.label:<34} {result.rps:>8,.0f}/s  p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
        f"  CPU ms/hb: app {cpu.get('app', 0):.3f} pg {cpu.get('postgres', 0):.3f} wrk {cpu.get('load', 0):.3f}"
        f" all {cpu.get('machine', 0):.3f} (busy {result.machine_busy_share:.0%}, others {result.other_share:.0%})",
        flush=True,
    )
    if result.other_share > OTHER_CPU_WARNING:
        print(f"  (!) other processes used {result.other_share:.0%} of the machine during this phase:"
              f" {result.others}; its figures are disturbed", flush=True)
    if result.failures:
        print(f"  !!! {result.failures} failures: non-204 {result.statuses}, socket {result.socket_errors};"
              f" first: {result.sample}", flush=True)


# ---------------------------------------------------------------- pgbench


def pgbench_scripts(args, placements: list[Placement], workdir: Path) -> tuple[list[str], list[str]]:
    """One pgbench script per placement, all running the heartbeat statement with pgbench variables.

    Returns the -f arguments and the -D definitions. Learner and delta are drawn per
    transaction with \\set; the learner's token is made from its number in SQL, the only
    expression that differs from the app's statement, where the token is a parameter.
    """
    sql = heartbeat_sql()
    files, definitions = [], [f"reach_s={BURST_S}"]
    now = datetime.now(timezone.utc)
    definitions += [f"now={now.isoformat()}", f"started_at={now.isoformat()}", f"now_ms={int(now.timestamp() * 1000)}"]
    for number, p in enumerate(placements):
        names = {"user_id": "NULL", "anonymous_token": token_sql(":learner::integer")}
        for name in ("now", "now_ms", "started_at", "delta", "reach_s", "chunk_id"):
            names[name] = f":{name}"
        names["live_end_ms"] = ":now_ms"  # live seconds, as the app's heartbeats are
        for level in LEVELS:
            content_id, title = getattr(p, level)
            names[f"{level}_id"], names[f"{level}_title"] = f":p{number}_{level}_id", f":p{number}_{level}_title"
            definitions += [f"p{number}_{level}_id={content_id}", f"p{number}_{level}_title={title}"]
        body = re.sub(r"%\((\w+)\)s", lambda m, names=names: names[m.group(1)], sql).strip()
        script = workdir / f"pgbench-heartbeat-{number}.sql"
        script.write_text(
            f"\\set learner random(0, {args.learners - 1})\n\\set delta random(5, 60)\n"
            f"\\set chunk_id random(1, {2**53 - 1})\n{body};\n"
        )
        files += ["-f", f"{script}@1"]
    return files, definitions


def pgbench_command(args, files: list[str], definitions: list[str], duration: float) -> list[str]:
    command = [
        "pgbench", "-h", args.pg_host, "-p", str(args.pg_port), "-U", args.pg_user, "-n", "-M", "prepared",
        "-c", str(args.pgbench_clients), "-j", str(min(args.pgbench_clients, os.cpu_count() or 1)),
        "-T", str(max(1, round(duration))), *files,
    ]
    for definition in definitions:
        command += ["-D", definition]
    return command + [args.database]


def run_pgbench(args, placements: list[Placement], workdir: Path) -> dict:
    """pgbench, measured again (up to --retries times) when other processes disturbed it."""
    attempts = []
    for attempt in range(args.retries + 1):
        attempts.append(pgbench_once(args, placements, workdir))
        if attempts[-1]["other_share"] <= OTHER_CPU_WARNING:
            break
        if attempt < args.retries:
            print("  ... measuring it again", flush=True)
    return min(attempts, key=lambda r: r["other_share"])


def pgbench_once(args, placements: list[Placement], workdir: Path) -> dict:
    """pgbench after the same settling and warm-up as the app's phases."""
    settle_database(args)
    wait_for_quiet_machine()
    files, definitions = pgbench_scripts(args, placements, workdir)
    subprocess.run(pgbench_command(args, files, definitions, args.warmup), capture_output=True, check=True)
    wal_start = wal_position(args)
    with CpuMeter(args.database, None) as meter:
        out = subprocess.run(pgbench_command(args, files, definitions, args.pgbench_duration),
                             check=False, capture_output=True, text=True)
    wal_bytes = wal_position(args) - wal_start
    text = out.stdout + out.stderr
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    processed = re.search(r"number of transactions actually processed: (\d+)", text)
    failed = re.search(r"number of failed transactions: (\d+)", text)
    latency = re.search(r"latency average = ([\d.]+) ms", text)
    if out.returncode != 0 or not tps:
        raise RuntimeError(f"pgbench failed ({out.returncode}):\n{text[-3000:]}")
    transactions = int(processed.group(1))
    result = {
        "label": f"pgbench -M prepared, {args.pgbench_clients} clients",
        "tps": float(tps.group(1)),
        "transactions": transactions,
        "failed": int(failed.group(1)) if failed else 0,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "cpu_ms_per_heartbeat": {k: 1000 * v / transactions for k, v in meter.seconds.items() if k != "app"},
        # What a replica or a backup has to take in per heartbeat: the write-ahead log it produces.
        "wal_bytes_per_heartbeat": round(wal_bytes / transactions),
        "machine_busy_share": meter.machine_busy_share,
        "other_share": meter.other_share,
        "others": meter.others,
        "script_example": (workdir / "pgbench-heartbeat-0.sql").read_text(),
    }
    print(f"  {result['label']:<34} {result['tps']:>8,.0f}/s  avg {result['latency_avg_ms']} ms"
          f"  failed {result['failed']}  CPU ms/hb: pg {result['cpu_ms_per_heartbeat']['postgres']:.3f}"
          f" pgbench {result['cpu_ms_per_heartbeat']['load']:.3f} all {result['cpu_ms_per_heartbeat']['machine']:.3f}"
          f" (busy {result['machine_busy_share']:.0%}, others {result['other_share']:.0%});"
          f" WAL {result['wal_bytes_per_heartbeat']} bytes/hb", flush=True)
    if result["other_share"] > OTHER_CPU_WARNING:
        print(f"  (!) other processes used {result['other_share']:.0%} of the machine during pgbench:"
              f" {result['others']}; its figures are disturbed", flush=True)
    return result


# ---------------------------------------------------------------- counting round trips


def send_heartbeats(port: int, placements: list[Placement], learners: int, count: int) -> Counter:
    """Send `count` heartbeats one after another; return the response statuses."""
    statuses = Counter()
    for _ in range(count):
        p = random.choice(placements)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(
            "POST", HEARTBEAT_PATH, body=heartbeat_body(p, random.randint(5, 60)),
            headers={"Content-Type": "application/json", "X-Anonymous-Token": learner_token(random.randrange(learners))},
        )
        response = connection.getresponse()
        response.read()
        statuses[response.status] += 1
        connection.close()
    return statuses


def count_round_trips(args, settings: ServerSettings, placements, placements_file, workdir) -> dict:
    """Heartbeats through the counting proxy, after a warm-up that connected every worker."""
    proxy = CountingProxy(args.pg_host, args.pg_port)
    proxy_port = proxy.start()
    url = app_database_url(args, "127.0.0.1", proxy_port, "?sslmode=disable&gssencmode=disable")
    try:
        with running_server(args, settings, url, workdir) as server:
            run_wrk(args, heartbeat_url(server), max(1.0, args.warmup), placements_file)
            before = proxy.wait_quiet()
            statuses = send_heartbeats(server.port, placements, args.learners, args.round_trip_heartbeats)
            after = proxy.wait_quiet()
    finally:
        proxy.stop()
    counts = after - before
    sent = args.round_trip_heartbeats
    result = {
        "label": settings.label(),
        "heartbeats": sent,
        "statuses": {str(k): v for k, v in statuses.items()},
        "messages": dict(sorted(counts.items())),
        "round_trips": round_trips(counts),
        "round_trips_per_heartbeat": round_trips(counts) / sent,
        "new_connections": counts["startup"],
    }
    note = "" if not counts["startup"] else f" ({counts['startup']} new connections during the count)"
    print(f"  {settings.app:<8} {result['round_trips_per_heartbeat']:.2f} round trips per heartbeat"
          f" (messages {result['messages']}){note}", flush=True)
    return result


# ---------------------------------------------------------------- the report


def choose_best(results: list[LoadResult]) -> LoadResult:
    """The highest throughput among the error-free, undisturbed runs whose p99 meets the target.

    Each condition is dropped when no run meets it.
    """
    clean = [r for r in results if not r.failures] or results
    clean = [r for r in clean if r.other_share <= OTHER_CPU_WARNING] or clean
    meeting = [r for r in clean if r.p99_ms <= TARGET_P99_MS] or clean
    return max(meeting, key=lambda r: r.rps)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def fmt_cpu(result) -> str:
    cpu = result.cpu_ms_per_heartbeat if isinstance(result, LoadResult) else result["cpu_ms_per_heartbeat"]
    app = f"{cpu['app']:.2f}" if "app" in cpu else "–"
    return f"{app} / {cpu.get('postgres', 0):.2f} / {cpu.get('load', 0):.2f} / {cpu.get('machine', 0):.2f}"


def markdown_summary(report: dict) -> str:
    m, a = report["machine"], report["arguments"]
    best = report["best"]
    lines = [
        f"### Heartbeat benchmark, {report['started_at']}",
        "",
        (
            f"Machine: {m['nproc']} × {m['cpu_model']} (nproc {m['nproc']}), PostgreSQL {m['postgresql']}"
            f" (fsync {m['postgresql_settings'].get('fsync')}, synchronous_commit"
            f" {m['postgresql_settings'].get('synchronous_commit')}), Python {m['python']},"
            f" gunicorn {m['gunicorn']}, {m['wrk']} on the same machine."
        ),
        (
            f"Load: wrk, {a['wrk_threads']} thread, {a['connections']} connections, {a['duration']:g} s per phase"
            f" after {a['warmup']:g} s of warm-up; {a['learners']:,} anonymous learners × {report['content_items']}"
            f" content items already in the table ({report['warm_rows']:,} rows), so every heartbeat updates 3 rows."
        ),
        (
            f"Each setting measured {a['repeat']} time(s), tracker and bare in alternating order; figures are"
            " medians (the range of heartbeats/s in brackets). The chosen setting is the fastest whose p99 meets"
            " the target."
        ),
        "",
        "| setup | heartbeats/s | p50 | p99 | non-204 / socket errors | CPU ms per heartbeat: app / PostgreSQL / load generator / whole machine |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for r in report["runs"]:
        marker = " **(chosen)**" if r is best else ""
        errors = f"{r.non_204} / {sum(r.socket_errors.values())}"
        spread = f" ({min(r.rps_runs):,.0f}–{max(r.rps_runs):,.0f})" if len(r.rps_runs) > 1 else ""
        lines.append(
            f"| {r.label}{marker} | {r.rps:,.0f}{spread} | {r.p50_ms:.1f} ms | {r.p99_ms:.1f} ms | {errors}"
            f" | {fmt_cpu(r)} |"
        )
    pg = report["pgbench"]
    if pg:
        lines.append(
            f"| {pg['label']}, same statement | {pg['tps']:,.0f} | avg {pg['latency_avg_ms']:.2f} ms | – |"
            f" {pg['failed']} failed | {fmt_cpu(pg)} |"
        )
    ratios = report["ratios"]
    lines += [
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| ≥ {TARGET_RPS:,} heartbeats/s | {best.rps:,.0f}/s ({best.label}) | {verdict(best.rps >= TARGET_RPS)} |",
        f"| p99 ≤ {TARGET_P99_MS:g} ms | {best.p99_ms:.1f} ms | {verdict(best.p99_ms <= TARGET_P99_MS)} |",
        (
            f"| tracker/bare ≥ {TARGET_RATIO} | {ratios['tracker_over_bare']:.2f} (bare {ratios['bare_rps']:,.0f}/s,"
            f" same settings{'; DISTURBED, not reliable' if ratios['disturbed'] else ''})"
            f" | {verdict(ratios['tracker_over_bare'] >= TARGET_RATIO)} |"
        ),
    ]
    for label, ratio in ratios.get("over_before", {}).items():
        lines.append(f"| tracker / tracker before, {label.split(', ', 1)[1]} (for information) | {ratio:.2f} | |")
    if ratios.get("tracker_over_pgbench") is not None:
        lines.append(f"| tracker/pgbench (for information) | {ratios['tracker_over_pgbench']:.2f} | |")
    for rt in report["round_trips"]:
        ok = rt["round_trips_per_heartbeat"] == 1.0 and not rt["new_connections"]
        lines.append(
            f"| SQL round trips per heartbeat, {rt['label'].split(',')[0]} | {rt['round_trips_per_heartbeat']:.2f}"
            f" ({rt['round_trips']} over {rt['heartbeats']} heartbeats) | {'PASS' if ok else 'MISS'} (1) |"
        )
    disturbed = [(p.label, p.other_share, p.others) for p in report["phases"] if p.other_share > OTHER_CPU_WARNING]
    if pg and pg["other_share"] > OTHER_CPU_WARNING:
        disturbed.append(("pgbench", pg["other_share"], pg["others"]))
    if disturbed:
        lines += ["", "Disturbed: unrelated processes used the CPU during " + "; ".join(
            f"{label} ({share:.0%}: {', '.join(others)})" for label, share, others in disturbed
        ) + "."]
    if report["failures"]:
        lines += ["", f"**INVALID RUN: {report['failures']}**"]
    return "\n".join(lines)


def json_default(value):
    if isinstance(value, LoadResult):
        return asdict(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(repr(value))


def write_json(report: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"heartbeat-{report['started_at'].replace(':', '').replace(' ', 'T')}.json"
    data = {**report, "best": report["best"].label}
    path.write_text(json.dumps(data, indent=2, default=json_default) + "\n")
    return path


def collect_failures(report: dict) -> str:
    problems = []
    for r in report["runs"]:
        if r.failures:
            problems.append(f"{r.label}: {r.non_204} non-204 ({r.statuses}), socket errors {r.socket_errors}")
    if report["pgbench"] and report["pgbench"]["failed"]:
        problems.append(f"pgbench: {report['pgbench']['failed']} failed transactions")
    for rt in report["round_trips"]:
        bad = {k: v for k, v in rt["statuses"].items() if k != "204"}
        if bad:
            problems.append(f"round-trip phase, {rt['label']}: non-204 {bad}")
    return "; ".join(problems)


# ---------------------------------------------------------------- main


def measure_all(args, placements_file: Path, workdir: Path) -> list[LoadResult]:
    """Every setting, `repeat` times; tracker and bare swap order each round, so drift hits both alike."""
    phases = []
    for round_number in range(args.repeat):
        apps = ("tracker", "bare") + (("before",) if args.before else ())
        if round_number % 2:
            apps = apps[::-1]
        before = str(args.before) if args.before else None
        for worker_class in args.worker_classes:
            for workers in args.workers:
                for app in apps:
                    settings = ServerSettings(app, workers, worker_class, args.threads, args.keepalive, before)
                    phases.append(measure_server(args, settings, placements_file, workdir))
    return phases


def combine_phases(phases: list[LoadResult]) -> list[LoadResult]:
    """One row per setting, in the order tracker then bare for each worker class and count."""
    groups: dict[tuple, list[LoadResult]] = {}
    for phase in phases:
        s = phase.settings
        order = {"tracker": 0, "before": 1, "bare": 2}[s["app"]]
        groups.setdefault((s["worker_class"], s["workers"], order), []).append(phase)
    return [combine(group) for _, group in sorted(groups.items(), key=lambda item: item[0])]



def run(args) -> dict:
    started = datetime.now(timezone.utc)
    placements = demo_placements()
    items = content_items(placements)
    report = {
        "started_at": started.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "arguments": {k: v for k, v in vars(args).items()},
        "machine": machine_info(args),
        "content_items": len(items),
        "placements": len(placements),
        "statement": heartbeat_sql(),
        "runs": [],
        "pgbench": None,
        "round_trips": [],
    }
    with tempfile.TemporaryDirectory(prefix="heartbeat-bench-") as tmp:
        workdir = Path(tmp)
        placements_file = workdir / "placements.txt"
        placements_file.write_text("".join(f"{p.lens[0]} {p.lo[0]} {p.module[0]}\n" for p in placements))
        print(f"Preparing database {args.database}: {args.learners:,} learners × {len(items)} items ...", flush=True)
        report["warm_rows"] = prepare_database(args, items)

        print("Throughput (wrk):", flush=True)
        report["phases"] = measure_all(args, placements_file, workdir)
        report["runs"] = combine_phases(report["phases"])
        best = choose_best([r for r in report["runs"] if r.settings["app"] == "tracker"])
        bare = next(
            r for r in report["runs"]
            if r.settings == {**best.settings, "app": "bare"}
        )
        report["best"] = best

        print("Database ceiling (pgbench):", flush=True)
        report["pgbench"] = run_pgbench(args, placements, workdir)

        print("SQL round trips (counting proxy):", flush=True)
        for app in ("tracker", "bare") + (("before",) if args.before else ()):
            settings = ServerSettings(**{**best.settings, "app": app})
            report["round_trips"].append(count_round_trips(args, settings, placements, placements_file, workdir))

    report["ratios"] = {
        "bare_rps": bare.rps,
        "disturbed": max(best.other_share, bare.other_share) > OTHER_CPU_WARNING,
        "tracker_over_bare": best.rps / bare.rps if bare.rps else 0.0,
        "tracker_over_pgbench": best.rps / report["pgbench"]["tps"] if report["pgbench"]["tps"] else None,
        "per_setting": {
            r.label: r.rps / b.rps
            for r in report["runs"] if r.settings["app"] == "tracker"
            for b in report["runs"] if b.settings == {**r.settings, "app": "bare"} and b.rps
        },
        # tracker against the --before checkout, same settings, same rounds
        "over_before": {
            r.label: r.rps / b.rps
            for r in report["runs"] if r.settings["app"] == "tracker"
            for b in report["runs"] if b.settings == {**r.settings, "app": "before"} and b.rps
        },
    }
    report["failures"] = collect_failures(report)
    return report


def main(argv=None) -> int:
    args = parse_args(argv)
    report = run(args)
    summary = markdown_summary(report)
    report["markdown"] = summary
    path = write_json(report)
    print("\n" + summary + "\n")
    print(f"Written to {path.relative_to(ROOT)}")
    if report["failures"]:
        banner = "!" * 78
        print(f"\n{banner}\nINVALID RUN: not every response was a 204.\n{report['failures']}\n{banner}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
