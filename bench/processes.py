"""Ports and processes on this machine, read from /proc (Linux)."""
import os
import socket
from pathlib import Path
from typing import NamedTuple

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (free when asked; the caller binds it soon)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ProcessStat(NamedTuple):
    name: str
    ppid: int
    cpu_s: float  # user plus system time so far


def process_stat(pid: int) -> ProcessStat | None:
    """A process's command name, parent and CPU time, from /proc/PID/stat; None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
        name = raw[raw.index("(") + 1: raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2:].split()
    except (OSError, ValueError):
        return None
    # fields[0] is the state (field 3 of stat); utime and stime are fields 14 and 15.
    return ProcessStat(name, int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of a process so far; None if it is gone."""
    stat = process_stat(pid)
    return stat.cpu_s if stat else None


def parent_of(pid: int) -> int | None:
    stat = process_stat(pid)
    return stat.ppid if stat else None


def pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def all_processes() -> dict[int, ProcessStat]:
    stats = {pid: process_stat(pid) for pid in pids()}
    return {pid: stat for pid, stat in stats.items() if stat}


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def processes_named(name: str) -> list[int]:
    """The processes whose command name (comm) is `name`."""
    found = []
    for pid in pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                found.append(pid)
        except OSError:
            continue
    return found


def status_kb(pid: int, field_name: str) -> int | None:
    """A size from /proc/PID/status (VmHWM, VmRSS ...) in kB; None if the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def listening_pids(port: int) -> list[int]:
    """Processes holding the listening socket of a local TCP port: a gunicorn master and its workers."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(parts[9])
    return sorted(pid for pid in pids() if holds_socket(pid, inodes))


def holds_socket(pid: int, inodes: set[str]) -> bool:
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:[") and target[8:-1] in inodes:
                return True
    except OSError:
        pass
    return False
