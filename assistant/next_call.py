"""The likely next call of a step, read from the session's files alone: what a headless run names when an LLM
planner ended its turn without a question or a call.

Small local models (1.5B) often stop with an apology or a summary where the playbook says which tool comes next;
naming that tool, with the arguments the files give, is what gets them moving. It is a hint, not a decision:
the model still calls the tool, and every gate still applies. The guided planner does not use it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _use_case(folder: Path) -> Any | None:
    from specs.use_case import UseCaseSpec
    from specs.yamlio import SpecError, load_spec

    try:
        return load_spec(folder / "use_case.yaml", UseCaseSpec)
    except (SpecError, OSError):  # a broken or missing file: the step's own tools say what is wrong
        return None


def _proposal(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "data" / "import_proposal.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _last_person_words(folder: Path) -> str:
    """The last message the person (or a headless answer) wrote, not counting tunesmith's hidden notes."""
    try:
        lines = (folder / "conversation.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("type") == "user" and not record.get("hidden"):
            return str((record.get("message") or {}).get("content") or "")
    return ""


APPROVING = ("approve", "yes", "looks good", "ok", "lgtm")

_MISSING_QUESTIONS = {
    "the labels": "Which labels should the model choose from? List them, separated by commas.",
    "the fields": "Which fields should the model extract? List them, separated by commas.",
    "the tool names": "Which tools (functions) may the model call? List their names, separated by commas.",
    "what kind of task": "What should the model do with each input: put it into a category, extract fields, "
                         "summarize, answer questions, rewrite, or write something new?",
}


def _unanswered_draft_error(folder: Path) -> str | None:
    """The question draft_use_case's last error said to ask the person, when nobody has answered it since."""
    try:
        lines = (folder / "conversation.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("type") == "user" and not record.get("hidden"):
            content = str((record.get("message") or {}).get("content") or "")
            if not content.lower().startswith("continue"):
                return None  # the person said something after it: draft again with their answer
        message = record.get("message") or {}
        if record.get("type") == "tool" and message.get("name") == "draft_use_case" and record.get("is_error"):
            text = str(message.get("content") or "")
            return next((q for key, q in _MISSING_QUESTIONS.items() if key in text and "ask_user" in text), None)
    return None


def _use_case_step(folder: Path) -> str | None:
    if not (folder / "use_case.yaml").exists():
        question = _unanswered_draft_error(folder)
        if question:  # the draft said what is missing: ask it, then draft again with the answer
            return (f"ask_user(question={json.dumps(question)}), then draft_use_case(description=<the person's first "
                    "message and their answer, word for word>)")
        return "draft_use_case(description=<the person's first message, word for word>)"
    spec = _use_case(folder)
    if spec is None or spec.status == "approved":
        return None
    if _last_person_words(folder).strip().lower().startswith(APPROVING):
        return "approve_use_case()"
    return ('ask_user(question="Do you approve use_case.yaml as it is now?", choices=["Approve it", '
            '"Change something"])')


def _generating(folder: Path) -> bool:
    from synth.generate import LOCK, generation_running

    return (folder / LOCK).exists() and generation_running(folder)  # no lock file: none ran, and none is made here


def _data_step(folder: Path) -> str | None:
    spec = _use_case(folder)
    own = getattr(spec, "own_data", None)
    data = folder / "data"
    imported = (data / "imported.jsonl").exists()
    if own is not None and own.has_data and own.path and not imported:
        if own.kind == "reference_document":
            if not (folder / "data_generation.yaml").exists():
                return f"attach_document(path={json.dumps(own.path)})"
        else:
            proposal = _proposal(folder)
            if proposal is None:
                return f"inspect_data_file(path={json.dumps(own.path)})"
            return (f"import_data(path={json.dumps(proposal.get('path', own.path))}, "
                    f"mapping={json.dumps(proposal.get('mapping') or {})}) once the person agrees to that mapping")
    if not (data / "examples.jsonl").exists() and not imported:
        return "draft_seed_examples()"
    if not (folder / "data_generation.yaml").exists():
        return "write_data_generation_spec()"
    if _generating(folder):
        return "wait_for_data_generation() (the data job is running)"
    if not (data / "train.jsonl").exists() or _newer(folder / "data_generation.yaml", data / "train.jsonl"):
        return "generate_data() (then wait_for_data_generation() while its job runs)"
    if not (data / "quality.json").exists():
        return "score_data()"
    blocking = _blocking(folder)
    if blocking:
        code, message = blocking
        if code == "too_few_records":
            return (f'write_data_generation_spec(changes={{"train_count": {_enough(data, message)}}}), then generate_data() '
                    f"(the quality gate blocks: {message})")
        return (f"show_quality_report() and fix what it names (the quality gate blocks: {code}: {message}); only the "
                "person can waive a finding")
    return "show_quality_report(), then finish_data_step() once nothing blocks"


def _newer(path: Path, than: Path) -> bool:
    try:
        return path.stat().st_mtime > than.stat().st_mtime
    except OSError:
        return False


def _enough(data: Path, message: str) -> int:
    """How many training records to ask for so that, at the share the last generation kept, the gate's minimum is
    met (at most five times what was asked)."""
    import math
    import re

    needed = re.search(r"at least (\d+)", message)
    floor = int(needed.group(1)) if needed else 50
    try:
        made = json.loads((data / "generation.json").read_text(encoding="utf-8"))
        asked, kept = int(made["requested"]["train"]), int(made["train_records"])
    except (OSError, ValueError, KeyError, TypeError):
        return 2 * floor
    if kept <= 0:
        return 5 * max(asked, floor)
    return min(5 * asked, max(floor, math.ceil(floor * asked / kept * 1.2)))


def _blocking(folder: Path) -> tuple[str, str] | None:
    """The first finding that blocks the quality gate (synth.quality.blocking_findings), as (code, message)."""
    from synth.quality import blocking_findings

    found = blocking_findings(folder)
    return (found[0].code, found[0].message) if found else None


def _succeeded_in_step(folder: Path) -> set[str]:
    """The tools that succeeded since the session last entered the step it is in (its log)."""
    try:
        lines = (folder / "conversation.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    done: set[str] = set()
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        if record.get("type") == "phase":
            done = set()
        elif record.get("type") == "tool" and not record.get("is_error"):
            done.add(str((record.get("message") or {}).get("name") or ""))
    return done


def _train_step(folder: Path) -> str | None:
    done = _succeeded_in_step(folder)
    if not (folder / "training.yaml").exists():
        if "recommend_technique" in done:  # the plan takes the recommendation's choices when they are left out
            return "write_training_plan() with no arguments (the recommendation decides them)"
        return "recommend_technique(), then write_training_plan()"
    if "start_training" in done:
        return "wait_for_training() (the training job is running)"
    return "start_training(), then wait_for_training()"


def _eval_failed(folder: Path) -> str | None:
    """The error an evaluation job wrote to its events, if it wrote one."""
    try:
        lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in reversed(lines):
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict) and event.get("type") == "error":
            return str(event.get("message") or "it failed")
    return None


def _evaluate_step(folder: Path) -> str | None:
    from skills.evaluate.examples import latest_eval_id

    if not (folder / "evaluation.yaml").exists():
        return "write_evaluation_spec()"
    latest = latest_eval_id(folder)
    if latest is None:
        return "run_evaluation(), then wait_for_evaluation()"
    if not (folder / "evals" / latest / "report.json").exists():
        failed = _eval_failed(folder / "evals" / latest)
        if failed:
            return f"run_evaluation() again once the cause is mended (evaluation {latest} failed: {failed[:200]})"
        return "wait_for_evaluation() (the evaluation job is running)"
    if "show_evaluation_report" not in _succeeded_in_step(folder):
        return "show_evaluation_report(), then finish_evaluation()"
    return "finish_evaluation() (the report has been shown)"


def _export_step(folder: Path) -> str | None:
    if not (folder / "export.yaml").exists():
        return "write_export_spec()"
    return "export_model()"


STEPS = {"use_case": _use_case_step, "data": _data_step, "train": _train_step, "evaluate": _evaluate_step,
         "export": _export_step}


def next_call(session_dir: str | Path, phase: str) -> str | None:
    """The call the step's files point to next, as a line of text, or None when they do not tell."""
    step = STEPS.get(phase)
    return step(Path(session_dir)) if step is not None else None
