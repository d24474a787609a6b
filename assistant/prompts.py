"""The planner's system prompt: role, rules, the skills by name, the current step's playbook, state.

Only names and descriptions of all skills sit in the prompt; the current step's SKILL.md body is
loaded when that step is the session's phase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROLE = """You are tunesmith, an assistant in the terminal that helps a person customize an open model:
turn what they want into a use-case spec, generate and check training data, train, evaluate against
the base model, and export. Everything you make is a file in the session folder they can read and edit."""

RULES = """Rules:
- Ask only what you cannot infer, one question per turn, with the ask_user tool: offer likely
  choices and keep free text on.
- Never run a tool that spends compute or money, runs code, or writes a spec without the person's
  approval; the app asks them for you. When a call is rejected, read their comment and adapt.
- Keep answers short and concrete. Say what you will do next and why.
- Files you write follow the specs; when a tool reports a validation error, fix the field it names.
- Work on the current step; move on only when its artifact is approved."""

MAX_FILES = 40


def system_prompt(session: Any) -> str:
    """Build the prompt for the session's current phase (re-built before every model call)."""
    from skills import catalog

    phase = getattr(session.meta, "phase", "use_case")
    lines = [ROLE, "", RULES, "", "Steps of the journey (skills), in order:"]
    body = ""
    for skill in catalog.discover():
        marker = " (current)" if skill.name == phase else ""
        lines.append(f"- {skill.name}{marker}: {skill.description}")
        if skill.name == phase:
            body = skill.body().strip()
    if not catalog.discover():
        lines.append("- (no skills installed)")
    if body:
        lines += ["", f"Playbook for the current step ({phase}):", body]
    lines += ["", f"Current step: {phase}", "Files in the session folder:", files_present(Path(session.dir))]
    return "\n".join(lines)


def files_present(folder: Path) -> str:
    """A short listing of the session's files (not the conversation log)."""
    if not folder.is_dir():
        return "(none yet)"
    names = []
    for item in sorted(folder.rglob("*")):
        rel = item.relative_to(folder)
        if item.is_file() and not any(part.startswith(".") for part in rel.parts) and rel.name not in (
                "conversation.jsonl", "session.json"):
            names.append(rel.as_posix())
    if not names:
        return "(none yet)"
    shown = [f"- {name}" for name in names[:MAX_FILES]]
    if len(names) > MAX_FILES:
        shown.append(f"- ... and {len(names) - MAX_FILES} more")
    return "\n".join(shown)
