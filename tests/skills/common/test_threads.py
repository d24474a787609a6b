"""Torch threads per job: the setting wins; otherwise the cores, and one thread on a machine already overloaded."""

import os

from skills.common import threads
from skills.common.threads import cpu_threads, others_running


def test_threads_follow_the_setting_then_the_cores_then_the_load(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    monkeypatch.setenv("TUNESMITH_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.delenv("TUNESMITH_THREADS")
    monkeypatch.setattr(threads, "others_running", lambda: 0.5)
    assert cpu_threads() == 8 and cpu_threads(processes=2) == 4 and cpu_threads(limit=4) == 4
    monkeypatch.setattr(threads, "others_running", lambda: 11.0)
    assert cpu_threads() == 1


def test_the_load_is_the_runnable_tasks_now_not_the_minute_average(tmp_path, monkeypatch):
    stat = tmp_path / "loadavg"
    stat.write_text("9.50 6.00 3.00 3/412 12345\n", encoding="ascii")  # busy a minute ago, two others now
    assert others_running(stat, samples=3, interval_s=0) == 2.0
    monkeypatch.setattr(os, "getloadavg", lambda: (4.0, 3.0, 2.0))
    assert others_running(tmp_path / "missing", samples=3, interval_s=0) == 4.0
    assert others_running() >= 0  # the real /proc/loadavg of this machine parses
