"""Read, render and write use_case.yaml, and turn validation failures into field-named messages.

The YAML round-trip (comments and key order kept) lives in specs.yamlio; this module only adds what
the use-case tools share: the diff, dotted-path edits, and messages that name the field.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from skills.toolkit import ToolError
from specs.errors import SpecError
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec, render_spec, save_spec

FILENAME = "use_case.yaml"


class EditError(ToolError):
    """A requested change that cannot be applied; the message names the field."""


def dotted(loc: tuple | list) -> str:
    """pydantic's error location as a field path like `contract.labels[2]`."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def explain_validation(exc: ValidationError, prefix: str = "") -> str:
    """One line per problem: `field path: message (got value)`."""
    lines = []
    for err in exc.errors():
        path = dotted([*([prefix] if prefix else []), *err["loc"]]) or "(whole spec)"
        message = err["msg"].removeprefix("Value error, ")
        got = err.get("input")
        shown = "" if isinstance(got, (dict, list)) or got is None else f" (got {got!r})"
        lines.append(f"`{path}`: {message}{shown}")
    return "; ".join(lines)


def explain_spec_error(exc: SpecError) -> str:
    parts = []
    for problem in exc.problems:
        where = f"line {problem.line}: " if problem.line else ""
        field = f"`{problem.path}`: " if problem.path else ""
        allowed = f" (allowed: {problem.allowed})" if problem.allowed else ""
        parts.append(f"{where}{field}{problem.message}{allowed}")
    return "; ".join(parts) or str(exc)


def read_text(session_dir: Path) -> str | None:
    path = Path(session_dir) / FILENAME
    return path.read_text(encoding="utf-8") if path.exists() else None


def load(session_dir: Path) -> UseCaseSpec:
    """The current spec; raises SpecError when the file is broken, FileNotFoundError when absent."""
    path = Path(session_dir) / FILENAME
    if not path.exists():
        raise FileNotFoundError(path)
    spec = load_spec(path, UseCaseSpec)
    return spec  # type: ignore[return-value]


def render(spec: UseCaseSpec, existing: str | None, session_dir: Path | None = None) -> str:
    """The text save() would write (same schema line when ``session_dir`` is given)."""
    path = Path(session_dir) / FILENAME if session_dir is not None else None
    return render_spec(spec, existing, path=path)


def diff(old: str | None, new: str) -> str:
    """Unified diff of use_case.yaml, from the file on disk (or nothing) to the new text."""
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True), new.splitlines(keepends=True),
        fromfile=f"a/{FILENAME}" if old is not None else "/dev/null", tofile=f"b/{FILENAME}",
    )
    return "".join(lines) or "(no change)"


def save(session_dir: Path, spec: UseCaseSpec) -> Path:
    path = Path(session_dir) / FILENAME
    save_spec(path, spec)
    return path


_PART = re.compile(r"([A-Za-z_][\w]*)|\[(-?\d+|\+)\]|(\d+|\+)")


def split_path(path: str) -> list[str | int]:
    """`success_tenets[1].name` or `success_tenets.1.name` -> ['success_tenets', 1, 'name'].

    `+` as an index (`contract.labels[+]`) appends to the list.
    """
    parts: list[str | int] = []
    for chunk in path.strip().split("."):
        if not chunk:
            raise EditError(f"field path {path!r} has an empty part")
        pos = 0
        while pos < len(chunk):
            match = _PART.match(chunk, pos)
            if not match:
                raise EditError(f"field path {path!r} is not like `contract.labels[2]` or `success_tenets.0.name`")
            name, index, bare = match.groups()
            if name is not None:
                parts.append(name)
            else:
                token = index if index is not None else bare
                parts.append(-(10**9) if token == "+" else int(token))
            pos = match.end()
    return parts


def apply_changes(data: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of ``data`` with each dotted path set to its value (None removes an optional field)."""
    out = copy.deepcopy(data)
    for path, value in changes.items():
        parts = split_path(path)
        target: Any = out
        for depth, part in enumerate(parts[:-1]):
            target = _step(target, part, path, create_next=parts[depth + 1])
        last = parts[-1]
        shown = dotted(parts)
        if isinstance(last, int):
            if not isinstance(target, list):
                raise EditError(f"`{shown}`: the field before the index is not a list")
            if last == -(10**9):
                target.append(value)
            elif -len(target) <= last < len(target):
                target[last] = value
            elif last == len(target):
                target.append(value)
            else:
                raise EditError(f"`{shown}`: index {last} is out of range (the list has {len(target)} items)")
        else:
            if not isinstance(target, dict):
                raise EditError(f"`{shown}`: cannot set a field inside a non-object value")
            if value is None:
                target.pop(last, None)
            else:
                target[last] = value
    return out


def _step(target: Any, part: str | int, path: str, create_next: str | int) -> Any:
    if isinstance(part, int):
        if not isinstance(target, list):
            raise EditError(f"`{path}`: an index was given for a field that is not a list")
        if part == -(10**9):
            target.append({})
            return target[-1]
        if not -len(target) <= part < len(target):
            raise EditError(f"`{path}`: index {part} is out of range (the list has {len(target)} items)")
        return target[part]
    if not isinstance(target, dict):
        raise EditError(f"`{path}`: `{part}` is inside a value that is not an object")
    if part not in target or target[part] is None:
        target[part] = [] if isinstance(create_next, int) else {}
    return target[part]
