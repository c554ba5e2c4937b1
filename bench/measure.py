"""Run a command as a child process and measure it: wall time, CPU time and peak memory of its whole process tree.

Peak memory is the larger of (a) the summed RSS of the child and its descendants, sampled every 50 ms, and (b) the
high-water RSS (VmHWM) of its largest single process, which catches spikes between samples. The kernel's ru_maxrss
is no use here: a child forked from this (large) process inherits this process's high-water mark at exec.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import time
from pathlib import Path

import psutil


@dataclasses.dataclass
class Measured:
    """What a child process cost."""

    returncode: int
    wall_s: float
    cpu_s: float  # user + system time of the child and every descendant it waited for
    peak_rss_mb: float
    log: Path
    other_cpu_s: float = 0.0  # CPU time the rest of the machine used meanwhile: other work skews the timings

    @property
    def other_cores(self) -> float:
        return self.other_cpu_s / self.wall_s if self.wall_s else 0.0

    @property
    def cores_used(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s else 0.0


def run_measured(cmd: list[str], log: Path, env: dict[str, str] | None = None, interval_s: float = 0.05) -> Measured:
    """Run cmd to completion with stdout and stderr to log; raise with the log's tail if it fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        busy0 = _busy_cpu_s()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        ps = psutil.Process(proc.pid)
        peak = hwm = 0
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                procs = [ps, *ps.children(recursive=True)]
            except psutil.NoSuchProcess:
                procs = []
            peak = max(peak, sum(_rss(p) for p in procs))
            hwm = max([hwm, *(_hwm(p.pid) for p in procs)])
            time.sleep(interval_s)
        wall = time.perf_counter() - t0
        busy = _busy_cpu_s() - busy0
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: tell Popen, so it does not wait again
    peak = max(peak, hwm)
    cpu = ru.ru_utime + ru.ru_stime
    m = Measured(proc.returncode, wall, cpu, peak / 2**20, log, other_cpu_s=max(0.0, busy - cpu))
    if m.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(cmd[:3])} ... exited with {m.returncode}; log {log}:\n{tail}")
    return m


def _rss(p: psutil.Process) -> int:
    try:
        return p.memory_info().rss
    except psutil.NoSuchProcess:
        return 0


def _hwm(pid: int) -> int:
    """High-water RSS of a process (bytes), from /proc; 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores) since boot."""
    t = psutil.cpu_times()
    return sum(t) - t.idle - getattr(t, "iowait", 0.0)
