"""Evaluation records in, per-example results out: the file formats of evals/<id>/.

Layout of one evaluation (``<session>/evals/<eval-id>/``):

- ``outputs/<variant>.jsonl``  the answers of one model variant, written as soon as it finishes
- ``results.jsonl``            one line per example: prompt, reference, every variant's answer and scores
- ``report.json`` / ``report.md``  the comparison (skills.evaluate.report)
- ``events.jsonl``             the job's progress events
- ``ratings.jsonl``            the person's ratings (skills.evaluate.judge)

A variant is ``base``, ``prompt_baseline`` or ``run:<run-id>``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

BASE = "base"
PROMPT_BASELINE = "prompt_baseline"


def run_variant(run_id: str) -> str:
    return f"run:{run_id}"


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    from specs.io import atomic_write_text

    atomic_write_text(path, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def _content(message: Any) -> str:
    if isinstance(message, str):
        return message
    content = message.get("content", "")
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content or "")


def split_record(record: dict[str, Any]) -> tuple[list[dict[str, str]], str | None]:
    """(prompt messages, reference answer) of one record in any of the synth formats.

    sft conversational: ``{"prompt": [msgs], "completion": [msgs]}``; chat: ``{"messages": [...]}``
    (the last assistant message is the reference); prompt-only: ``{"prompt": str|[msgs], "reference": str}``;
    preference: ``{"prompt", "chosen", ...}`` (chosen is the reference).
    """
    if "messages" in record:
        messages = [dict(role=m["role"], content=_content(m)) for m in record["messages"]]
        if messages and messages[-1]["role"] == "assistant":
            return messages[:-1], messages[-1]["content"]
        return messages, record.get("reference")
    prompt = record.get("prompt")
    if prompt is None:
        raise ValueError("record has neither `messages` nor `prompt`")
    if isinstance(prompt, str):
        messages = [{"role": "user", "content": prompt}]
    else:
        messages = [dict(role=m["role"], content=_content(m)) for m in prompt]
    for key in ("completion", "reference", "chosen", "answer"):
        value = record.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            texts = [_content(m) for m in value if not isinstance(m, dict) or m.get("role", "assistant") == "assistant"]
            return messages, "".join(texts)
        return messages, _content(value)
    return messages, None


def with_system(messages: list[dict[str, str]], system_prompt: str | None, *, replace: bool = False) -> list[dict[str, str]]:
    """The messages with a system prompt: the record's own wins unless ``replace``."""
    has_system = bool(messages) and messages[0]["role"] == "system"
    if has_system and not replace:
        return messages
    rest = messages[1:] if has_system else messages
    return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + rest


def prompt_text(messages: list[dict[str, str]]) -> str:
    """The input as a person reads it: the last user message (earlier turns prefixed)."""
    turns = [m for m in messages if m["role"] != "system"]
    if len(turns) == 1:
        return turns[0]["content"]
    return "\n".join(f"{m['role']}: {m['content']}" for m in turns)


def load_examples(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """Evaluation examples: index, messages (without system prompt changes), prompt text, reference."""
    examples = []
    for index, record in enumerate(read_jsonl(path)):
        if limit is not None and index >= limit:
            break
        messages, reference = split_record(record)
        examples.append({"index": index, "messages": messages, "prompt": prompt_text(messages), "reference": reference})
    return examples


def eval_dir(session_dir: Path, eval_id: str) -> Path:
    return Path(session_dir) / "evals" / eval_id


def load_results(folder: Path) -> list[dict[str, Any]]:
    path = Path(folder) / "results.jsonl"
    return list(read_jsonl(path)) if path.exists() else []


def latest_eval_id(session_dir: Path, *, finished: bool = False) -> str | None:
    """The newest evaluation folder (by name, which starts with a timestamp), optionally only finished ones."""
    root = Path(session_dir) / "evals"
    if not root.is_dir():
        return None
    names = sorted(p.name for p in root.iterdir() if p.is_dir() and (not finished or (p / "report.json").exists()))
    return names[-1] if names else None


def load_optional(path: Path, model: Any, *, strict: bool = False) -> Any | None:
    """A spec file if it exists and is valid; None otherwise (``strict`` raises SpecError when invalid)."""
    from specs.errors import SpecError
    from specs.yamlio import load_spec

    if not Path(path).exists():
        return None
    try:
        return load_spec(path, model)
    except SpecError:
        if strict:
            raise
        return None
