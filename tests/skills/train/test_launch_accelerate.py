"""Scale-out proven on this machine: the real training job under `accelerate launch` with 2 CPU
processes (DDP, gloo) on the embedded model, 3 steps. Both ranks train; rank 0 alone writes the
events, metrics, run.json, final/ and the MLflow run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from skills.train import launch
from specs.training import TrainingPlan
from specs.yamlio import save_spec
from test_train_fixtures import REPO, make_session

pytestmark = pytest.mark.slow

BASE = "embedded:SmolLM2-135M-Instruct"


def _resolve_base_model_once() -> None:
    """Convert the embedded model before launching, so the two ranks only read the cached folder."""
    code = f"from skills.common.basemodel import resolve_model_path; print(resolve_model_path({BASE!r}))"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_cpu_processes_train_once(tmp_path):
    _resolve_base_model_once()
    session = make_session(tmp_path, n_train=16, n_eval=2)
    plan = TrainingPlan(technique="sft", adapter="lora", base_model=BASE,
                        hyperparameters={"max_steps": 3, "batch_size": 2, "max_length": 64, "save_steps": 3,
                                         "logging_steps": 1, "learning_rate": 3e-4},
                        compute={"device": "cpu", "launcher": "accelerate", "num_processes": 2})
    save_spec(session / "training.yaml", plan)
    events_path = session / "events.jsonl"
    argv = launch.job_command(plan, session, "r1", events_path)
    assert argv[1:3] == ["-m", "accelerate.commands.launch"]
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TUNESMITH_THREADS": "1",
           "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]

    # both ranks ran, as one data-parallel group on the CPU
    assert "process 0 of 2: DistributedType.MULTI_CPU" in log and "process 1 of 2: DistributedType.MULTI_CPU" in log
    events = [json.loads(line) for line in events_path.read_text().splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds.count("start") == 1 and kinds.count("done") == 1 and "error" not in kinds
    assert events[kinds.index("start")]["num_processes"] == 2
    assert any("distributed: 2 processes" in e.get("message", "") for e in events if e["type"] == "log")
    assert [e["step"] for e in events if e["type"] == "progress"] == [1, 2, 3]  # once, not once per rank

    run = session / "runs/r1"
    assert [json.loads(l)["step"] for l in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "finished" and state["steps"] == 3 and state["total_steps"] == 3
    assert (run / "final/adapter_model.safetensors").exists() and not (run / "final.tmp").exists()
    assert (run / "checkpoints/checkpoint-3/trainer_state.json").exists()
    assert "use_cpu: true" in (run / "accelerate.yaml").read_text()
    with sqlite3.connect(tmp_path / "mlflow.db") as db:
        assert db.execute("select count(*) from runs").fetchone()[0] == 1
