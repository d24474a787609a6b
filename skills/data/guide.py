"""The offline planner of the data step: seeds, data_generation.yaml, generation, the quality gate.

Reads the session folder and the last tool result afresh each turn (so it works after a resume):
draft seeds -> show them -> write data_generation.yaml -> generate (with approval) -> show the
quality report -> fix or waive blocking findings (the person decides) -> move on to training.
"""

from __future__ import annotations

from skills.guiding import GuideState, Turn

CONTINUE = "Looks good, continue"
REGENERATE = "Regenerate the data"
WAIVE = "Waive the blocking findings"
EDIT_SPEC = "I will edit data_generation.yaml myself"
GATE_QUESTION = "Training is blocked by the quality report. What should I do?"
SEED_QUESTION = "Are these seed examples right?"
RESUME = "Resume generation"
RESUME_QUESTION = "Generation stopped before the end. Resume it?"


def _said(state: GuideState, *words: str) -> bool:
    text = (state.last_user or "").lower()
    return any(w.lower() in text for w in words)


def _running(state: GuideState) -> bool:
    from synth.generate import generation_running

    return generation_running(state.session_dir)


def _job_running(state: GuideState) -> bool:
    """The background data job (teacher or paraphrase) is still running."""
    from skills.data.tools import JOB_DIR
    from skills.train.runs import job_running

    folder = state.session_dir / JOB_DIR
    return (folder / "job.json").exists() and job_running(folder)


def _blocking(state: GuideState) -> list:
    from synth.quality import blocking_findings

    return blocking_findings(state.session_dir)


def next_turn(state: GuideState) -> Turn | None:
    last = state.last_tool
    if last is not None and last.name == "finish_data_step" and not last.is_error:
        return None
    if last is not None and last.is_error:
        if "already running" in last.content:
            return Turn(text="Data generation is still running as a job; its progress shows live. "
                             "Say continue when it has finished.")
        if "reject" in last.content.lower() or "not allowed" in last.content.lower():
            return Turn(text="Understood, I did not do that. Tell me what to change, or say continue.")
        return Turn(text=f"That did not work: {last.content}", tool="ask_user",
                    arguments={"question": "What should I do?", "choices": [REGENERATE, EDIT_SPEC, "Stop here"]})
    if _said(state, "stop here"):
        return Turn(text="Stopping the data step here. Say continue when you want to go on.")
    if _job_running(state):
        if _said(state, "cancel"):
            return Turn(text="Cancelling the generation job; what it made is kept.", tool="cancel_data_generation")
        if last is not None and last.name == "wait_for_data_generation":
            return Turn(text="The generation job goes on in the background. Say continue to follow it again, "
                             "or cancel generation to stop it.")
        return Turn(text="Following the data generation job; its progress shows below (esc stops watching, "
                         "the Cancel button stops the job).", tool="wait_for_data_generation")
    if last is not None and last.name in ("generate_data", "wait_for_data_generation", "cancel_data_generation") \
            and last.data.get("status") == "cancelled":
        return Turn(text=last.content, tool="ask_user",
                    arguments={"question": RESUME_QUESTION, "choices": [RESUME, "Stop here"]})

    if not state.exists("data/examples.jsonl") and not state.exists("data/imported.jsonl"):
        return Turn(text="The use case is approved. I will draft seed examples from it: one or more per label or "
                         "case, for you to check and edit.", tool="draft_seed_examples", arguments={"count": 12})
    if last is not None and last.name == "draft_seed_examples":
        return Turn(tool="ask_user", text="You can edit, add and delete rows in the seed table (f2 opens it) or in "
                                          "data/examples.jsonl.",
                    arguments={"question": SEED_QUESTION, "choices": [CONTINUE, "Draft them again"]})
    if _said(state, "draft them again"):
        return Turn(text="Drafting new seed examples.", tool="draft_seed_examples", arguments={"count": 12})

    if not state.exists("data_generation.yaml"):
        return Turn(text="Next, data_generation.yaml: how many records, which diversity axes, which generator and "
                         "which quality limits. Defaults come from the use case; you can edit the file.",
                    tool="write_data_generation_spec")
    if not state.exists("data/train.jsonl") or _said(state, "regenerate"):
        if _running(state):
            return Turn(text="Data generation is running in another process for this session. Say continue when "
                             "it has ended.")
        if last is not None and last.name == "generate_data" and not _said(state, "resume"):
            return Turn(text="Generation did not finish. Say resume to continue it, or edit data_generation.yaml.")
        return Turn(text="Generating the data now: every record is verified against the use case and the "
                         "quality report follows.", tool="generate_data")
    if not state.exists("data/quality.json"):
        return Turn(text="Scoring the data.", tool="score_data")

    blocking = _blocking(state)
    if blocking:
        if _said(state, "waive"):
            return Turn(text="Recording your waiver in data/quality.json.", tool="waive_findings",
                        arguments={"codes": [f.code for f in blocking if not f.code.startswith(("no_", "stale_"))],
                                   "comment": (state.last_user or "waived by the person").strip()[:300]})
        if any(f.code == "stale_quality_report" for f in blocking):
            return Turn(text="The data files changed since the last report; scoring them again.", tool="score_data")
        if _said(state, "edit"):
            return Turn(text="Edit data_generation.yaml (more records, more axis values, another generator), "
                             "then say regenerate.")
        lines = "\n".join(f"- {f.code}: {f.message}" for f in blocking)
        return Turn(text=f"These findings block training:\n{lines}", tool="ask_user",
                    arguments={"question": GATE_QUESTION, "choices": [REGENERATE, WAIVE, EDIT_SPEC]})
    if last is not None and last.name in ("generate_data", "score_data", "waive_findings"):
        return Turn(text="The data passes the quality gate; moving on to training.", tool="finish_data_step")
    return Turn(text="The data is ready; moving on to training.", tool="finish_data_step")
