"""What the training data holds: its format, size, answer kinds and lengths (no heavy imports)."""

from __future__ import annotations

import itertools
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.records import iter_jsonl

CHARS_PER_TOKEN = 3.6
"""Rough characters per token of English text for SmolLM2-style tokenizers (used when no tokenizer is at hand)."""
TEMPLATE_TOKENS = 30
"""Tokens the chat template adds around a prompt and an answer (role markers, default system prompt)."""


@dataclass
class DataFacts:
    """A summary of a training file used to pick a technique and size a plan."""

    path: str
    format: str = "missing"
    """`sft`, `preference`, `prompt_only`, `empty` or `missing`."""
    records: int = 0
    eval_records: int = 0
    has_gold: bool = False
    """Records carry a gold answer (SFT completions or references)."""
    has_pairs: bool = False
    """Records carry chosen/rejected pairs."""
    has_reference: bool = False
    """Records carry a reference answer a program can compare with."""
    prompt_tokens: list[int] = field(default_factory=list)
    answer_tokens: list[int] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)
    """Answer counts when answers are short labels."""

    def token_quantile(self, q: float) -> int:
        """A quantile of prompt+answer tokens per record (template included)."""
        totals = sorted(p + a for p, a in zip(self.prompt_tokens, self.answer_tokens))
        if not totals:
            return 0
        index = min(len(totals) - 1, max(0, int(round(q * (len(totals) - 1)))))
        return totals[index]

    @property
    def mean_tokens(self) -> float:
        totals = [p + a for p, a in zip(self.prompt_tokens, self.answer_tokens)]
        return statistics.fmean(totals) if totals else 0.0

    def summary(self) -> str:
        if self.format in ("missing", "empty"):
            return f"{self.path}: {self.format}"
        return (
            f"{self.records} {self.format} records (eval {self.eval_records}), "
            f"~{self.mean_tokens:.0f} tokens each (p95 {self.token_quantile(0.95)})"
        )


def estimate_tokens(text: str) -> int:
    return max(1, int(len(text) / CHARS_PER_TOKEN + 0.999))


def _text(value: Any) -> str:
    if isinstance(value, list):
        return "\n".join(str(m.get("content", "")) for m in value if isinstance(m, dict))
    return "" if value is None else str(value)


def row_format(row: dict[str, Any]) -> str:
    if "chosen" in row and "rejected" in row:
        return "preference"
    if "completion" in row or "messages" in row:
        return "sft"
    if "prompt" in row:
        return "prompt_only"
    return "unknown"


def read_rows(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The JSON objects of a JSONL file (blank and broken lines skipped), at most ``limit`` of them."""
    return list(itertools.islice(iter_jsonl(path), limit or None))


def inspect_data(train_path: Path, eval_path: Path | None = None) -> DataFacts:
    """Read a training file (and optionally its eval file) and summarize it."""
    facts = DataFacts(path=str(train_path))
    if not train_path.exists():
        return facts
    rows = read_rows(train_path)
    if not rows:
        facts.format = "empty"
        return facts
    formats = [row_format(r) for r in rows]
    facts.format = max(set(formats), key=formats.count)
    facts.records = len(rows)
    if eval_path is not None:
        facts.eval_records = len(read_rows(eval_path))
    for row in rows:
        if "messages" in row:
            msgs = row["messages"]
            prompt = _text([m for m in msgs if m.get("role") != "assistant"])
            answer = _text([m for m in msgs if m.get("role") == "assistant"])
        else:
            prompt = _text(row.get("prompt"))
            answer = _text(row.get("completion") or row.get("chosen") or row.get("reference"))
        facts.prompt_tokens.append(estimate_tokens(prompt) + TEMPLATE_TOKENS)
        facts.answer_tokens.append(estimate_tokens(answer) if answer else 0)
        if answer and len(answer) <= 40:
            facts.labels[answer.strip()] = facts.labels.get(answer.strip(), 0) + 1
    facts.has_pairs = facts.format == "preference"
    facts.has_gold = facts.format in ("sft", "preference") or any(r.get("reference") for r in rows)
    facts.has_reference = any(r.get("reference") not in (None, "") for r in rows) or facts.format == "sft"
    if len(facts.labels) > max(50, facts.records // 2):
        facts.labels = {}
    return facts
