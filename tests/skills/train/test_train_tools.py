"""Train-step tools without training: recommendation, plan sizing, quality gate, reward writing."""

from __future__ import annotations

import json
import shutil
import pytest

from assistant.agent import Agent
from assistant.events import ApprovalRequested, Decision
from assistant.runtime import collect_tools
from assistant.session import Workspace
from skills.settings import ToolSettings
from skills.train import tools
from skills.train.datafacts import inspect_data
from specs.quality import Finding, QualityReport
from specs.training import TrainingPlan
from specs.yamlio import load_spec
from test_train_fixtures import call, make_session, tool_ctx
from tests.fakes import ScriptedModel, call as model_calls, collect, say


def test_recommend_and_plan(tmp_path):
    session = make_session(tmp_path)
    ctx = tool_ctx(session)
    result = call(tools.recommend_technique, ctx)
    assert not result.is_error, result.content
    assert result.data["technique"] == "sft"
    assert "SFT" in result.content and "Adapter" in result.content

    preview = tools.write_training_plan.describe(ctx, tools.write_training_plan.validate({"adapter": "lora"}))
    assert "+technique: sft" in preview.diff and preview.estimate.seconds > 0
    result = call(tools.write_training_plan, ctx, adapter="lora")
    assert not result.is_error, result.content
    plan = load_spec(session / "training.yaml", TrainingPlan)
    facts = inspect_data(session / "data/train.jsonl")
    assert plan.technique == "sft" and plan.adapter == "lora"
    assert facts.token_quantile(0.99) <= plan.hyperparameters.max_length <= 256
    assert plan.hyperparameters.learning_rate == 3e-4
    assert plan.hyperparameters.max_steps >= 30
    assert plan.data.general_mix_ratio == 0.0
    assert plan.estimate and plan.estimate.total_seconds > 0

    call(tools.write_training_plan, ctx, adapter="full")
    plan = load_spec(session / "training.yaml", TrainingPlan)
    assert plan.data.general_mix_ratio > 0, "the forgetting guard is on for full fine-tunes"
    assert plan.hyperparameters.learning_rate == 1e-4


def test_big_model_refused(tmp_path):
    session = make_session(tmp_path, n_train=20)
    result = call(tools.write_training_plan, tool_ctx(session), base_model="meta-llama/Llama-3.1-70B-Instruct", adapter="full")
    assert result.is_error and "will not train here" in result.content


def test_quality_findings_block_until_waived(tmp_path):
    session = make_session(tmp_path, n_train=20)
    call(tools.write_training_plan, tool_ctx(session))
    report = QualityReport(findings=[Finding(code="duplicates", severity="high", message="40% duplicates"),
                                     Finding(code="label_imbalance", severity="medium", message="meh")])
    (session / "data/quality.json").write_text(report.model_dump_json())
    result = call(tools.start_training, tool_ctx(session))
    assert result.is_error and "duplicates" in result.content
    preview = tools.start_training.describe(tool_ctx(session), tools.start_training.validate({}))
    assert preview.findings and "duplicates" in preview.findings[0]
    assert "skills.train.job" in preview.command
    assert tools._blocking(tool_ctx(session, approved_waivers=["duplicates"])) == []
    assert tools._blocking(tool_ctx(session, approved_waivers=[preview.findings[0]])) == []
    tools._record_waivers(tool_ctx(session, approved_waivers=[preview.findings[0]]))
    assert QualityReport.model_validate_json((session / "data/quality.json").read_text()).blocking() == []


def test_missing_quality_report_blocks(tmp_path):
    session = make_session(tmp_path, n_train=20)
    call(tools.write_training_plan, tool_ctx(session))
    result = call(tools.start_training, tool_ctx(session))
    assert result.is_error and "no_quality_report" in result.content


def test_rl_needs_reward_and_dry_run(tmp_path):
    session = make_session(tmp_path, n_train=20, fmt="prompt_only")
    ctx = tool_ctx(session, approved_waivers=["no_quality_report"])
    assert call(tools.recommend_technique, ctx).data["technique"] == "rlvr"
    assert not call(tools.write_training_plan, ctx).is_error
    plan = load_spec(session / "training.yaml", TrainingPlan)
    assert plan.technique == "rlvr" and plan.adapter == "lora" and plan.reward == "reward.yaml"
    result = call(tools.start_training, ctx)
    assert result.is_error and "write_reward" in result.content
    preview = tools.write_reward.describe(ctx, tools.write_reward.validate({}))
    assert "def score" in preview.code and "correct_category" in preview.diff
    assert not call(tools.write_reward, ctx).is_error
    assert (session / "reward.py").exists()
    result = call(tools.start_training, ctx)
    assert result.is_error and "dry_run_reward" in result.content


def test_status_of_interrupted_run(tmp_path):
    session = make_session(tmp_path, n_train=20)
    run = session / "runs" / "run-x"
    (run / "checkpoints" / "checkpoint-4").mkdir(parents=True)
    (run / "checkpoints" / "checkpoint-4" / "trainer_state.json").write_text("{}")
    (run / "job.json").write_text(json.dumps({"pid": 999999999}))
    (run / "run.json").write_text(json.dumps({"status": "running", "total_steps": 10}))
    (run / "metrics.jsonl").write_text(json.dumps({"step": 5, "loss": 1.5}) + "\n")
    result = call(tools.training_status, tool_ctx(session))
    assert "interrupted" in result.content and "resume_run='run-x'" in result.content
    assert result.data["checkpoint"] == "checkpoint-4"


def test_wait_for_training_relays_events_for_the_progress_card(tmp_path):
    session = make_session(tmp_path, n_train=10)
    run = session / "runs" / "run-b"
    (run / "final").mkdir(parents=True)
    events = run / "events.jsonl"
    lines = [{"type": "start", "total_steps": 2}, {"type": "progress", "step": 1, "total_steps": 2, "loss": 2.5, "eta_seconds": 3.0},
             {"type": "checkpoint", "step": 1}, {"type": "progress", "step": 2, "total_steps": 2, "loss": 1.5}, {"type": "done"}]
    events.write_text("".join(json.dumps(l) + "\n" for l in lines))
    (run / "job.json").write_text(json.dumps({"pid": 999999999, "events": str(events)}))
    (run / "run.json").write_text(json.dumps({"status": "finished", "total_steps": 2}))
    (run / "metrics.jsonl").write_text(json.dumps({"step": 2, "loss": 1.5}) + "\n")
    seen = []
    result = call(tools.wait_for_training, tool_ctx(session, emit=seen.append))
    assert result.phase == "evaluate" and "finished" in result.content
    progress = [e for e in seen if e["type"] == "progress"]
    assert [(e["done"], e["total"], e["loss"]) for e in progress] == [(1, 2, 2.5), (2, 2, 1.5)]
    assert progress[0]["eta_s"] == 3.0
    assert any(e["type"] == "notice" and "checkpoint" in e["text"] for e in seen)


def test_training_budget_cuts_the_planned_steps(tmp_path):
    session = make_session(tmp_path)
    free = load_spec(session / "training.yaml", TrainingPlan) if (session / "training.yaml").exists() else None
    call(tools.write_training_plan, tool_ctx(session), adapter="lora")
    unbounded = load_spec(session / "training.yaml", TrainingPlan)
    sps = unbounded.estimate.seconds_per_step
    minutes = (20 + sps * 35) / 60  # room for 35 steps after loading
    result = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes)), adapter="lora")
    plan = load_spec(session / "training.yaml", TrainingPlan)
    assert free is None and unbounded.hyperparameters.max_steps > 35
    assert plan.hyperparameters.max_steps == 35 and "training budget" in result.content
    assert plan.estimate.total_seconds <= minutes * 60 + 1
    tiny = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=0.1)), adapter="lora")
    assert load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == 30
    assert "still runs over the budget" in tiny.content
    explicit = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes)), adapter="lora", max_steps=50)
    assert not explicit.is_error and load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == 50


def test_a_step_floor_keeps_a_slow_machine_from_cutting_the_training_below_it(tmp_path):
    # The same minutes on a machine twice as slow fit half the steps; --train-min-steps holds the cut at its floor,
    # says so, and never raises a plan that already asks for fewer steps.
    session = make_session(tmp_path)
    call(tools.write_training_plan, tool_ctx(session), adapter="lora")
    unbounded = load_spec(session / "training.yaml", TrainingPlan)
    sps, wanted = unbounded.estimate.seconds_per_step, unbounded.hyperparameters.max_steps
    assert wanted >= 40
    floor, fits = 34, wanted - 3
    minutes = (20 + sps * fits) / 60
    fast = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes, train_min_steps=floor)), adapter="lora")
    assert load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == fits and "over the budget" not in fast.content
    slow = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes / 2, train_min_steps=floor)), adapter="lora")
    assert load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == floor
    assert "set by --train-min-steps; it still runs over the budget" in slow.content
    without = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes / 2)), adapter="lora")
    half = int((minutes / 2 * 60 - 20) / sps)
    assert half < floor and load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == max(30, half)
    assert "set by --train-min-steps" not in without.content
    few = call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes / 2, train_min_steps=floor)),
               adapter="lora", max_steps=12)
    assert not few.is_error and load_spec(session / "training.yaml", TrainingPlan).hyperparameters.max_steps == 12


def test_a_warm_up_faster_than_the_guess_fits_the_budget_again_from_the_sized_plan(tmp_path):
    # The plan is cut to the budget at the guessed speed; the warm-up then measures steps three times as fast
    # (as measure_training_speed carries the estimate over): the steps go back up to what fits, not staying at
    # the guess's cut. A max_steps the person edited by hand stands.
    from skills.train.plan import fit_budget
    from specs.training import TimeEstimate

    session = make_session(tmp_path)
    call(tools.write_training_plan, tool_ctx(session), adapter="lora")
    sized = load_spec(session / "training.yaml", TrainingPlan)
    sps, wanted = sized.estimate.seconds_per_step, sized.hyperparameters.max_steps
    minutes = (20 + sps * 32) / 60
    call(tools.write_training_plan, tool_ctx(session, settings=ToolSettings(train_minutes=minutes)), adapter="lora")
    plan = load_spec(session / "training.yaml", TrainingPlan)
    assert plan.hyperparameters.max_steps == 32 and plan.estimate.cut_from_steps == wanted

    def measured(plan, seconds):
        return plan.model_copy(update={"estimate": TimeEstimate(
            seconds_per_step=seconds, total_seconds=20 + seconds * plan.hyperparameters.max_steps,
            cut_from_steps=plan.estimate.cut_from_steps, cut_to_steps=plan.estimate.cut_to_steps)}, deep=True)

    faster = measured(plan, sps / 3)
    note = fit_budget(faster, minutes)
    assert faster.hyperparameters.max_steps == min(wanted, int((minutes * 60 - 20) / (sps / 3)))
    assert faster.hyperparameters.max_steps > 32 and "measured speed" in note
    edited = measured(plan, sps / 3)
    edited.hyperparameters.max_steps = 31  # the person's own number
    assert fit_budget(edited, minutes) is None and edited.hyperparameters.max_steps == 31


def test_the_step_floor_is_a_setting_with_a_flag_and_an_environment_variable(tmp_path):
    from assistant.cli import build_parser
    from assistant.config import Settings, SettingsError

    args = build_parser().parse_args(["--workspace", str(tmp_path), "--train-min-steps", "60", "sessions"])
    assert Settings.from_args(args, env={}).for_tools().train_min_steps == 60
    assert Settings.load(env={"TUNESMITH_TRAIN_MIN_STEPS": "75"}).for_tools().train_min_steps == 75
    with pytest.raises(SettingsError, match="--train-min-steps or TUNESMITH_TRAIN_MIN_STEPS"):
        Settings.load(env={"TUNESMITH_TRAIN_MIN_STEPS": "0"})


class ChangesTheDataThenAllows:
    """The person at the approval card: while the card is open the gold answers give way to prompts only
    (another window, an editor), then they allow the plan the card shows."""

    asks_person = True

    def __init__(self, session, prompt_only_data) -> None:
        self.session, self.prompt_only_data = session, prompt_only_data
        self.requests: list[ApprovalRequested] = []

    async def decide(self, request: ApprovalRequested) -> Decision:
        self.requests.append(request)
        shutil.copytree(self.prompt_only_data, self.session / "data", dirs_exist_ok=True)
        return Decision("allow_once", by="person", source="person")


async def test_the_written_plan_is_the_plan_the_approval_card_showed(tmp_path):
    """write_training_plan ranks the techniques and sizes the plan once per call: the approval card's diff
    is byte for byte what lands in training.yaml, even when a ranking at write time would differ."""
    session = make_session(tmp_path)
    other = make_session(tmp_path / "other", n_train=20, fmt="prompt_only") / "data"
    opened = Workspace(tmp_path).open("s")
    opened.meta.phase = "train"
    opened.save_meta()
    model = ScriptedModel([model_calls("write_training_plan", {}), say("The plan is written.")])
    approver = ChangesTheDataThenAllows(session, other)
    events = await collect(Agent(opened, model, collect_tools(), approver=approver, system_prompt=lambda s: "test").send("plan it"))
    model.assert_all_used()
    [request] = approver.requests
    diff = request.preview["diff"]
    assert "+technique: sft" in diff and "Write training.yaml: SFT" in request.preview["summary"]
    shown = "".join(line[1:] for line in diff.splitlines(True)[2:] if line.startswith("+"))
    assert (session / "training.yaml").read_text(encoding="utf-8") == shown
    finished = [e for e in events if type(e).__name__ == "ToolFinished"]
    assert finished and not finished[0].is_error and "Wrote training.yaml: SFT" in finished[0].content
    # the premise holds: sized afresh from the data as it is now, the plan would be another one
    assert call(tools.write_training_plan, tool_ctx(session)).data["technique"] == "rlvr"
