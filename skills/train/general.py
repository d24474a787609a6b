"""Forgetting guard: the base model's own answers to generic prompts, mixed into SFT data.

Training only on one narrow task can make a small model forget how to answer anything else. Mixing
in a share of general instruction data — here, the base model's own greedy answers to a shipped list
of generic prompts, generated once per base model and cached — keeps those answers in place.
Only job scripts call the functions that need a model (torch is imported inside them).
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any, Callable

PROMPTS_FILE = Path(__file__).with_name("general_prompts.json")


def prompts() -> list[str]:
    return list(json.loads(PROMPTS_FILE.read_text(encoding="utf-8"))["prompts"])


def cache_file(base_model: str) -> Path:
    from skills.common.basemodel import cache_root

    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", base_model).strip("_")
    return cache_root().parent / "general" / f"{safe}.jsonl"


def mix(rows: list[dict[str, Any]], general_rows: list[dict[str, Any]], ratio: float, seed: int = 0) -> list[dict[str, Any]]:
    """Rows plus general rows making up ``ratio`` of the result, shuffled reproducibly."""
    if ratio <= 0 or not general_rows:
        return rows
    rng = random.Random(seed)
    want = max(1, round(ratio / (1 - ratio) * len(rows)))
    extra = [dict(general_rows[i % len(general_rows)]) for i in range(want)]
    rng.shuffle(extra)
    out = rows + extra
    rng.shuffle(out)
    return out


def generate(model, tokenizer, conversations: list[list[dict[str, str]]], max_new_tokens: int = 64,
             batch_size: int = 8, do_sample: bool = False) -> list[str]:
    """Answers of ``model`` to chat prompts (greedy by default), batched with left padding."""
    import torch

    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    answers: list[str] = []
    try:
        for start in range(0, len(conversations), batch_size):
            chunk = conversations[start:start + batch_size]
            texts = [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in chunk]
            enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
            with torch.no_grad():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=do_sample,
                                     pad_token_id=tokenizer.pad_token_id)
            for row in out[:, enc["input_ids"].shape[1]:]:
                answers.append(tokenizer.decode(row, skip_special_tokens=True).strip())
    finally:
        tokenizer.padding_side = side
    return answers


def load_or_make(session: Path, plan, model, tokenizer, emit: Callable[..., None]) -> list[dict[str, Any]]:
    """The general rows: the plan's file if set, else the cached base-model answers (made once)."""
    if plan.data.general_data_path:
        path = session / plan.data.general_data_path
        return [_strip(r) for r in _read(path)]
    cached = cache_file(plan.base_model)
    if not cached.exists():
        emit("log", message="forgetting guard: generating the base model's answers to generic prompts (once)")
        conversations = [[{"role": "user", "content": p}] for p in prompts()]
        answers = generate(model, tokenizer, conversations, max_new_tokens=64)
        rows = [{"prompt": c, "completion": [{"role": "assistant", "content": a}], "meta": {"source": "general"}}
                for c, a in zip(conversations, answers) if a]
        cached.parent.mkdir(parents=True, exist_ok=True)
        from specs.io import atomic_write_text

        atomic_write_text(cached, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    rows = _read(cached)
    local = session / "data" / "general.jsonl"
    if not local.exists():
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_text(cached.read_text(encoding="utf-8"), encoding="utf-8")
    return [_strip(r) for r in rows]


def _read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _strip(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row.pop("meta", None)
    return row
