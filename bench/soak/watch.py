"""What the servers use during a soak: every gunicorn worker's peak memory, PostgreSQL connections,
and where the machine's CPU went."""
import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

from bench.machine import CpuTally, machine_cpu
from bench.processes import children_of, cpu_seconds, listening_pids, parent_of, processes_named, status_kb
from bench.soak.client import Load
from bench.soak.database import connection_count


def gunicorn_masters(args, own_master: int | None, instances: list[str]) -> dict[str, int]:
    if own_master:
        return {"gunicorn": own_master}
    masters = {}
    if args.worker_pids_from:
        for item in args.worker_pids_from.split(","):
            item = item.strip()
            pid = int(Path(item).read_text().strip()) if not item.isdigit() else int(item)
            masters[f"pid {pid}"] = pid
        return masters
    for instance in instances:
        port = urlsplit(instance).port
        holders = listening_pids(port) if port else []
        ppids = {pid: parent_of(pid) for pid in holders}
        for pid, ppid in ppids.items():
            if ppid not in ppids:
                masters[instance] = pid
    return masters


class WorkerWatch:
    """Peak memory (VmHWM) of every worker of each master, sampled until the end: workers are
    recycled after gunicorn's max_requests, and a recycled worker's peak is read before it goes.
    Also where the machine's CPU went: the load generator, the workers, PostgreSQL and nginx."""

    def __init__(self, masters: dict[str, int]):
        self.masters = masters
        self.peaks: dict[str, dict[int, int]] = {name: {} for name in masters}
        self.connections_peak = 0
        self.cpu = CpuTally()
        self.machine_start = machine_cpu()
        self.sample_cpu()

    def cpu_groups(self) -> dict[str, list[int]]:
        return {
            "load generator (this process)": [os.getpid()],
            "app (gunicorn workers)": [pid for master in self.masters.values() for pid in children_of(master)],
            "PostgreSQL": processes_named("postgres"),
            "nginx": processes_named("nginx"),
        }

    def sample_cpu(self) -> None:
        self.cpu.record((pid, group, cpu_seconds(pid)) for group, pids in self.cpu_groups().items() for pid in pids)

    def sample(self) -> None:
        for name, master in self.masters.items():
            for pid in children_of(master):
                hwm = status_kb(pid, "VmHWM")
                if hwm is not None:
                    self.peaks[name][pid] = max(hwm, self.peaks[name].get(pid, 0))
        self.sample_cpu()

    def cpu_report(self) -> dict:
        """CPU seconds per group over the run, and each as a share of the machine's capacity."""
        busy_end, all_end = machine_cpu()
        capacity = all_end - self.machine_start[1]
        used = self.cpu.spent()
        report = {group: {"cpu_s": round(s, 1), "share_of_machine": round(s / capacity, 3)} for group, s in used.items()}
        busy = busy_end - self.machine_start[0]
        report["whole machine busy"] = {"cpu_s": round(busy, 1), "share_of_machine": round(busy / capacity, 3)}
        return report

    async def run(self, load: Load, database_url: str) -> None:
        while load.running():
            self.sample()
            self.connections_peak = max(self.connections_peak, await asyncio.to_thread(connection_count, database_url))
            await asyncio.sleep(1.0)
        self.sample()

    def report(self) -> dict:
        return {
            name: {"master": self.masters[name],
                   "workers": [{"pid": pid, "vmhwm_mb": round(kb / 1024, 1)} for pid, kb in sorted(peaks.items())]}
            for name, peaks in self.peaks.items()
        }
