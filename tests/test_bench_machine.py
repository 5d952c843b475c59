"""The process and CPU accounting the benches share (bench.processes, bench.machine), on this machine's /proc."""
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from bench.machine import CpuTally, busy_share, machine_cpu
from bench.processes import (
    children_of, cpu_seconds, free_port, listening_pids, parent_of, process_stat, processes_named, status_kb,
)


def test_the_opening_sample_is_the_baseline_and_later_processes_count_from_zero():
    tally = CpuTally()
    tally.record([(10, "app", 5.0), (20, "postgres", 7.0)])
    tally.record([(10, "app", 5.5), (20, "postgres", 7.25), (30, "app", 0.75)])  # 30 started after the opening
    assert tally.spent() == Counter({"app": 1.25, "postgres": 0.25})


def test_a_process_that_ends_counts_up_to_its_last_sample_and_a_gone_one_is_skipped():
    tally = CpuTally()
    tally.record([(10, "app", 1.0), (11, "app", 2.0)])
    tally.record([(10, "app", 1.5), (11, "app", 3.0)])
    tally.record([(10, "app", None), (11, "app", 4.0)])  # 10 has ended: None, as cpu_seconds says
    assert tally.spent() == Counter({"app": 0.5 + 2.0})


def test_machine_cpu_busy_is_part_of_all():
    start = machine_cpu()
    deadline = time.monotonic() + 0.2
    while time.monotonic() < deadline:
        pass
    end = machine_cpu()
    assert 0 < start[0] <= start[1] and end[0] - start[0] > 0
    assert 0.0 < busy_share(start, end) <= 1.0
    assert busy_share(start, start) == 0.0


def test_this_process_as_proc_shows_it():
    stat = process_stat(os.getpid())
    assert stat.name == Path("/proc/self/comm").read_text().strip()
    assert stat.ppid == os.getppid() == parent_of(os.getpid())
    assert cpu_seconds(os.getpid()) >= 0
    assert status_kb(os.getpid(), "VmHWM") > 0
    assert os.getpid() in processes_named(stat.name)


def test_a_process_that_is_gone_reads_as_none():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert process_stat(child.pid) is None and cpu_seconds(child.pid) is None and parent_of(child.pid) is None
    assert status_kb(child.pid, "VmHWM") is None and children_of(child.pid) == []


def test_children_and_the_holders_of_a_listening_port():
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        try:
            assert child.pid in children_of(os.getpid())
            assert listening_pids(port) == [os.getpid()]
        finally:
            child.kill()
            child.wait()


def test_a_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as error:  # taken in between by another process: possible, and not what this checks
            pytest.skip(f"port {port} was taken meanwhile: {error}")
