"""Record formats: the seed row a person edits, and the JSONL rows TRL's trainers read.

A seed/generated record (``data/examples.jsonl`` and the generators' output) is a flat dict:
``{"input": str, "output": str, "chosen"?: str, "rejected"?: str, "meta": {axis: value, ...}}``.

Training files (``data/train.jsonl``, ``data/eval.jsonl``) hold exactly what TRL takes:
- ``sft``: ``{"prompt": [messages], "completion": [assistant message]}`` (conversational
  prompt/completion: SFTTrainer trains on the completion only);
- ``preference``: ``{"prompt": [messages], "chosen": [assistant], "rejected": [assistant]}`` (DPOTrainer);
- ``prompt_only``: ``{"prompt": [messages], "reference": str}`` (GRPOTrainer passes ``reference``
  and every other extra column to the reward function as a keyword argument).
Every training row also carries ``meta`` (axis values, source); the trainers ignore it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator

FORMATS = ("sft", "preference", "prompt_only")


def user_messages(text: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    """The prompt as chat messages: an optional system message, then the user's input."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt else []
    messages.append({"role": "user", "content": text})
    return messages


def to_training_row(record: dict[str, Any], fmt: str, system_prompt: str | None = None) -> dict[str, Any]:
    """Turn a flat record into the row TRL's trainer for ``fmt`` reads."""
    prompt = user_messages(str(record["input"]), system_prompt)
    meta = dict(record.get("meta") or {})
    if fmt == "sft":
        row = {"prompt": prompt, "completion": [{"role": "assistant", "content": str(record["output"])}]}
    elif fmt == "preference":
        chosen = record.get("chosen", record.get("output"))
        rejected = record.get("rejected")
        if chosen is None or rejected is None:
            raise ValueError("a preference record needs `chosen` (or `output`) and `rejected`")
        row = {
            "prompt": prompt,
            "chosen": [{"role": "assistant", "content": str(chosen)}],
            "rejected": [{"role": "assistant", "content": str(rejected)}],
        }
    elif fmt == "prompt_only":
        row = {"prompt": prompt, "reference": str(record.get("reference", record.get("output", "")))}
    else:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    row["meta"] = {str(k): str(v) for k, v in meta.items()}
    return row


def from_training_row(row: dict[str, Any]) -> dict[str, Any]:
    """Back from a training row to a flat record (input, output, chosen/rejected, meta)."""
    if "messages" in row:
        msgs = row["messages"]
        user = [m["content"] for m in msgs if m.get("role") == "user"]
        answer = [m["content"] for m in msgs if m.get("role") == "assistant"]
        return {"input": user[-1] if user else "", "output": answer[-1] if answer else "", "meta": row.get("meta") or {}}
    prompt = row.get("prompt")
    if isinstance(prompt, list):
        user = [m["content"] for m in prompt if m.get("role") == "user"]
        text = user[-1] if user else ""
    else:
        text = str(prompt or "")
    record: dict[str, Any] = {"input": text, "meta": row.get("meta") or {}}
    if "completion" in row:
        record["output"] = _content(row["completion"])
    if "chosen" in row:
        record["chosen"] = _content(row["chosen"])
        record["rejected"] = _content(row.get("rejected"))
        record["output"] = record["chosen"]
    if "reference" in row:
        record["reference"] = str(row["reference"])
        record.setdefault("output", record["reference"])
    return record


def _content(value: Any) -> str:
    if isinstance(value, list):
        return "".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return "" if value is None else str(value)


PLACEHOLDER = re.compile(r"\[(?:draft|example|placeholder|todo|insert|your)\b[^\]]*\]|write (?:an input|the ideal answer) "
                         r"here|lorem ipsum|<(?:input|output|answer|your [a-z ]+)>", re.IGNORECASE)


def placeholder(text: str) -> bool:
    """Text that stands in for an example instead of being one (`[draft 1: write an input here]`)."""
    return bool(PLACEHOLDER.search(str(text or "")))


def answer_text(record: dict[str, Any]) -> str:
    """The answer a record teaches (output, chosen, or reference)."""
    for key in ("output", "chosen", "reference"):
        if record.get(key) is not None:
            return str(record[key])
    return ""


def read_jsonl(path: str | os.PathLike) -> list[dict[str, Any]]:
    """Read a JSONL file; a torn last line (crash mid-write) is skipped."""
    return list(iter_jsonl(path))


def iter_jsonl(path: str | os.PathLike) -> Iterator[dict[str, Any]]:
    p = Path(path)
    if not p.exists():
        return
    with p.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                yield value


def dumps(row: dict[str, Any]) -> str:
    return json.dumps(row, ensure_ascii=False, sort_keys=False)


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> Path:
    """Write rows atomically (temp file + rename)."""
    from specs.io import atomic_write_text

    text = "".join(dumps(r) + "\n" for r in rows)
    return atomic_write_text(path, text)


class PartialWriter:
    """Append-only progress file for a generator: one line per finished record index.

    On resume, ``done`` holds the indices already written, so a generator skips them and never
    writes a record twice. Each line is ``{"i": index, "record": {...}}`` or ``{"i": index, "dropped": reason}``.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.done: dict[int, dict[str, Any]] = {}
        for row in iter_jsonl(self.path):
            if isinstance(row.get("i"), int):
                self.done[row["i"]] = row
        self._handle = None

    def add(self, index: int, record: dict[str, Any] | None = None, dropped: str | None = None) -> None:
        if index in self.done:
            return
        row: dict[str, Any] = {"i": index}
        if record is not None:
            row["record"] = record
        else:
            row["dropped"] = dropped or "no record"
        if self._handle is None:
            self._repair_tail()
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(dumps(row) + "\n")
        self._handle.flush()
        self.done[index] = row

    def _repair_tail(self) -> None:
        """A crash can leave a torn last line; end it so the next append starts on a fresh line."""
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as h:
                h.seek(-1, os.SEEK_END)
                last = h.read(1)
            if last != b"\n":
                with self.path.open("ab") as h:
                    h.write(b"\n")

    def records(self) -> list[tuple[int, dict[str, Any]]]:
        return sorted((i, r["record"]) for i, r in self.done.items() if "record" in r)

    def dropped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.done.values():
            if "dropped" in row:
                counts[row["dropped"]] = counts.get(row["dropped"], 0) + 1
        return counts

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def sha256_files(*paths: str | os.PathLike) -> str:
    """SHA-256 over the named files' bytes (names and order included); missing files count as empty."""
    digest = hashlib.sha256()
    for path in paths:
        p = Path(path)
        digest.update(p.name.encode() + b"\0")
        if p.exists():
            with p.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def request_hash(payload: Any) -> str:
    """Stable hash of a JSON-able value (used as a cache key)."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
