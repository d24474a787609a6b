"""Text diffs for the spec editor: what the person changed, in a form the agent can read."""

from __future__ import annotations

import difflib

MAX_DIFF_LINES = 60


def unified(old: str, new: str, name: str) -> str:
    """A unified diff of two versions of a file ('' when equal)."""
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{name}", tofile=f"b/{name}", n=1,
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def change_message(name: str, old: str, new: str, where: str = "in the app") -> str | None:
    """The message the agent receives after the person edited a spec file, or None if nothing changed."""
    diff = unified(old, new, name)
    if not diff:
        return None
    lines = diff.splitlines()
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    if len(lines) > MAX_DIFF_LINES:
        lines = lines[:MAX_DIFF_LINES] + [f"... ({len(lines) - MAX_DIFF_LINES} more diff lines)"]
    body = "\n".join(lines)
    return (
        f"I edited {name} {where} (+{added} -{removed} lines). Please re-read it and take my changes "
        f"into account:\n```diff\n{body}\n```"
    )
