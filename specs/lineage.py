"""Lineage: every artifact records what it came from, in <session>/lineage.jsonl (append-only).

A record names one artifact (`kind`, `path`, its `sha256`) and its inputs (`inputs`: path -> sha256 at
the time it was made), plus facts such as the generator, the teacher, the MLflow run id or the judge.
`check` recomputes every hash and reports artifacts whose inputs changed since.
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


def record(session_dir: str | os.PathLike, kind: str, path: str, inputs: list[str] | None = None, **facts: Any) -> dict[str, Any]:
    """Append a lineage record for the artifact at session-relative ``path`` made from ``inputs``."""
    root = Path(session_dir)
    entry: dict[str, Any] = {
        "kind": kind,
        "path": path,
        "sha256": file_hash(root / path),
        "inputs": {name: file_hash(root / name) for name in (inputs or [])},
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    entry.update({key: value for key, value in facts.items() if value is not None})
    line = json.dumps(entry, sort_keys=True) + "\n"
    with open(root / LINEAGE_FILE, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return entry


def read(session_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """All lineage records; a torn last line (a crash mid-write) is skipped."""
    path = Path(session_dir) / LINEAGE_FILE
    if not path.exists():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entries.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return entries


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
        current = file_hash(root / entry["path"])
        if current is None:
            problems.append(f"{entry['path']} is missing")
        elif entry.get("sha256") and current != entry["sha256"]:
            problems.append(f"{entry['path']} changed since it was recorded")
        for name, recorded in entry.get("inputs", {}).items():
            now = file_hash(root / name)
            if recorded is None:
                continue
            if now is None:
                problems.append(f"input {name} is missing")
            elif now != recorded:
                problems.append(f"input {name} changed since {entry['path']} was made from it")
        result.append(LinkStatus(kind, entry["path"], not problems, problems, entry))
    return result
