"""The setup a soak makes for itself without --target: a fresh database, and gunicorn on it."""
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from bench import ROOT, VENV_BIN
from bench.gunicorn import Gunicorn, GunicornFailed
from bench.processes import free_port
from bench.soak.database import recreate_database
from tracker.config import DEMO_CONTENT_DIR

# The per-address limits, raised: all soak traffic comes from one address. Per-learner limits stay.
SOAK_RATE_LIMITS = {
    "TRACKER_RATELIMIT_HEARTBEAT_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_COMPLETION_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_CHAT_PER_IP": "1000000/minute",
    "TRACKER_RATELIMIT_SIGNUP_PER_IP": "1000000/hour",
}


def flask_command(database_url: str, *command: str, stdin: str | None = None) -> str:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "soak", "TRACKER_LOG_FORMAT": "text"}
    result = subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", *command], cwd=ROOT, env=env, input=stdin,
                            capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"flask {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


@contextmanager
def own_server(args):
    """A fresh database, migrated, and gunicorn on it with the production settings file."""
    url = recreate_database(args.pg_url, args.database)
    flask_command(url, "db", "upgrade")
    run_dir = Path(tempfile.mkdtemp(prefix="tracker-soak-"))
    content_dir = run_dir / "content"
    shutil.copytree(DEMO_CONTENT_DIR, content_dir)
    port = free_port()
    env = {
        **os.environ, **SOAK_RATE_LIMITS,
        "DATABASE_URL": url, "SECRET_KEY": uuid.uuid4().hex, "HOST": "127.0.0.1", "PORT": str(port),
        "WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads),
        "TRACKER_CONTENT_DIR": str(content_dir), "TRACKER_CONTENT_CHECK_S": str(int(args.content_check_s)),
        "TRACKER_OFFLINE_TUTOR_DELAY_MS": "0", "TRACKER_MAX_DELTA_S": str(args.max_delta),
        "TRACKER_BURST_S": str(args.burst), "TRACKER_RATELIMIT_KEY_PREFIX": f"soak-{uuid.uuid4().hex[:8]}",
    }
    server = Gunicorn(["-c", "gunicorn.conf.py", "wsgi:app"], port=port, env=env, log=run_dir / "gunicorn.log")
    try:
        try:
            server.wait_ready("/readyz", workers=args.workers, status=200)
        except GunicornFailed as error:
            raise SystemExit(str(error)) from None
        yield {"base": server.base_url, "instances": [server.base_url], "database_url": url,
               "content_dir": content_dir, "master": server.pid, "log": server.log_path}
    finally:
        server.stop(grace_s=40)
