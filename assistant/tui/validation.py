"""Validate spec files and unsaved editor text with specs.validate, formatted for the person."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any


def validate_path(path: Path) -> list[Any]:
    """Problems of a spec file on disk (empty when valid)."""
    from specs.validate import validate_file

    return list(validate_file(path))


def validate_text(name: str, text: str) -> list[Any]:
    """Problems of text that would be saved as `name` (validated as a file of that name)."""
    try:
        from specs.validate import validate_text as _validate_text
    except ImportError:
        _validate_text = None
    if _validate_text is not None:
        return list(_validate_text(text, name))
    with tempfile.TemporaryDirectory(prefix="tunesmith-edit-") as folder:
        candidate = Path(folder) / name
        candidate.write_text(text, encoding="utf-8")
        problems = validate_path(candidate)
    return [_rename(problem, name) for problem in problems]


def _rename(problem: Any, name: str) -> Any:
    """Problems of the temp copy name the real file."""
    try:
        from dataclasses import replace

        return replace(problem, file=name)
    except TypeError:
        return problem


def describe(problem: Any) -> str:
    """'line 4, column 3: contract.labels: message (allowed: ...)'"""
    where = []
    if getattr(problem, "line", None):
        where.append(f"line {problem.line}")
        if getattr(problem, "column", None):
            where.append(f"column {problem.column}")
    text = ", ".join(where)
    path = getattr(problem, "path", "")
    message = getattr(problem, "message", str(problem))
    out = (text + ": " if text else "") + (f"{path}: " if path else "") + message
    allowed = getattr(problem, "allowed", None)
    if allowed:
        out += f" (allowed: {allowed})"
    return out
