"""The planner's system prompt: role, rules, the skill index, the current step's playbook, the files.

Only names and descriptions of all skills sit in the prompt; the current step's SKILL.md body is
loaded when that step is the session's phase, and the request offers only that step's tools
(assistant.steps). The prompt plus the tool schemas stays within the agent's PROMPT_BUDGET_TOKENS on
every step (tests/assistant/test_disclosure.py measures it), so a small local model with a 16k
context has room for the conversation.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.session import Session

ROLE = """You are tunesmith, a terminal assistant that helps a person customize an open model: use-case
spec, training data, training, evaluation against the base model, export. What you make are files
in the session folder."""

RULES = """Rules:
- Ask only what you cannot infer, one question per turn, with ask_user.
- Call tools through the tool-call interface. What spends compute, runs code or writes a spec waits
  for the person's approval; after a rejection, read their comment and adapt.
- When a tool reports an error, fix what it names; never resend the same call.
- Keep answers short: say what you do next and why.
- You have the current step's tools. go_to_step opens an earlier step or one already reached; the
  step's last tool moves on once its artifact is approved."""

MAX_NAMES = 8
"""Names listed per folder; the rest are counted."""


def system_prompt(session: Session, files: bool = True) -> str:
    """Build the prompt for the session's current phase (re-built before every model call). Without ``files`` the
    prompt stays the same for the whole step and the listing goes to the end of the request (files_note): a server
    on this machine then reuses its cache of the prompt and the conversation instead of reading them again."""
    from skills import catalog

    phase = session.meta.phase
    lines = [ROLE, "", RULES, "", "Steps of the journey, in order:"]
    body = ""
    for skill in catalog.discover():
        marker = " (current)" if skill.name == phase else ""
        lines.append(f"- {skill.name}{marker}: {skill.description}")
        if skill.name == phase:
            body = skill.body().strip()
    if not catalog.discover():
        lines.append("- (no skills installed)")
    if phase == "done":
        lines.append("All steps are done: answer questions about what was made.")
    if body:
        lines += ["", f"Playbook of the current step ({phase}):", body]
    lines += ["", f"Current step: {phase}"]
    if files:
        lines += ["Files in the session folder:", files_present(Path(session.dir))]
    return "\n".join(lines)


def files_note(session: Session) -> str:
    """The session's files, as a note at the end of a request (see system_prompt)."""
    return "(tunesmith) Files in the session folder now:\n" + files_present(Path(session.dir))


def files_present(folder: Path) -> str:
    """A short listing of the session's files (not the log): one line for the top-level files and one
    per folder, naming up to MAX_NAMES files directly in it and counting the rest."""
    if not folder.is_dir():
        return "(none yet)"
    groups: dict[str, list[str]] = {}
    for item in sorted(folder.rglob("*")):
        rel = item.relative_to(folder)
        if not item.is_file() or any(part.startswith(".") for part in rel.parts) or rel.name in (
                "conversation.jsonl", "session.json"):
            continue
        groups.setdefault(rel.parts[0] + "/" if len(rel.parts) > 1 else "", []).append(
            rel.name if len(rel.parts) <= 2 else "/".join(rel.parts[1:]))
    if not groups:
        return "(none yet)"
    lines = []
    for top in sorted(groups):
        names = [n for n in groups[top] if "/" not in n][:MAX_NAMES]
        rest = len(groups[top]) - len(names)
        listed = ", ".join(names) + (f" and {rest} more" if names and rest else f"{rest} files" if rest else "")
        lines.append(f"- {top}{' ' if top else ''}{listed}")
    return "\n".join(lines)
