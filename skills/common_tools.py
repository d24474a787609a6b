"""Tools every step may use: ask the person one question, show a session file, list the files, note a fact.

The engine offers these beside the current step's tools (``COMMON_TOOLS``). Reading and asking
never change anything the person must approve, so they all run without asking.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from skills.toolkit import Tool, ToolContext, ToolError, ToolResult, safe_join, tool

SKILLS_DIR = Path(__file__).resolve().parent

MAX_SHOW_CHARS = 20_000
"""Longest text show_file returns; longer files are cut with a note saying where."""
MAX_JSONL_ROWS = 20
"""Rows of a .jsonl file show_file returns."""
HIDDEN = {"conversation.jsonl"}
"""Files list_files leaves out: the engine's own log."""
NOTES_FILE = "notes.md"


@tool("always")
def ask_user(ctx: ToolContext, question: str, choices: list[str] = [], allow_free_text: bool = True) -> ToolResult:  # noqa: B006 - a tool argument: pydantic copies the default
    """Ask the person one question and wait for the answer; offer likely choices, keep free text on.

    Args:
        question: The question, in one or two plain sentences.
        choices: Likely answers, picked with one key (at most about 6); empty for an open question.
        allow_free_text: Whether the person may type an answer of their own.
    """
    question = question.strip()
    if not question:
        raise ToolError("`question` is empty; write the question to ask")
    cleaned = [c.strip() for c in choices if c and c.strip()]
    if len(set(cleaned)) != len(cleaned):
        raise ToolError("`choices` repeats a choice; give each choice once")
    if not cleaned and not allow_free_text:
        raise ToolError("`choices` is empty and `allow_free_text` is false: the person could not answer")
    shown = "" if not cleaned else " Choices: " + "; ".join(f"{i}. {c}" for i, c in enumerate(cleaned, 1)) + "."
    return ToolResult(
        content=f"Asked the person: {question}{shown} Waiting for the answer.",
        data={"question": question, "choices": cleaned, "allow_free_text": allow_free_text},
        ends_turn=True,
    )


@tool("always")
def show_file(ctx: ToolContext, path: str) -> ToolResult:
    """Show a file of this session (a spec, data, a report) to the person and to you.

    Args:
        path: Path inside the session folder, e.g. `use_case.yaml` or `data/quality.json`.
    """
    target = ctx.path(path)
    if not target.exists():
        raise ToolError(f"no file {path!r} in this session; list_files shows what exists")
    if target.is_dir():
        raise ToolError(f"{path!r} is a folder; give a file inside it (list_files shows them)")
    raw = target.read_bytes()
    if b"\x00" in raw[:4096]:
        return ToolResult(content=f"{path} is a binary file of {len(raw)} bytes; it cannot be shown as text.",
                          data={"path": path, "binary": True, "size": len(raw)})
    text = raw.decode("utf-8", errors="replace")
    note = ""
    if target.suffix == ".jsonl":
        rows = text.splitlines()
        if len(rows) > MAX_JSONL_ROWS:
            text = "\n".join(rows[:MAX_JSONL_ROWS]) + "\n"
            note = f"\n(first {MAX_JSONL_ROWS} of {len(rows)} rows)"
    if len(text) > MAX_SHOW_CHARS:
        text = text[:MAX_SHOW_CHARS]
        note = f"\n(first {MAX_SHOW_CHARS} of {len(raw)} characters)"
    fence = _language(target)
    return ToolResult(content=f"{path}:\n```{fence}\n{text.rstrip()}\n```{note}", data={"path": path, "text": text})


def _language(path: Path) -> str:
    return {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".jsonl": "json", ".py": "python",
            ".md": "markdown"}.get(path.suffix, "")


@tool("always")
def list_files(ctx: ToolContext) -> ToolResult:
    """List the files of this session with their sizes (specs, data, runs, evaluations, exports)."""
    root = Path(ctx.session_dir)
    rows = []
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root)
        if not item.is_file() or rel.as_posix() in HIDDEN or any(p.startswith(".") for p in rel.parts):
            continue
        rows.append({"path": rel.as_posix(), "bytes": item.stat().st_size})
    if not rows:
        return ToolResult(content="The session folder has no files yet.", data={"files": []})
    lines = [f"- {row['path']} ({_size(row['bytes'])})" for row in rows[:200]]
    more = f"\n(and {len(rows) - 200} more)" if len(rows) > 200 else ""
    return ToolResult(content="Files in this session:\n" + "\n".join(lines) + more, data={"files": rows})


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


@tool("always")
def record_note(ctx: ToolContext, note: str) -> ToolResult:
    """Write down a fact or decision the person stated, so later steps and resumed sessions see it
    (appended to `notes.md` in the session folder).

    Args:
        note: The fact or decision, in one sentence.
    """
    note = " ".join(note.split())
    if not note:
        raise ToolError("`note` is empty")
    path = ctx.path(NOTES_FILE)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with path.open("a", encoding="utf-8") as handle:
        if handle.tell() == 0:
            handle.write("# Notes\n\n")
        handle.write(f"- {stamp}: {note}\n")
        handle.flush()
    return ToolResult(content=f"Noted in {NOTES_FILE}: {note}", files=[NOTES_FILE])


@tool("always")
def read_reference(ctx: ToolContext, skill: str, name: str = "") -> ToolResult:
    """Read a reference page of a step's playbook (details the SKILL.md points to, such as
    `references/tenets.md`). Without a name, list the step's reference pages.

    Args:
        skill: The step, e.g. `use_case`, `data`, `train`, `evaluate`, `export`.
        name: The page, e.g. `tenets.md` (a leading `references/` is fine).
    """
    if not skill.isidentifier() or not (SKILLS_DIR / skill / "SKILL.md").exists():
        known = sorted(p.parent.name for p in SKILLS_DIR.glob("*/SKILL.md"))
        raise ToolError(f"no step named {skill!r}; steps: {', '.join(known)}")
    folder = SKILLS_DIR / skill / "references"
    pages = sorted(p.name for p in folder.glob("*.md")) if folder.is_dir() else []
    name = name.strip().removeprefix("references/")
    if not name:
        listing = ", ".join(pages) or "none"
        return ToolResult(content=f"Reference pages of {skill}: {listing}.", data={"pages": pages})
    try:
        target = safe_join(folder, name)
    except ToolError:
        raise ToolError(f"{name!r} is not a page name; pages: {', '.join(pages) or 'none'}") from None
    if not target.is_file():
        raise ToolError(f"{skill} has no reference page {name!r}; pages: {', '.join(pages) or 'none'}")
    return ToolResult(content=target.read_text(encoding="utf-8"), data={"skill": skill, "page": name})


COMMON_TOOLS: list[Tool] = [ask_user, show_file, list_files, record_note, read_reference]
"""Tools the engine offers in every step."""
