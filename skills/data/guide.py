"""The offline planner of the data step: the person's data, seeds, data_generation.yaml, generation, the gate.

Reads the session folder and the last tool result afresh each turn (so it works after a resume):
the person's own data first when they have some (inspect the file, confirm the mapping and format,
import it) -> else draft seeds (offline only where a shipped template fits; otherwise say what is
needed) -> show them -> write data_generation.yaml -> generate (with approval) -> show the quality
report -> fix or waive blocking findings (the person decides) -> move on to training.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from skills.guiding import GuideState, Turn

CONTINUE = "Looks good, continue"
REGENERATE = "Regenerate the data"
WAIVE = "Waive the blocking findings"
EDIT_SPEC = "I will edit data_generation.yaml myself"
GATE_QUESTION = "Training is blocked by the quality report. What should I do?"
SEED_QUESTION = "Are these seed examples right?"
RESUME = "Resume generation"
RESUME_QUESTION = "Generation stopped before the end. Resume it?"
OWN_DATA = "Import my data file"
OWN_DATA_QUESTION = "Where is your data? Type the path of the file or folder (JSONL, CSV, parquet or a saved dataset folder)."
IMPORT_YES = "Yes, import it"
CHANGE_MAPPING = "Change the mapping"
WITHOUT_DATA = "Draft examples without my data"
OWN_EXAMPLES = "I will add examples myself"
IMPORT_QUESTION = "Import it like this?"
NEEDS_QUESTION = "How will you give me examples?"
_PATH = re.compile(r"""(?:^|[\s:'"`(])((?:~|\.{1,2})?/?[\w.\-~/]+\.(?:jsonl|ndjson|json|csv|tsv|parquet)|(?:~|/)[\w.\-~/]+)""")


def _said(state: GuideState, *words: str) -> bool:
    text = (state.last_user or "").lower()
    return any(w.lower() in text for w in words)


def _running(state: GuideState) -> bool:
    from synth.generate import generation_running

    return generation_running(state.session_dir)


def _job_running(state: GuideState) -> bool:
    """The background data job (teacher or paraphrase) is still running."""
    from skills.data.tools_generation import JOB_DIR
    from skills.common.jobs import job_running

    folder = state.session_dir / JOB_DIR
    return (folder / "job.json").exists() and job_running(folder, state.jobs)


def _blocking(state: GuideState) -> list:
    from synth.quality import blocking_findings

    return blocking_findings(state.session_dir)


def _own_data(state: GuideState):
    """What the use case says about the person's own data (None when it says nothing)."""
    from specs.errors import SpecError
    from specs.use_case import UseCaseSpec
    from specs.yamlio import load_spec

    try:
        use_case = load_spec(state.session_dir / "use_case.yaml", UseCaseSpec)
    except (SpecError, OSError):
        return None, None
    return use_case, use_case.own_data


def _path_in(state: GuideState, text: str | None) -> str | None:
    """A file or folder the person named that exists (absolute, or relative to the session or current folder)."""
    for match in _PATH.finditer(text or ""):
        raw = match.group(1).rstrip(".,;:)")
        candidate = Path(raw).expanduser()
        for path in ([candidate] if candidate.is_absolute() else [state.session_dir / candidate, Path.cwd() / candidate]):
            if path.exists():
                return str(path.resolve())
    return None


def _proposal(state: GuideState) -> dict | None:
    from synth.importing import PROPOSAL

    path = state.session_dir / PROPOSAL
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _mapping_in(text: str | None, columns: list[str]) -> dict[str, str] | None:
    """`input=memo, output=category` (or `input: memo`) as a mapping onto known columns."""
    pairs = re.findall(r"(input|output|chosen|rejected|reference|messages)\s*[=:]\s*([^\s,;]+)", text or "", re.IGNORECASE)
    mapping = {field.lower(): column.strip("'\"`") for field, column in pairs}
    return mapping if mapping and all(c in columns for c in mapping.values()) else None


def _import_turn(state: GuideState) -> Turn | None:
    """The person's own data: inspect the file they named, confirm mapping and format, import it."""
    last = state.last_tool
    proposal = _proposal(state)
    if last is not None and last.name in ("inspect_data_file", "import_data") and last.is_error:
        return Turn(text=f"That did not work: {last.content}\nType another path, or say draft to go on without your data.")
    if last is not None and last.name == "inspect_data_file" and proposal is not None:
        return Turn(text=last.content, tool="ask_user",
                    arguments={"question": IMPORT_QUESTION, "choices": [IMPORT_YES, CHANGE_MAPPING, WITHOUT_DATA]})
    if proposal is not None and _said(state, IMPORT_YES, "import it"):
        return Turn(text="Importing your data: each row is checked against the contract, duplicates are dropped and "
                         "an eval split is held out.", tool="import_data",
                    arguments={"path": proposal["path"], "mapping": proposal["mapping"]})
    if proposal is not None:
        mapping = _mapping_in(state.last_user, proposal.get("columns", []))
        if mapping:
            return Turn(text="Importing your data with that mapping.", tool="import_data",
                        arguments={"path": proposal["path"], "mapping": mapping})
        if _said(state, CHANGE_MAPPING):
            return Turn(text=f"Columns: {', '.join(proposal.get('columns', []))}. Type the mapping as field=column "
                             "pairs, e.g. input=memo, output=category (for pairs: input=..., chosen=..., rejected=...).")
    named = _path_in(state, state.last_user)
    if named and (proposal is None or proposal.get("path") != named or _said(state, "inspect")):
        return Turn(text=f"Reading {named}.", tool="inspect_data_file", arguments={"path": named})
    if _said(state, OWN_DATA):
        return Turn(text=OWN_DATA_QUESTION)
    return None


def _start_turn(state: GuideState) -> Turn:
    """The first turn of the step: the person's data first when they have some, else seeds (or what is needed)."""
    use_case, own = _own_data(state)
    teacher = bool(state.settings.teacher_model)
    if own is not None and own.kind == "reference_document" and own.path and not state.exists("data_generation.yaml"):
        return Turn(text=f"Your document {own.path} grounds the examples: the teacher draws questions and answers "
                         "from it.", tool="attach_document",
                    arguments={"path": str(Path(own.path).expanduser().resolve()), "description": own.described_as})
    if own is not None and own.has_data and own.kind != "reference_document" and not _said(state, WITHOUT_DATA, "draft"):
        if own.path and _proposal(state) is None:
            return Turn(text=f"You have data of your own; reading {own.path} first.", tool="inspect_data_file",
                        arguments={"path": own.path})
        said = f" ({own.described_as})" if own.described_as else ""
        return Turn(text=f"You said you have data of your own{said}: it comes first.", tool="ask_user",
                    arguments={"question": OWN_DATA_QUESTION, "choices": [OWN_DATA, WITHOUT_DATA]})
    if use_case is not None and not teacher:
        from synth.seeds import needs_data_message, offline_gap

        gap = offline_gap(use_case)
        if gap is not None and not _said(state, OWN_EXAMPLES):
            return Turn(text=needs_data_message(use_case, gap), tool="ask_user",
                        arguments={"question": NEEDS_QUESTION, "choices": [OWN_DATA, OWN_EXAMPLES, "Stop here"]})
        if gap is not None:
            return Turn(text="Add real examples in the seed table (f2 opens it) or in data/examples.jsonl, one or more "
                             "per label or case; say continue when they are in.")
    return Turn(text="The use case is approved. I will draft seed examples from it: one or more per label or "
                     "case, for you to check and edit.", tool="draft_seed_examples",
                arguments={"count": 12, "use_teacher": teacher})


def next_turn(state: GuideState) -> Turn | None:
    last = state.last_tool
    if last is not None and last.name == "finish_data_step" and not last.is_error:
        return None
    if not state.exists("data/imported.jsonl"):
        turn = _import_turn(state)
        if turn is not None:
            return turn
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
        return _start_turn(state)
    if last is not None and last.name == "draft_seed_examples":
        return Turn(tool="ask_user", text="You can edit, add and delete rows in the seed table (f2 opens it) or in "
                                          "data/examples.jsonl.",
                    arguments={"question": SEED_QUESTION, "choices": [CONTINUE, "Draft them again", OWN_DATA]})
    if _said(state, "draft them again"):
        return Turn(text="Drafting new seed examples.", tool="draft_seed_examples",
                    arguments={"count": 12, "use_teacher": bool(state.settings.teacher_model)})

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
