"""The system prompt a run trains with, and so the one its model must be asked with.

A fine-tuned model learns the task's labels and format from its data, so the instructions that list
them are tokens paid on every training step and every answer. With the plan's ``data.system_prompt:
short`` the job trains with the first sentence of the contract's system prompt (the task, without the
list), records it in the run, and evaluation, the playground and export ask that run's model with the
same words. ``full`` keeps the contract's prompt as written. Measured in
``skills/train/references/speed.md``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'`])")


def short_prompt(system_prompt: str | None) -> str | None:
    """The first sentence of ``system_prompt`` (all of it when it is one sentence)."""
    if not system_prompt or not system_prompt.strip():
        return system_prompt
    text = " ".join(system_prompt.split())
    return _SENTENCE_END.split(text, maxsplit=1)[0]


def training_prompt(contract_prompt: str | None, mode: str) -> str | None:
    """The system prompt a run with ``data.system_prompt: mode`` trains with."""
    return short_prompt(contract_prompt) if mode == "short" else contract_prompt


def with_system_prompt(row: dict[str, Any], system_prompt: str | None) -> dict[str, Any]:
    """``row`` (a TRL prompt/completion or preference row) asked with ``system_prompt`` instead of its own."""
    prompt = row.get("prompt")
    if not isinstance(prompt, list):
        return row
    rest = [m for m in prompt if m.get("role") != "system"]
    head = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return {**row, "prompt": head + rest}


def shorten_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str | None]:
    """``rows`` asked with the first sentence of their system prompt, and that sentence (the run records
    it, so its model is asked the same way). Rows without a system prompt are left as they are."""
    out, used = [], None
    for row in rows:
        prompt = row.get("prompt")
        system = next((m.get("content") for m in prompt if m.get("role") == "system"), None) if isinstance(prompt, list) else None
        if system:
            used = short_prompt(system)
            row = with_system_prompt(row, used)
        out.append(row)
    return out, used


def run_system_prompt(run_dir: Path, contract_prompt: str | None) -> str | None:
    """The system prompt to ask a run's model with: the one it was trained with when the run recorded
    one (``system_prompt`` in run.json, written by a ``short`` plan), else the contract's."""
    path = Path(run_dir) / "run.json"
    try:
        state = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        state = {}
    return state["system_prompt"] if "system_prompt" in state else contract_prompt
