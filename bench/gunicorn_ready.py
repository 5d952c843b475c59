"""gunicorn settings file for bench.gunicorn (announce_workers): each worker says when it has loaded the app.

With BENCH_READY_DIR set, every worker creates a file named after its pid there once the
app is imported, so the benchmark can wait for all workers before it drives load.
"""
import os
from pathlib import Path


def post_worker_init(worker):
    directory = os.environ.get("BENCH_READY_DIR")
    if directory:
        Path(directory, f"worker-{os.getpid()}").touch()
