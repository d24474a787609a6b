"""Offline planner for the evaluation step: write evaluation.yaml, run it, wait, show the report, move to export."""

from __future__ import annotations

from skills.evaluate.examples import latest_eval_id
from skills.guiding import GuideState, Turn

MINE = {"write_evaluation_spec", "run_evaluation", "wait_for_evaluation", "show_evaluation_report",
        "rate_answers", "finish_evaluation"}


def _running_eval(state: GuideState) -> str | None:
    """The newest evaluation that started but has no report yet."""
    latest = latest_eval_id(state.session_dir)
    if latest and not state.exists(f"evals/{latest}/report.json"):
        return latest
    return None


def next_turn(state: GuideState) -> Turn | None:
    last = state.last_tool
    if last is not None and last.name == "finish_evaluation" and not last.is_error:
        return None
    if last is not None and last.is_error and last.name in MINE:
        return Turn(text=f"That did not work: {last.content}", tool="ask_user",
                    arguments={"question": "What should I do?",
                               "choices": ["Try again", "Skip evaluation and go to export"]})
    if state.last_user is not None:
        words = state.last_user.lower()
        if "try again" in words:  # the last evaluation failed: start a new one, do not wait on the dead one
            return Turn(text="Starting the evaluation again: base model first, then the tuned model.", tool="run_evaluation")
        if "skip" in words or "export" in words:
            return Turn(text="Moving on to export.", tool="finish_evaluation") if latest_eval_id(
                state.session_dir, finished=True) else None
    if last is not None and last.name == "show_evaluation_report":
        return Turn(text="That is how the tuned model compares with the base model. You can rate about 20 answers "
                         "to check the judge (command palette, ctrl+p: \"Rate answers\"), or chat with both models "
                         "side by side (ctrl+p: \"Playground\"). Say `continue` when you are ready to export.")
    if last is not None and last.name == "wait_for_evaluation" and not last.data.get("running"):
        return Turn(text="Here is the full report.", tool="show_evaluation_report",
                    arguments={"eval_id": last.data.get("eval_id")} if last.data.get("eval_id") else {})
    if not state.exists("evaluation.yaml"):
        return Turn(text="Next I turn your success tenets into evaluation.yaml: a code metric or a judge rubric per "
                         "tenet, plus standard metrics that fit the task. The base model is scored first, then a "
                         "prompt-only baseline, then your tuned model.",
                    tool="write_evaluation_spec", arguments={"include_prompt_baseline": True})
    running = _running_eval(state)
    if running:
        return Turn(text="Following the evaluation job.", tool="wait_for_evaluation", arguments={"eval_id": running})
    finished = latest_eval_id(state.session_dir, finished=True)
    if finished is None or (last is not None and last.name == "write_evaluation_spec"):
        return Turn(text="Starting the evaluation job: base model first, then the tuned model.", tool="run_evaluation")
    if state.last_user is not None:
        return Turn(text="Moving on to export.", tool="finish_evaluation")
    return Turn(text="Here is the latest evaluation report.", tool="show_evaluation_report")
