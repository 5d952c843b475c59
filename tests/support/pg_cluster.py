"""A private PostgreSQL server that tests may stop and start, migrated like the shared test database.

The shared server (TRACKER_TEST_POSTGRES_URL) must stay up for everyone else's tests, so the
outage tests run their app on a cluster of their own: initdb into a temporary directory, a free
port, its socket in that directory. As root, the server runs as the `postgres` user (PostgreSQL
refuses to run as root). The `private_postgres` fixture (tests/conftest.py) makes one per run.
"""
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from bench.processes import free_port
from support.database import migrate

DATABASE = "tracker"


class ClusterUnavailable(Exception):
    """No private cluster can be made here."""


def postgresql_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries: Debian's /usr/lib/postgresql/<version>/bin, else the PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PrivateCluster:
    """One PostgreSQL cluster in a temporary directory, with a migrated database `tracker`."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data, self.log = self.root / "data", self.root / "server.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def run(self, *command: str, timeout: float = 60) -> None:
        argv = [str(self.bin_dir / command[0]), *command[1:]]
        if self.as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed: {result.stdout}{result.stderr}{self.log_tail()}")

    def create(self) -> None:
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
        self.start()
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        migrate(self.url)

    def start(self) -> None:
        # fsync off only spares the disk: the tests stop the server, they never crash the machine.
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
        self.run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60", "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` aborts open transactions and disconnects everyone; `immediate` is a crash."""
        self.run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def log_tail(self, lines: int = 20) -> str:
        if not self.log.exists():
            return ""
        return "\nserver log:\n" + "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def remove(self) -> None:
        if self.is_running():
            try:
                self.stop("immediate")
            except (RuntimeError, subprocess.TimeoutExpired):
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_private_cluster() -> PrivateCluster:
    """A private PostgreSQL cluster, running and migrated; ClusterUnavailable says why there is none."""
    bin_dir = postgresql_bin_dir()
    if not bin_dir:
        raise ClusterUnavailable("no PostgreSQL server binaries (initdb) found")
    cluster = None
    try:
        cluster = PrivateCluster(bin_dir)
        cluster.create()
    except (OSError, RuntimeError, LookupError, subprocess.TimeoutExpired, psycopg.Error) as error:
        if cluster:
            cluster.remove()
        raise ClusterUnavailable(f"could not start a private PostgreSQL cluster: {error}") from error
    return cluster
