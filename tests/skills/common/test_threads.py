"""Torch threads per job: the setting wins; otherwise the cores, and one thread on a machine already overloaded."""

import os

from skills.common.threads import cpu_threads


def test_threads_follow_the_setting_then_the_cores_then_the_load(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("TUNESMITH_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.delenv("TUNESMITH_THREADS")
    monkeypatch.setattr(os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    assert cpu_threads() == 8 and cpu_threads(processes=2) == 4 and cpu_threads(limit=4) == 4
    monkeypatch.setattr(os, "getloadavg", lambda: (11.0, 10.0, 9.0))
    assert cpu_threads() == 1
