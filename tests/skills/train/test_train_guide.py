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


def test_a_sweep_the_person_asks_for_runs_before_training_and_its_best_trial_is_applied(tmp_path):
    session = make_session(tmp_path, n_train=20)
    call(tools.write_training_plan, tool_ctx(session))
    plan = load_spec(session / "training.yaml", TrainingPlan)
    plan.estimate = TimeEstimate(seconds_per_step=3.0, total_seconds=200, measured_on="x86_64 2 CPU threads")
    save_spec(session / "training.yaml", plan)
    asked = [{"role": "user", "content": "Can you run a quick sweep first?"}]
    turn = guide.next_turn(GuideState(session, asked, asked[0]["content"], None))
    rate = plan.hyperparameters.learning_rate
    assert turn.tool == "run_sweep" and turn.arguments == {"learning_rate": [rate / 2, rate, rate * 2]}
    assert tools.run_sweep.validate(turn.arguments), "the guide's call passes the tool's checks"
    ran = asked + [{"role": "tool", "name": "run_sweep", "content": "Best: t2."}]
    turn = guide.next_turn(GuideState(session, ran, None, LastTool("run_sweep", "Best: t2.", False, {"best_trial": 2})))
    assert turn.tool == "write_training_plan" and turn.arguments == {"sweep_trial": 2}
    applied = ran + [{"role": "tool", "name": "write_training_plan", "content": "Wrote training.yaml"}]
    turn = guide.next_turn(GuideState(session, applied, None, LastTool("write_training_plan", "Wrote", False)))
    assert turn.tool == "start_training", "the sweep is not asked for twice"
