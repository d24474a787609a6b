"""The offline train guide walks the step from the files in the session folder."""

from __future__ import annotations

import json

from skills.guiding import GuideState, LastTool
from skills.train import guide, tools
from specs.training import TimeEstimate, TrainingPlan
from specs.yamlio import load_spec, save_spec
from test_train_fixtures import call, make_session, tool_ctx


def _state(session, last=None, data=None, error=False):
    tool = LastTool(last, "ok", error, data or {}) if last else None
    return GuideState(session, [], None, tool)


def test_sft_path(tmp_path):
    session = make_session(tmp_path, n_train=20)
    assert guide.next_turn(_state(session)).tool == "recommend_technique"
    assert guide.next_turn(_state(session, "recommend_technique")).tool == "write_training_plan"
    call(tools.write_training_plan, tool_ctx(session))
    assert guide.next_turn(_state(session, "write_training_plan")).tool == "measure_training_speed"
    plan = load_spec(session / "training.yaml", TrainingPlan)
    plan.estimate = TimeEstimate(seconds_per_step=3.0, total_seconds=200, measured_on="x86_64 2 CPU threads")
    save_spec(session / "training.yaml", plan)
    assert guide.next_turn(_state(session, "measure_training_speed")).tool == "start_training"
    turn = guide.next_turn(_state(session, "start_training", {"run_id": "run-1"}))
    assert turn.tool == "wait_for_training" and turn.arguments == {"run_id": "run-1"}


def test_rl_path_needs_reward_then_dry_run(tmp_path):
    session = make_session(tmp_path, n_train=20, fmt="prompt_only")
    call(tools.write_training_plan, tool_ctx(session))
    assert guide.next_turn(_state(session, "write_training_plan")).tool == "write_reward"
    call(tools.write_reward, tool_ctx(session))
    assert guide.next_turn(_state(session, "write_reward")).tool == "dry_run_reward"


def test_interrupted_run_is_resumed_and_finished_run_ends_the_step(tmp_path):
    session = make_session(tmp_path, n_train=20)
    call(tools.write_training_plan, tool_ctx(session))
    run = session / "runs" / "run-a"
    run.mkdir(parents=True)
    (run / "job.json").write_text(json.dumps({"pid": 999999999}))
    (run / "run.json").write_text(json.dumps({"status": "running", "total_steps": 10}))
    turn = guide.next_turn(_state(session))
    assert turn.tool == "start_training" and turn.arguments == {"resume_run": "run-a"}
    (run / "run.json").write_text(json.dumps({"status": "finished", "total_steps": 10}))
    (run / "final").mkdir()
    assert guide.next_turn(_state(session)) is None


def test_error_asks_the_person(tmp_path):
    session = make_session(tmp_path, n_train=20)
    turn = guide.next_turn(_state(session, "write_training_plan", error=True))
    assert turn.tool == "ask_user"
