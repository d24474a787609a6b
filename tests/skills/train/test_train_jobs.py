"""Short real jobs: DPO and GRPO for two steps, and SFT killed with SIGKILL after its first checkpoint
then resumed to the planned number of steps. Each trains the embedded 135M model on the CPU."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from skills.train.rewards import compile_reward, render_reward_code
from specs.training import TrainingPlan
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec, save_spec
from test_train_fixtures import REPO, make_session

pytestmark = pytest.mark.slow


def _env(tmp_path):
    return {**os.environ, "TUNESMITH_THREADS": os.environ.get("TUNESMITH_THREADS", "2"), "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}


def _argv(session, run_id="r1", *extra):
    return [sys.executable, "-m", "skills.train.job", "--session", str(session), "--run-id", run_id,
            "--events", str(session / "events.jsonl"), *extra]


def _plan(session, technique, **hp):
    base = {"max_steps": 2, "batch_size": 4, "max_length": 80, "save_steps": 1, "logging_steps": 1}
    save_spec(session / "training.yaml", TrainingPlan(technique=technique, adapter="lora", hyperparameters={**base, **hp},
                                                      reward="reward.yaml" if technique in ("rlvr", "rlaif") else None))


def _metrics(session, run_id="r1"):
    return [json.loads(l) for l in (session / "runs" / run_id / "metrics.jsonl").read_text().splitlines()]


def test_dpo_two_steps(tmp_path):
    session = make_session(tmp_path, n_train=12, n_eval=2, fmt="preference")
    _plan(session, "dpo", learning_rate=5e-5)
    done = subprocess.run(_argv(session), cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = _metrics(session)
    assert [r["step"] for r in rows] == [1, 2] and "reward_margin" in rows[-1]
    assert (session / "runs/r1/final/adapter_model.safetensors").exists()


def test_grpo_two_steps_with_sandboxed_reward(tmp_path):
    session = make_session(tmp_path, n_train=8, n_eval=2, fmt="prompt_only")
    spec, _ = compile_reward(load_spec(session / "use_case.yaml", UseCaseSpec), "rlvr")
    save_spec(session / "reward.yaml", spec)
    (session / "reward.py").write_text(render_reward_code(spec))
    _plan(session, "rlvr", learning_rate=1.5e-4, num_generations=4, max_completion_length=8)
    done = subprocess.run(_argv(session), cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = _metrics(session)
    assert [r["step"] for r in rows] == [1, 2]
    assert "reward" in rows[-1] and "rewards.correct_category.mean" in rows[-1] and "rewards.brevity.mean" in rows[-1]
    assert (session / "runs/r1/final/adapter_config.json").exists()


def test_sigkill_then_resume_finishes_planned_steps(tmp_path):
    session = make_session(tmp_path, n_train=40, n_eval=2)
    _plan(session, "sft", max_steps=6, save_steps=2, learning_rate=3e-4)
    events = session / "events.jsonl"
    job = subprocess.Popen(_argv(session), cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline:
            if events.exists() and '"type": "checkpoint"' in events.read_text():
                break
            assert job.poll() is None, "the job ended before its first checkpoint"
            time.sleep(0.2)
        else:
            pytest.fail("no checkpoint within 900 s")
    finally:
        os.killpg(job.pid, signal.SIGKILL)
        job.wait()
    run = session / "runs/r1"
    assert not (run / "final").exists()
    assert json.loads((run / "run.json").read_text())["status"] == "running"

    from skills.train import runs

    (run / "job.json").write_text(json.dumps({"pid": job.pid}))
    assert runs.interrupted_runs(session) == ["r1"]
    done = subprocess.run(_argv(session, "r1", "--resume"), cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "resuming from checkpoint-" in events.read_text()
    state = json.loads((run / "run.json").read_text())
    assert state["status"] == "finished" and state["steps"] == 6
    assert [r["step"] for r in _metrics(session)] == [1, 2, 3, 4, 5, 6]
    assert (run / "final/adapter_model.safetensors").exists()


def test_warm_up_measures_speed_into_the_plan(tmp_path, monkeypatch):
    from skills.train import tools
    from test_train_fixtures import call, tool_ctx

    monkeypatch.setenv("TUNESMITH_THREADS", os.environ.get("TUNESMITH_THREADS", "2"))
    session = make_session(tmp_path, n_train=24, n_eval=2)
    ctx = tool_ctx(session)
    assert not call(tools.write_training_plan, ctx, adapter="lora", batch_size=4).is_error
    preview = tools.measure_training_speed.describe(ctx, tools.measure_training_speed.validate({}))
    assert "--warmup" in preview.command
    result = call(tools.measure_training_speed, ctx)
    assert not result.is_error, result.content
    plan = load_spec(session / "training.yaml", TrainingPlan)
    assert plan.estimate.seconds_per_step > 0 and "CPU threads" in plan.estimate.measured_on
    assert plan.estimate.total_seconds > plan.estimate.seconds_per_step * plan.hyperparameters.max_steps
    assert not (session / "runs/warmup/checkpoints").exists() or not any((session / "runs/warmup/checkpoints").iterdir())
    assert not (session / "runs/warmup/final").exists()


def test_sigterm_cancels_and_is_not_mistaken_for_an_interruption(tmp_path):
    from skills.train import runs

    session = make_session(tmp_path, n_train=12, n_eval=2)
    _plan(session, "sft", max_steps=50)
    events = session / "events.jsonl"
    job = subprocess.Popen(_argv(session), cwd=REPO, env=_env(tmp_path), stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 600
    while not (events.exists() and '"type": "progress"' in events.read_text()):
        assert job.poll() is None and time.monotonic() < deadline, "the job never reached its first step"
        time.sleep(0.2)
    os.killpg(job.pid, signal.SIGTERM)
    assert job.wait(timeout=120) == 143
    run = session / "runs/r1"
    assert json.loads((run / "run.json").read_text())["status"] == "cancelled"
    (run / "job.json").write_text(json.dumps({"pid": job.pid}))
    assert runs.run_state(run)["status"] == "cancelled" and runs.interrupted_runs(session) == []


def test_full_fine_tune_mixes_in_general_data(tmp_path):
    from skills.train import general

    session = make_session(tmp_path, n_train=12, n_eval=2)
    save_spec(session / "training.yaml", TrainingPlan(
        technique="sft", adapter="full", data={"general_mix_ratio": 0.25},
        hyperparameters={"max_steps": 2, "batch_size": 4, "max_length": 96, "save_steps": 100, "learning_rate": 5e-5}))
    done = subprocess.run(_argv(session), cwd=REPO, env=_env(tmp_path), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [json.loads(l) for l in (session / "data/general.jsonl").read_text().splitlines()]
    assert len(rows) >= 20 and all(r["completion"][0]["content"] for r in rows)
    assert general.cache_file("embedded:SmolLM2-135M-Instruct").exists()
    assert (session / "runs/r1/final/model.safetensors").exists()
    mixed = general.mix([{"x": i} for i in range(30)], rows, 0.25)
    assert len(mixed) == 40 and sum("prompt" in r for r in mixed) == 10


def test_start_status_cancel_through_the_job_runner(tmp_path, monkeypatch):
    from assistant.jobs import JobRunner
    from skills.train import tools
    from test_train_fixtures import call, tool_ctx

    monkeypatch.setenv("TUNESMITH_THREADS", os.environ.get("TUNESMITH_THREADS", "2"))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    session = make_session(tmp_path, n_train=24, n_eval=2)
    runner = JobRunner(session)
    ctx = tool_ctx(session, jobs=runner, approved_waivers=["no_quality_report"])
    assert not call(tools.write_training_plan, ctx, adapter="lora", max_steps=200).is_error
    started = call(tools.start_training, ctx)
    assert not started.is_error, started.content
    job = runner.get(started.data["job_id"])
    assert call(tools.start_training, ctx).is_error, "a second run must not start while one trains"
    deadline = time.monotonic() + 600
    while not any(e.get("type") == "progress" for e in job.events()):
        assert job.is_running() and time.monotonic() < deadline, job.log_tail()
        time.sleep(0.5)
    status = call(tools.training_status, ctx)
    assert "running" in status.content and status.data["step"] >= 1
    cancelled = call(tools.cancel_training, ctx)
    assert "Cancelled" in cancelled.content
    assert job.status() == "cancelled"
    assert call(tools.training_status, ctx).data["status"] == "cancelled"


def test_reward_dry_run_on_base_model_answers(tmp_path, monkeypatch):
    from skills.train import tools
    from test_train_fixtures import call, tool_ctx

    monkeypatch.setenv("TUNESMITH_THREADS", os.environ.get("TUNESMITH_THREADS", "2"))
    session = make_session(tmp_path, n_train=32, n_eval=2, fmt="prompt_only")
    ctx = tool_ctx(session, approved_waivers=["no_quality_report"])
    assert not call(tools.write_training_plan, ctx).is_error
    assert not call(tools.write_reward, ctx).is_error
    result = call(tools.dry_run_reward, ctx, samples=8)
    assert not result.is_error, result.content
    report = json.loads((session / "runs/dryrun/report.json").read_text())
    assert report["samples"] == 8 and report["gold_mean"] == pytest.approx(1.0)
    assert report["empty_mean"] == 0.0 and report["ok"]
    assert "Distribution" in result.content
    from skills.train import guide
    from skills.guiding import GuideState

    assert guide.next_turn(GuideState(session, [], None, None)).tool == "measure_training_speed"
