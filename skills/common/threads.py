"""How many torch threads a job uses on this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path

LOADAVG = Path("/proc/loadavg")


def others_running(path: Path = LOADAVG, samples: int = 10, interval_s: float = 0.02) -> float:
    """Tasks other than this one running or waiting for a core now: the mean over ``samples`` reads of the
    kernel's count of runnable tasks (the fourth field of /proc/loadavg, which counts the reader itself).
    Unlike the 1-minute load average it does not still hold the work of steps that just ended: a
    2-thread warm-up of two minutes alone leaves that average at about 1.7 (2 x (1 - e^-2)), so the
    job after it would count its own step as others' load. Without /proc, the 1-minute load average."""
    counts = []
    try:
        for i in range(samples):
            if i:
                time.sleep(interval_s)
            counts.append(int(path.read_text(encoding="ascii").split()[3].split("/")[0]) - 1)
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0]
    return sum(counts) / len(counts)


def cpu_threads(processes: int = 1, limit: int | None = None) -> int:
    """Torch threads for a job: $TUNESMITH_THREADS, else the cores this job's processes share, and one
    thread when other tasks already want more than the cores (measured here under a load of 11 on 2
    cores: greedy generation took 264 s with 2 threads and 30-45 s with 1; threads that wait on each
    other at every operation lose most of their time slices)."""
    chosen = int(os.environ.get("TUNESMITH_THREADS") or 0)
    if chosen > 0:
        return chosen
    cores = os.cpu_count() or 1
    threads = max(1, cores // max(1, processes))
    try:
        if others_running() > cores:
            threads = 1
    except OSError:
        pass
    return min(threads, limit) if limit else threads
