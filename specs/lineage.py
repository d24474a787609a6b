"""Lineage: every artifact records what it came from, in <session>/lineage.jsonl (append-only).

A record names one artifact (`kind`, `path`, its `sha256`) and its inputs (`inputs`: path -> sha256 at
the time it was made), plus facts such as the generator, the teacher, the MLflow run id or the judge.
`check` recomputes every hash and reports artifacts whose inputs changed since.

Paths are session-relative and stay inside the session: an absolute path, a `..` or a symlink that
leads out is refused when recording and reported (never hashed) when checking. `read_checked`
also says which lines of the file are damaged (cut off, not JSON, not a record), so a damaged
lineage reads as damaged, not as "nothing recorded".
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LINEAGE_FILE = "lineage.jsonl"
CHAIN = ["use_case", "data", "quality", "training", "reward", "run", "evaluation", "export"]
"""The order of the chain, from the words that asked for it to the exported model."""


def file_hash(path: str | os.PathLike) -> str | None:
    """SHA-256 of a file, or of a folder's files (sorted by relative path); None when missing."""
    target = Path(path)
    if not target.exists():
        return None
    digest = hashlib.sha256()
    files = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
    for item in files:
        if target.is_dir():
            digest.update(str(item.relative_to(target)).encode() + b"\0")
        with open(item, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def inside(session_dir: str | os.PathLike, relative: str) -> Path | None:
    """``session_dir / relative`` when that stays inside the session folder, else None."""
    rel = Path(relative)
    if not relative or rel.is_absolute() or ".." in rel.parts or "\0" in relative:
        return None
    root = Path(session_dir).resolve()
    target = (root / rel).resolve()
    return target if target == root or root in target.parents else None


def _hash_inside(root: Path, relative: str) -> str | None:
    target = inside(root, relative)
    if target is None:
        raise ValueError(f"lineage path {relative!r} is not inside the session folder")
    return file_hash(target)


def record(session_dir: str | os.PathLike, kind: str, path: str, inputs: list[str] | None = None, **facts: Any) -> dict[str, Any]:
    """Append a lineage record for the artifact at session-relative ``path`` made from ``inputs``.
    Raises ValueError for a path that is not inside the session folder."""
    root = Path(session_dir)
    entry: dict[str, Any] = {
        "kind": kind,
        "path": path,
        "sha256": _hash_inside(root, path),
        "inputs": {name: _hash_inside(root, name) for name in (inputs or [])},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    entry.update({key: value for key, value in facts.items() if value is not None})
    line = json.dumps(entry, sort_keys=True) + "\n"
    with open(root / LINEAGE_FILE, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def read_checked(session_dir: str | os.PathLike) -> tuple[list[dict[str, Any]], list[str]]:
    """All well-formed lineage records and what is damaged, one line each (``lineage.jsonl:3: ...``)."""
    path = Path(session_dir) / LINEAGE_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"{LINEAGE_FILE}: cannot be read ({exc.strerror or exc})"]
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    lines = data.split(b"\n")
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            entry = json.loads(raw)
        except ValueError:
            cut = number == len(lines)  # the last line, without its newline
            problems.append(f"{LINEAGE_FILE}:{number}: " + ("cut off (the file was truncated)" if cut else "not valid JSON"))
            continue
        problem = _entry_problem(entry)
        if problem:
            problems.append(f"{LINEAGE_FILE}:{number}: {problem}")
            continue
        entries.append(entry)
    return entries, problems


def _entry_problem(entry: Any) -> str | None:
    if not isinstance(entry, dict):
        return "not a JSON object"
    if not isinstance(entry.get("kind"), str) or not isinstance(entry.get("path"), str):
        return "a record without a string `kind` and `path`"
    if not isinstance(entry.get("inputs", {}), dict):
        return "`inputs` is not a mapping of path to sha256"
    if not (entry.get("sha256") is None or isinstance(entry.get("sha256"), str)):
        return "`sha256` is not a string"
    return None


def read(session_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """All well-formed lineage records; damaged lines are skipped (``read_checked`` names them)."""
    return read_checked(session_dir)[0]


def latest(session_dir: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The newest record of each kind."""
    found: dict[str, dict[str, Any]] = {}
    for entry in read(session_dir):
        found[entry["kind"]] = entry
    return found


@dataclass
class LinkStatus:
    kind: str
    path: str
    ok: bool
    problems: list[str]
    entry: dict[str, Any]


def check(session_dir: str | os.PathLike) -> list[LinkStatus]:
    """Check the newest record of each kind in chain order: the file still has its recorded hash,
    and each input still has the hash it had when the artifact was made."""
    root = Path(session_dir)
    result = []
    newest = latest(root)
    kinds = [k for k in CHAIN if k in newest] + [k for k in newest if k not in CHAIN]
    for kind in kinds:
        entry = newest[kind]
        problems = []
        target = inside(root, entry["path"])
        current = file_hash(target) if target is not None else None
        if target is None:
            problems.append(f"{entry['path']} is not inside the session folder; it is not read")
        elif current is None:
            problems.append(f"{entry['path']} is missing")
        elif entry.get("sha256") and current != entry["sha256"]:
            problems.append(f"{entry['path']} changed since it was recorded")
        for name, recorded in entry.get("inputs", {}).items():
            source = inside(root, str(name))
            if source is None:
                problems.append(f"input {name} is not inside the session folder; it is not read")
                continue
            now = file_hash(source)
            if recorded is None:
                continue
            if now is None:
                problems.append(f"input {name} is missing")
            elif now != recorded:
                problems.append(f"input {name} changed since {entry['path']} was made from it")
        result.append(LinkStatus(kind, entry["path"], not problems, problems, entry))
    return result
