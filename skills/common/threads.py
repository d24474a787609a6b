"""How many torch threads a job uses on this machine."""

from __future__ import annotations

import os


def cpu_threads(processes: int = 1, limit: int | None = None) -> int:
    """Torch threads for a job: $TUNESMITH_THREADS, else the cores this job's processes share, and one
    thread when the machine is already busier than its cores (measured here under a load of 11 on 2
    cores: greedy generation took 264 s with 2 threads and 30-45 s with 1; threads that wait on each
    other at every operation lose most of their time slices)."""
    chosen = int(os.environ.get("TUNESMITH_THREADS") or 0)
    if chosen > 0:
        return chosen
    cores = os.cpu_count() or 1
    threads = max(1, cores // max(1, processes))
    try:
        if os.getloadavg()[0] > cores:
            threads = 1
    except OSError:
        pass
    return min(threads, limit) if limit else threads
