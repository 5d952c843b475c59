"""The bare baseline for bench/heartbeat.py: tracker's heartbeat SQL with nothing around it.

A minimal Flask app with the same route as tracker, POST /api/progress/time, that runs the
same single statement (tracker.progress.statements.heartbeat_statement, compiled once for
psycopg) through a psycopg_pool.ConnectionPool in autocommit mode, with the same parameters
tracker's progress service passes. It does no validation, no placement lookup and no error
handling: only a dictionary lookup of the three titles. Whatever tracker spends beyond this
app is the cost of its own code (validation, content index, SQLAlchemy, error handling).

Run it the way bench.heartbeat does:
    BENCH_DSN=postgresql://postgres@127.0.0.1:5432/tracker_bench \
        .venv/bin/gunicorn bench.bare_app:app    # from the repository root
"""
import json
import os
from datetime import datetime, timezone
from uuid import UUID

from flask import Flask, request
from psycopg.types.numeric import Int8
from psycopg_pool import ConnectionPool
from sqlalchemy.dialects.postgresql import psycopg as psycopg_dialect

from tracker.config import DEMO_CONTENT_DIR
from tracker.content import load_content
from tracker.progress.statements import heartbeat_statement

LEVELS = ("module", "lo", "lens")
SQL = str(heartbeat_statement("postgresql", "anonymous", LEVELS).compile(dialect=psycopg_dialect.dialect()))
BURST_S = int(os.environ.get("TRACKER_BURST_S") or 120)  # tracker's default, like its Budget


def content_titles(directory) -> dict[str, str]:
    """Title of every lens, LO and module, by id as the client sends it."""
    index = load_content(directory)
    titles = {}
    for module in index.modules:
        titles[str(module.id)] = module.title
        for section in module.sections:
            titles[str(section.outcome.id)] = section.outcome.title
            titles[str(section.lens.id)] = section.lens.title
    return titles


TITLES = content_titles(os.environ.get("TRACKER_CONTENT_DIR") or DEMO_CONTENT_DIR)
pool = ConnectionPool(
    os.environ["BENCH_DSN"],
    min_size=1,
    max_size=int(os.environ.get("BENCH_POOL_SIZE") or 4),
    kwargs={"autocommit": True},
    open=True,
)
app = Flask(__name__)


@app.post("/api/progress/time")
def record_time():
    body = json.loads(request.get_data())
    now = datetime.now(timezone.utc)
    params = {
        "user_id": None,
        "anonymous_token": UUID(request.headers["X-Anonymous-Token"]),
        "now": now,
        "now_ms": int(now.timestamp() * 1000),
        "started_at": now,
        "delta": body["time_delta_s"],
        "reach_s": Int8(BURST_S),  # a live heartbeat's seconds reach back the burst
        "chunk_id": Int8(body["chunk_id"]) if "chunk_id" in body else None,  # as tracker binds it
        "live_end_ms": Int8(int(now.timestamp() * 1000)),  # live seconds end now, in the daily ledger
    }
    for level, field in zip(LEVELS, ("module_id", "lo_id", "content_id")):
        params[f"{level}_id"] = UUID(body[field])
        params[f"{level}_title"] = TITLES[body[field]]
    with pool.connection() as conn:
        credits = {level: credit for level, credit, _ in conn.execute(SQL, params).fetchall()}
    return "", 204, {"X-Credited-Seconds": str(credits["lens"])}
