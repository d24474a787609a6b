"""The sweep: arguments checked before approval, trials built from the plan, the early-stop rule, and a
real sweep of three tiny trials of the embedded model (one job through the engine's runner, each trial a
real TRL run scored on the held-out split), read back from sweep.json and from the MLflow store."""

from __future__ import annotations

import json
import os

import pytest
from pydantic import ValidationError

from assistant.agent import format_validation
from skills.toolkit import ToolError
from skills.train import sweep, tools
from skills.train.plan import LEARNING_RATES
from test_train_fixtures import call, make_session, tool_ctx


def invalid(**args) -> str:
    with pytest.raises(ValidationError) as caught:
        tools.run_sweep.validate(args)
    return format_validation(caught.value)


def test_arguments_that_cannot_make_a_sweep_are_refused_before_approval():
    too_many = invalid(learning_rate=[1e-4, 2e-4, 3e-4], lora_r=[4, 8, 16])
    assert "3 learning_rate x 3 lora_r make 9 trials" in too_many and f"at most {sweep.MAX_TRIALS}" in too_many
    assert "at least two values" in invalid(learning_rate=[2e-4])
    assert "at least two values" in invalid()
    assert "lists 0.0002 more than once" in invalid(learning_rate=[2e-4, 2e-4])
    assert "varies LoRA trials only" in invalid(adapter=["full"], lora_r=[4, 8])
    assert "`adapter.1`" in invalid(adapter=["lora", "qlora"])
    assert "`learning_rate`: Input should be a valid list" in invalid(learning_rate="2e-4")
    assert "`learning_rate.0`" in invalid(learning_rate=[0, 1e-4])
    assert "`trials`" in invalid(trials=3, learning_rate=[1e-4, 2e-4])
    # what an LLM often writes: numbers as strings inside the list are read as numbers
    assert tools.run_sweep.validate({"learning_rate": ["1e-4", "3e-4"]}).learning_rate == [1e-4, 3e-4]
    # LoRA ranks multiply only the LoRA trials: 2 x (2 ranks for lora + 1 for full) = 6
    assert tools.run_sweep.validate({"adapter": ["lora", "full"], "lora_r": [8, 16], "learning_rate": [1e-4, 2e-4]})


def test_early_stop_rule_on_recorded_numbers():
    assert not sweep.should_stop(0.1, None), "the first trial has nothing to fall behind"
    assert not sweep.should_stop(None, 0.5), "an unscored check never stops a trial"
    assert sweep.should_stop(0.30, 0.40, margin=0.05)
    assert not sweep.should_stop(0.36, 0.40, margin=0.05), "within the margin it goes on"
    assert not sweep.should_stop(0.50, 0.40, margin=0.05)
    assert sweep.should_stop(0.0, 0.0, margin=-0.5), "a negative margin stops every later trial"


def test_best_trial_prefers_score_then_fewer_cpu_minutes_and_ignores_stopped_trials():
    trials = [{"id": "t1", "score": 0.50, "cpu_minutes": 3.0, "status": "finished"},
              {"id": "t2", "score": 0.502, "cpu_minutes": 1.0, "status": "finished"},
              {"id": "t3", "score": 0.90, "cpu_minutes": 0.5, "status": "stopped_early"},
              {"id": "t4", "score": None, "status": "finished"}]
    assert sweep.best_trial(trials)["id"] == "t2"
    assert sweep.best_trial(trials[2:3])["id"] == "t3", "when every trial stopped early the best of them"
    assert sweep.best_trial([]) is None


@pytest.fixture
def planned(tmp_path):
    session = make_session(tmp_path, n_train=60, n_eval=20)
    ctx = tool_ctx(session, approved_waivers=["no_quality_report"])
    written = call(tools.write_training_plan, ctx, adapter="lora")
    assert not written.is_error, written.content
    return session, ctx


def test_trials_come_from_the_plan_and_the_card_shows_each_with_its_time(planned):
    session, ctx = planned
    args = tools.run_sweep.validate({"adapter": ["lora", "full"], "lora_r": [4, 8]})
    card = tools.run_sweep.describe(ctx, args)
    assert "3 short SFT trials" in card.summary and "correct_category on 20 held-out records" in card.summary
    for line in ("t1: adapter lora, lora_r 4", "t2: adapter lora, lora_r 8", "t3: adapter full"):
        assert line in card.summary
    assert card.estimate.seconds > 3 * 20 and "skills.train.sweep_job" in card.command
    unwaived = tools.run_sweep.describe(tool_ctx(session), args)
    assert "no_quality_report" in " ".join(unwaived.findings), "the data gate of training applies to a sweep"
    plan = tools._plan(ctx)
    trials = sweep.build_trials(plan, sweep.grid_of(args.model_dump()), steps=6)
    full = trials[2]["overrides"]
    assert full["learning_rate"] == LEARNING_RATES[("sft", "full")] and "lora_r" not in full, "a full trial gets the full fine-tune's rate"
    assert all(t["overrides"]["max_steps"] == 6 for t in trials)


def test_a_grid_that_varies_nothing_in_this_plan_or_cannot_fit_the_cap_is_refused(planned):
    session, ctx = planned
    call(tools.write_training_plan, ctx, adapter="full")
    with pytest.raises(ToolError, match="1 distinct trials with this plan"):
        tools.run_sweep.describe(ctx, tools.run_sweep.validate({"lora_r": [4, 8]}))
    result = call(tools.run_sweep, ctx, learning_rate=[1e-5, 5e-5], max_steps=[100_000])
    assert result.is_error and "give max_steps of at most" in result.content
    assert not (session / "sweeps").exists(), "nothing started"


@pytest.mark.slow
def test_real_sweep_of_three_tiny_trials_scored_held_out_with_mlflow_children(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setattr(sweep, "STOP_MARGIN", -2.0)  # every trial after the first is behind at its check
    monkeypatch.setattr(sweep, "EVAL_LIMIT", 4)
    monkeypatch.setattr(sweep, "TRIAL_MINUTES", 60.0)  # a busy machine must not cut these trials short
    session = make_session(tmp_path, n_train=16, n_eval=4)
    ctx = tool_ctx(session, approved_waivers=["no_quality_report"])
    assert not call(tools.write_training_plan, ctx, adapter="lora", batch_size=2).is_error
    events = []
    ctx.emit = events.append
    result = call(tools.run_sweep, ctx, learning_rate=[3e-4, 1e-3, "3e-3"], max_steps=[2])
    folder = session / "sweeps" / result.data.get("sweep_id", "none")
    assert not result.is_error, result.content + "\n" + tools.runs.log_tail(folder, ctx.jobs)

    swept = json.loads((session / "sweep.json").read_text())
    assert swept["status"] == "finished" and swept["metric"] == "correct_category" and swept["eval_records"] == 4
    first, *later = swept["trials"]
    assert [t["settings"]["learning_rate"] for t in swept["trials"]] == [3e-4, 1e-3, 3e-3]
    assert first["status"] == "finished" and first["steps_done"] == 2 and first["check"]["stop"] is False
    for index, trial in enumerate(later, start=1):
        check = trial["check"]
        best = max(t["check"]["score"] for t in swept["trials"][:index])
        assert check["step"] == 1 and check["best"] == best
        assert check["stop"] == sweep.should_stop(check["score"], check["best"], swept["stop_margin"]) is True
        assert trial["status"] == "stopped_early" and trial["steps_done"] == 1 and trial["score"] == check["score"]
    for trial in swept["trials"]:
        assert 0.0 <= trial["score"] <= 1.0 and set(trial["scores"]) == set(swept["metrics"])
        assert trial["cpu_minutes"] > 0 and trial["wall_seconds"] > 0
        metrics = [json.loads(line) for line in (folder / trial["id"] / "metrics.jsonl").read_text().splitlines()]
        assert [m["step"] for m in metrics] == list(range(1, trial["steps_done"] + 1))
    assert swept["best"] == "t1" and "write_training_plan(sweep_trial=1)" in result.content
    progress = [e for e in events if e["type"] == "progress"]
    assert {e["task"] for e in progress} >= {"sweep trial 1/3 (t1)", "sweep trial 3/3 (t3)"}
    assert any("stops early" in e.get("text", "") for e in events if e["type"] == "notice")

    from mlflow import MlflowClient

    client = MlflowClient(os.environ["MLFLOW_TRACKING_URI"])
    parent = client.get_run(swept["mlflow_run_id"])
    assert parent.data.tags["tunesmith.kind"] == "sweep" and parent.data.tags["tunesmith.best_trial"] == "t1"
    assert parent.data.params["grid.learning_rate"] == "0.0003,0.001,0.003"
    children = client.search_runs([parent.info.experiment_id], f"tags.`mlflow.parentRunId` = '{parent.info.run_id}'")
    by_trial = {run.data.tags["tunesmith.trial"]: run for run in children}
    assert set(by_trial) == {"t1", "t2", "t3"}
    for trial in swept["trials"]:
        child = by_trial[trial["id"]]
        assert child.info.run_id == trial["mlflow_run_id"] and child.info.status == "FINISHED"
        assert child.data.metrics["score"] == pytest.approx(trial["score"])
        assert float(child.data.params["hyperparameters.learning_rate"]) == trial["settings"]["learning_rate"]
        assert child.data.tags["tunesmith.stopped_early"] == str(trial["status"] == "stopped_early").lower()
        assert "loss" in child.data.metrics

    applied = call(tools.write_training_plan, ctx, sweep_trial=1)
    assert not applied.is_error, applied.content
    plan = tools._plan(ctx)
    assert plan.hyperparameters.learning_rate == 3e-4 and plan.adapter == "lora" and plan.hyperparameters.batch_size == 2
    assert plan.hyperparameters.max_steps != 2, "the trials' length is not a setting this sweep compared"
