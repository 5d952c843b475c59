"""tracker's benchmarks, and the process, gunicorn and machine helpers they share with the tests.

Every bench runs as a module from the repository root, which is also the working directory of
the servers they start:

    .venv/bin/python -m bench.heartbeat --quick
    .venv/bin/python -m bench.soak --help
    .venv/bin/python -m bench.dashboard
    .venv/bin/python -m bench.profile_heartbeat
    .venv/bin/python -m bench.content_load

The shared pieces: bench.processes (free ports, one process as /proc shows it), bench.machine
(CPU accounting for the whole machine and groups of processes), bench.gunicorn (start, wait
for and stop a gunicorn), bench.pgwire (counting PostgreSQL round trips on the wire).
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent  # gunicorn and flask, next to the Python that runs the bench
