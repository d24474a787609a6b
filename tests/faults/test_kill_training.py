"""SIGKILL of a training job after its first checkpoint, then ``--resume``: training continues from
the checkpoint and finishes the planned steps, with one metrics line per step.

Real training of the embedded SmolLM2-135M with LoRA, 2 steps of batch 2, a checkpoint every
step, killed after the first (about a minute on 2 idle CPU cores, more when they are busy). tests/skills/train/test_train_e2e.py covers a whole run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.bench.training_session import make_training_session

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def events_of(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip().endswith("}")]


def job(session: Path, events: Path, log: Path, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TUNESMITH_THREADS": "2"}
    argv = [sys.executable, "-m", "skills.train.job", "--session", str(session), "--run-id", "r1",
            "--events", str(events), *extra]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT)


def test_training_killed_after_a_checkpoint_resumes_and_finishes(tmp_path):
    session = make_training_session(tmp_path / "s", n_train=16, max_steps=2, save_steps=1, batch_size=2, max_length=64)
    events, log = tmp_path / "events.jsonl", tmp_path / "job.log"
    child = job(session, events, log)
    try:
        deadline = time.monotonic() + 600
        while not any(e["type"] == "checkpoint" for e in events_of(events)):
            assert child.poll() is None, f"the job ended before its first checkpoint:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "no checkpoint within 10 minutes"
            time.sleep(0.1)
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    run = session / "runs" / "r1"
    assert not (run / "final").exists()
    killed_at = max(int(p.name.split("-")[1]) for p in (run / "checkpoints").glob("checkpoint-*"))
    assert killed_at == 1

    resumed = job(session, events, log, "--resume")
    assert resumed.wait(timeout=900) == 0, log.read_text()[-3000:]
    state = json.loads((run / "run.json").read_text()) if (run / "run.json").exists() else {}
    after = events_of(events)
    assert any(e["type"] == "log" and "resuming from checkpoint-" in e.get("message", "") for e in after)
    done = [e for e in after if e["type"] == "done"]
    assert len(done) == 1 and done[0]["steps"] == 2
    assert state.get("status", "finished") == "finished"
    assert (run / "final" / "adapter_model.safetensors").exists()
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [1, 2], "one metrics line per step, none repeated after the resume"
