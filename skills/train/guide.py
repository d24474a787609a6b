"""Offline planner for the train step: recommend, write the plan, build and dry-run the reward for
RL, measure speed, start training after approval, wait for it, report, then hand over to evaluation.

Each call reads the session folder afresh, so it picks up after a restart: a run still going is
waited for, a run whose job died is resumed from its last checkpoint.
"""

from __future__ import annotations

from skills.guiding import GuideState, Turn
from skills.common import jobs
from skills.train import runs

STOP_WORDS = ("stop", "later", "not now")


def _plan(state: GuideState):
    from specs.training import TrainingPlan
    from specs.yamlio import load_spec

    try:
        return load_spec(state.session_dir / "training.yaml", TrainingPlan)
    except Exception:  # noqa: BLE001 - a broken plan is reported by the tools that read it
        return None


def _reward_checked(state: GuideState) -> dict | None:
    report = jobs.read_json(state.session_dir / "runs/dryrun/report.json")
    if not report:
        return None
    from specs.lineage import file_hash

    return report if report.get("reward_sha256") == file_hash(state.session_dir / "reward.py") else None


def next_turn(state: GuideState) -> Turn | None:
    last = state.last_tool
    session = state.session_dir
    if state.last_user and any(w in state.last_user.lower() for w in STOP_WORDS) and not last:
        return Turn(text="Stopping here. Say 'go on' when you want to continue with training.")

    all_runs = runs.list_runs(session)
    states = [runs.run_state(p, state.jobs) for p in all_runs]
    running = [s for s in states if s["running"]]
    if running:
        return Turn(text=f"Training run {running[-1]['run_id']} is going; I will follow it to the end.",
                    tool="wait_for_training", arguments={"run_id": running[-1]["run_id"]})
    if any(s["status"] == "finished" for s in states):
        return None  # a trained model exists: evaluation comes next
    interrupted = [s for s in states if s["status"] == "interrupted"]
    if interrupted and not (last and last.name == "start_training" and last.is_error):
        run_id = interrupted[-1]["run_id"]
        return Turn(text=f"Run {run_id} stopped at step {interrupted[-1]['step']} before finishing; "
                         f"I will resume it from its last checkpoint ({interrupted[-1]['checkpoint'] or 'none yet: from the start'}).",
                    tool="start_training", arguments={"resume_run": run_id})

    if last is not None and last.is_error:
        if last.name == "wait_for_training":
            return Turn(text=f"The training run did not finish: {last.content}", tool="ask_user",
                        arguments={"question": "What should I do?", "choices": ["Resume or restart the training", "Stop here"]})
        return Turn(text=f"That did not work: {last.content}", tool="ask_user",
                    arguments={"question": "How should I go on?", "choices": ["Try again", "I will edit the files myself", "Stop here"]})

    if not state.exists("training.yaml"):
        if last is None or last.name != "recommend_technique":
            return Turn(text="The data is ready. First, which training technique fits this use case and data:",
                        tool="recommend_technique")
        return Turn(text="I will write training.yaml with the recommended technique and settings sized to this machine "
                         "and the data; you can edit it before training.", tool="write_training_plan")
    plan = _plan(state)
    if plan is None:
        return Turn(text="training.yaml has problems; I will rewrite it from the recommendation.", tool="write_training_plan")

    if plan.needs_reward:
        if not state.exists("reward.yaml") or not state.exists("reward.py"):
            return Turn(text="RL needs a reward. I will build it from the success tenets: reward.yaml and the generated reward.py.",
                        tool="write_reward")
        checked = _reward_checked(state)
        if checked is None:
            return Turn(text="Before training, the reward is tried on the base model's answers to 16 prompts, "
                             "to see that it separates good answers from bad ones.", tool="dry_run_reward")
        if not checked.get("ok"):
            flags = "; ".join(checked.get("flags", []))
            return Turn(text=f"The reward dry run found a problem: {flags}. Edit reward.yaml or reward.py, "
                             "then I will regenerate and dry-run it again.", tool="ask_user",
                        arguments={"question": "How should I go on?", "choices": ["Rebuild the reward from the tenets", "I will edit the reward myself", "Stop here"]})

    measured = plan.estimate is not None and "heuristic" not in (plan.estimate.measured_on or "heuristic")
    if not measured and not (last and last.name == "measure_training_speed"):
        return Turn(text="I will time a few real training steps on this machine so the estimate is a measurement, not a guess.",
                    tool="measure_training_speed")
    if last is not None and last.name == "run_sweep" and not last.is_error and last.data.get("best_trial"):
        number = last.data["best_trial"]
        return Turn(text=f"Trial {number} did best on the held-out records; I will put its settings into training.yaml "
                         "(you see the diff first).", tool="write_training_plan", arguments={"sweep_trial": number})
    if measured and _sweep_asked(state):
        rate = plan.hyperparameters.learning_rate
        return Turn(text="I will compare three learning rates around the plan's in short real trials, each scored on the "
                         "held-out records; the card shows every trial and its time.",
                    tool="run_sweep", arguments={"learning_rate": [round(rate / 2, 8), rate, round(rate * 2, 8)]})
    if last is not None and last.name == "start_training" and not last.is_error:
        run_id = last.data.get("run_id")
        return Turn(text="Training started. I will follow it and report loss and ETA as it goes.",
                    tool="wait_for_training", arguments={"run_id": run_id} if run_id else {})
    return Turn(text=f"Everything is ready: {plan.technique.label} with {plan.adapter}, {plan.hyperparameters.max_steps} steps. "
                     "Starting training needs your approval.", tool="start_training")


def _sweep_asked(state: GuideState) -> bool:
    """Whether the person asked for a sweep since the last one ran."""
    asked = False
    for message in state.messages:
        if message.get("role") == "user" and "sweep" in str(message.get("content") or "").lower():
            asked = True
        elif message.get("role") == "tool" and message.get("name") == "run_sweep":
            asked = False
    return asked
