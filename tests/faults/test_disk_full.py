"""A full disk while writing a session: each write fails with a clear SessionWriteError (or the
spec layer's own error), and nothing already saved is harmed: the log, session.json and the spec
keep their previous content, no temp files are left, and writing works again once there is room.

Preferred: a real 256 KiB tmpfs mounted in a private mount namespace (``unshare -rm``), filled by a
filler file, so the writes hit ENOSPC. Where unprivileged namespaces are not allowed, the same
scenario runs with RLIMIT_FSIZE (EFBIG). Both run when both work.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def tmpfs_works(tmp_path: Path) -> bool:
    unshare = shutil.which("unshare")
    if not unshare:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    out = subprocess.run([unshare, "-rm", "sh", "-c", f"mount -t tmpfs -o size=64k tmpfs '{probe}' && touch '{probe}/x'"],
                         capture_output=True, timeout=20)
    return out.returncode == 0


def run_child(tmp_path: Path, mode: str) -> dict:
    folder = tmp_path / f"disk-{mode}"
    folder.mkdir()
    python = [sys.executable, "-m", "tests.faults.diskfull_child", str(folder), mode]
    if mode == "tmpfs":
        script = f"mount -t tmpfs -o size=256k tmpfs '{folder}' && exec \"$@\""
        argv = [shutil.which("unshare"), "-rm", "sh", "-c", script, "sh", *python]
    else:
        argv = python
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "RESULT=" in out.stdout, out.stderr[-3000:]
    return json.loads(out.stdout.split("RESULT=")[-1])


def modes(tmp_path):
    return (["tmpfs"] if tmpfs_works(tmp_path) else []) + ["rlimit"]


@pytest.mark.parametrize("mode", ["tmpfs", "rlimit"])
def test_full_disk_reports_clearly_and_corrupts_nothing(tmp_path, mode):
    if mode == "tmpfs" and not tmpfs_works(tmp_path):
        pytest.skip("no private tmpfs here (unprivileged mount namespaces are off); the rlimit case covers it")
    result = run_child(tmp_path, mode)
    reason = "No space left on device" if mode == "tmpfs" else "File too large"
    for action in ("append", "save_meta", "agent_turn"):
        failure = result[action]
        assert failure["error"] == "SessionWriteError", (action, failure)
        assert reason in failure["message"] and "full" in failure["message"], failure["message"]
        assert "OSError" in failure["mro"]
    assert result["save_spec"]["error"] is not None
    assert reason in result["save_spec"]["message"] or "could not" in result["save_spec"]["message"].lower()
    after = result["after"]
    assert after["records"] == ["first", "second", "third"], "the log keeps every earlier record, nothing torn"
    assert after["problems"] == []
    assert after["meta_same"] and after["spec_same"] and after["log_same"]
    assert after["leftovers"] == [], "no temp files are left behind"
    assert result["recovered"] == ["first", "second", "third", "after the disk was freed"]
