"""The machine a bench runs on: what it is, how busy it is, and where its CPU time goes."""
import os
import platform
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from bench.processes import CLOCK_TICKS


def cpu_model(default: str = "unknown") -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return default


def describe() -> dict:
    return {"nproc": os.cpu_count(), "cpu": cpu_model(), "python": platform.python_version(),
            "kernel": platform.release()}


def machine_cpu() -> tuple[float, float]:
    """(busy, all) CPU seconds of the whole machine since boot, summed over its cores, from /proc/stat."""
    # user nice system idle iowait irq softirq steal; guest time is already inside user.
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / CLOCK_TICKS, sum(ticks) / CLOCK_TICKS


def busy_share(start: tuple[float, float], end: tuple[float, float]) -> float:
    """The share of the machine's CPU capacity that was busy between two machine_cpu() readings."""
    busy, total = (e - s for e, s in zip(end, start))
    return busy / total if total else 0.0


def wait_for_quiet_machine(busy_limit: float = 0.10, patience_s: float = 120.0) -> None:
    """Before a phase, wait (up to `patience_s`) for a second in which the CPUs are at most 10% busy."""
    deadline = time.monotonic() + patience_s
    waited = False
    while True:
        start = machine_cpu()
        time.sleep(1.0)
        share = busy_share(start, machine_cpu())
        if share <= busy_limit or time.monotonic() > deadline:
            if waited:
                print(f"  (the machine is {share:.0%} busy; going on)", flush=True)
            return
        if not waited:
            print(f"  (the machine is {share:.0%} busy with other work; waiting for it to calm down)", flush=True)
            waited = True


class CpuTally:
    """CPU seconds that groups of processes spend from an opening sample on.

    Each sample keeps every process's latest figure, so a process that ends between samples
    counts up to its last one; a process first seen after the opening sample started since,
    and counts from zero.
    """

    def __init__(self):
        self.first: dict[int, float] = {}
        self.last: dict[int, tuple[str, float]] = {}
        self.opened = False

    def record(self, samples: Iterable[tuple[int, str, float | None]]) -> None:
        """One sample: (pid, group, CPU seconds so far) of each process, None for one gone meanwhile."""
        for pid, group, seconds in samples:
            if seconds is None:
                continue
            self.first.setdefault(pid, 0.0 if self.opened else seconds)
            self.last[pid] = (group, seconds)
        self.opened = True

    def spent(self) -> Counter:
        """CPU seconds per group since the opening sample."""
        spent = Counter()
        for pid, (group, seconds) in self.last.items():
            spent[group] += seconds - self.first[pid]
        return spent
