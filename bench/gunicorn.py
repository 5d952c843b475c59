"""A gunicorn master and its workers for a bench or a test: started, waited for, stopped.

The server runs in a session of its own, so that stop() ends the master and every worker,
whatever state they are in. The arguments are gunicorn's own (its config file, bind address
and app); with `announce_workers`, bench/gunicorn_ready.py is the config file and each worker
announces itself once it has loaded the app, so that waiting for the server means waiting for
every worker to be ready.
"""
import http.client
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from bench import ROOT, VENV_BIN
from bench.processes import children_of

READY_CONFIG = Path(__file__).resolve().parent / "gunicorn_ready.py"


class GunicornFailed(RuntimeError):
    """gunicorn exited, or did not become ready in time."""


class Gunicorn:
    """One gunicorn master, in a session of its own, and where to reach it."""

    def __init__(self, arguments: list[str], *, port: int, env: dict, log: Path | None = None,
                 errors: Path | None = None, announce_workers: bool = False, cwd: Path = ROOT):
        """Start `gunicorn ARGUMENTS`. Its output goes to `log` (its stderr to `errors`, if given),
        or without `log` to this process's own."""
        self.port, self.log_path, self.announce_workers = port, log, announce_workers
        if announce_workers:
            self.ready_dir = Path(tempfile.mkdtemp(prefix="ready-", dir=log.parent if log else None))
            arguments = ["--config", str(READY_CONFIG), *arguments]
            env = {**env, "BENCH_READY_DIR": str(self.ready_dir)}
        self.outputs = [open(path, "w") for path in (log, errors) if path]
        stdout, stderr = (self.outputs[0], self.outputs[-1] if errors else subprocess.STDOUT) if log else (None, None)
        self.process = subprocess.Popen([str(VENV_BIN / "gunicorn"), *arguments], cwd=cwd, env=env,
                                        stdout=stdout, stderr=stderr, start_new_session=True)

    @property
    def pid(self) -> int:
        """The master's pid."""
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        """The live workers: those that have loaded the app with `announce_workers`, else those forked."""
        if not self.announce_workers:
            return children_of(self.pid)
        announced = (int(path.name.split("-")[1]) for path in self.ready_dir.iterdir())
        return [pid for pid in announced if Path(f"/proc/{pid}").exists()]

    def wait_ready(self, probe: str, *, workers: int = 1, status: int | None = None, headers: dict | None = None,
                   timeout: float = 60.0) -> str:
        """Wait until `workers` workers are up and a GET of `probe` answers; return the answer's body.

        With `status`, only an answer with that status counts.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise GunicornFailed(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            if len(self.workers()) >= workers:
                answer = self.get(probe, headers or {})
                if answer and (status is None or answer[0] == status):
                    return answer[1]
            time.sleep(0.1)
        raise GunicornFailed(f"gunicorn did not answer {probe} within {timeout:.0f} s:\n{self.log_tail()}")

    def get(self, path: str, headers: dict) -> tuple[int, str] | None:
        """(status, body) of a GET, or None when the server does not answer yet."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read().decode(errors="replace")
        except (OSError, http.client.HTTPException):
            return None
        finally:
            connection.close()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path:
            return "(see gunicorn's output above)"
        for output in self.outputs:
            output.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, grace_s: float = 30.0) -> bool:
        """SIGTERM, as a process manager would; after `grace_s`, SIGKILL for what is left of the session.

        Returns whether the master had exited within the grace period.
        """
        graceful = True
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                graceful = False
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session this server was started in
        except ProcessLookupError:
            pass
        self.process.wait()
        for output in self.outputs:
            output.close()
        return graceful
