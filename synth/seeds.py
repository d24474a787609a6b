"""Seed examples (data/examples.jsonl): draft, edit, add and delete them (the person's own files: synth.importing).

A seed row is ``{"input": str, "output": str, "chosen"?: str, "rejected"?: str, "meta": {...}}``.
Rows are addressed by their 0-based position, as the table in the TUI shows them.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

from specs.use_case import UseCaseSpec
from synth.records import placeholder, read_jsonl, write_jsonl
from synth.replies import ReplyError, read_json
from synth.templates import arithmetic, classification, extraction, money, unit_conversion

EXAMPLES = "data/examples.jsonl"
ROW_KEYS = ("input", "output", "chosen", "rejected", "reference", "meta")


class SeedError(ValueError):
    """A seed edit or import that cannot be done; the message says why."""


class NeedsData(SeedError):
    """Offline, with no teacher, tunesmith cannot make examples of this task up: the message says what it needs."""


def offline_gap(use_case: UseCaseSpec, examples: list[dict[str, Any]] | None = None) -> str | None:
    """Why offline drafting cannot make this task's examples (None when a shipped template can)."""
    from synth.plan import is_transaction_task

    contract = use_case.contract
    labels = list(contract.labels or [])
    if use_case.task_type == "classification" and labels:
        if is_transaction_task(use_case):
            missing = classification.missing_labels(labels, examples or [])
            if not missing:
                return None
            return (f"the bank-transaction vocabulary has no merchants for {', '.join(missing)}: give one real "
                    "transaction for each")
        return (f"offline there is no vocabulary for {contract.input_description.strip().rstrip('.')} with the labels "
                f"{', '.join(labels)}; tunesmith does not make such inputs up")
    if use_case.task_type == "extraction" and contract.output_schema:
        return None
    if use_case.task_type == "math":
        from synth.plan import math_template

        if math_template(use_case):
            return None
        return ("offline, tunesmith computes the answers of counting, money and percentage, and unit-conversion "
                f"word problems only, not of {contract.input_description.strip().rstrip('.') or 'these problems'}")
    return (f"a {use_case.task_type.replace('_', ' ')} task's inputs and ideal answers cannot be made up offline "
            "without examples")


def needs_data_message(use_case: UseCaseSpec, gap: str) -> str:
    """What tunesmith needs to make this task's data, said plainly."""
    labels = use_case.contract.labels or []
    per = " (one or more per label)" if labels else ""
    return (f"I cannot draft seed examples offline: {gap}. I need one of: a few real examples{per} (add them with "
            "add_seed_example or in the seed table), a data file of yours (JSONL, CSV, parquet or a saved dataset "
            "folder: inspect_data_file, then import_data), or a teacher model (--teacher-model) to write them.")


def load(session_dir: Path) -> list[dict[str, Any]]:
    return read_jsonl(Path(session_dir) / EXAMPLES)


def save(session_dir: Path, rows: list[dict[str, Any]]) -> Path:
    return write_jsonl(Path(session_dir) / EXAMPLES, [clean_row(r) for r in rows])


def clean_row(row: dict[str, Any]) -> dict[str, Any]:
    unknown = set(row) - set(ROW_KEYS)
    if unknown:
        raise SeedError(f"unknown field(s) {sorted(unknown)}; a seed row has {', '.join(ROW_KEYS)}")
    out = {k: row[k] for k in ROW_KEYS if k in row and row[k] is not None}
    if not str(out.get("input", "")).strip():
        raise SeedError("a seed row needs a non-empty `input`")
    for key in ("input", "output", "chosen", "rejected", "reference"):
        if key in out and placeholder(str(out[key])):
            raise SeedError(f"`{key}` is placeholder text ({str(out[key])[:60]!r}); write a real example")
    for key in ("input", "output", "chosen", "rejected", "reference"):
        if key in out:
            out[key] = str(out[key])
    out.setdefault("meta", {})
    return out


def add_row(session_dir: Path, row: dict[str, Any]) -> int:
    rows = load(session_dir)
    rows.append(clean_row(row))
    save(session_dir, rows)
    return len(rows) - 1


def update_row(session_dir: Path, index: int, changes: dict[str, Any]) -> dict[str, Any]:
    rows = load(session_dir)
    if not 0 <= index < len(rows):
        raise SeedError(f"no seed row {index}; there are {len(rows)} (0..{len(rows) - 1})")
    merged = {**rows[index], **changes}
    rows[index] = clean_row(merged)
    save(session_dir, rows)
    return rows[index]


def delete_rows(session_dir: Path, indices: list[int]) -> int:
    rows = load(session_dir)
    bad = [i for i in indices if not 0 <= i < len(rows)]
    if bad:
        raise SeedError(f"no seed row(s) {bad}; there are {len(rows)}")
    drop = set(indices)
    save(session_dir, [r for k, r in enumerate(rows) if k not in drop])
    return len(drop)


def table(rows: list[dict[str, Any]], width: int = 60) -> str:
    """A plain-text table of seed rows (what the TUI shows as a grid)."""
    lines = ["  # | input | output", "----|-------|-------"]
    for k, row in enumerate(rows):
        text = str(row.get("input", "")).replace("\n", " ")
        answer = str(row.get("output", row.get("chosen", row.get("reference", "")))).replace("\n", " ")
        if row.get("rejected") is not None:
            answer += f"  (rejected: {str(row['rejected'])[:30]})"
        lines.append(f"{k:>3} | {text[:width]} | {answer[:width]}")
    return "\n".join(lines)


# --- drafting -------------------------------------------------------------------------------------

def draft_offline(use_case: UseCaseSpec, n: int = 12, seed: int = 0, fmt: str = "sft") -> list[dict[str, Any]]:
    """Draft seed rows without an LLM from the shipped template that fits; NeedsData when none does."""
    n = max(5, min(20, n))
    contract = use_case.contract
    gap = offline_gap(use_case)
    if gap is not None:
        raise NeedsData(needs_data_message(use_case, gap))
    rows: list[dict[str, Any]]
    if use_case.task_type == "classification" and contract.labels:
        labels = list(contract.labels)
        from synth.plan import currency_of

        made = classification.generate({"labels": labels, "n": max(n, len(labels)), "seed": seed, "split": "seed",
                                         "axes": {}, "currency": currency_of(use_case)})
        made = made[:max(n, min(len(labels), 20))]
        rows = [{"input": r["input"], "output": r["output"], "meta": {"category": r["output"]}} for r in made]
    elif use_case.task_type == "extraction" and contract.output_schema:
        made = extraction.generate({"schema": contract.output_schema, "n": n, "seed": seed, "split": "seed"})
        rows = [{"input": r["input"], "output": r["output"], "meta": {}} for r in made]
    else:  # math (offline_gap lets no other task through)
        from synth.plan import currency_of, math_template, math_topics, wants_answer_line

        template = {"unit_conversion": unit_conversion, "money": money}.get(math_template(use_case) or "", arithmetic)
        made = template.generate({"n": n, "seed": seed, "split": "seed", "answer_line": wants_answer_line(use_case),
                                  "currency": currency_of(use_case), "topics": math_topics(use_case)})
        rows = [{"input": r["input"], "output": r["output"], "meta": {}} for r in made]
    if fmt == "preference":
        rows = [with_rejected(use_case, r, k) for k, r in enumerate(rows)]
    return rows


def with_rejected(use_case: UseCaseSpec, row: dict[str, Any], k: int) -> dict[str, Any]:
    """A preference row: the seed's answer is chosen; a plausible wrong answer is rejected."""
    labels = use_case.contract.labels or []
    answer = str(row.get("output", ""))
    if labels and answer in labels and len(labels) > 1:
        wrong = labels[(labels.index(answer) + 1 + k) % len(labels)]
        wrong = wrong if wrong != answer else labels[(labels.index(answer) + 1) % len(labels)]
    else:
        wrong = "I'm not sure." if k % 2 else answer + " (unchecked)"
    return {**row, "chosen": answer, "rejected": wrong}


def teacher_messages(use_case: UseCaseSpec, n: int, fmt: str = "sft",
                     documents: dict[str, str] | None = None) -> list[dict[str, str]]:
    contract = use_case.contract
    fields = '{"input": ..., "output": ...}' if fmt != "preference" else \
        '{"input": ..., "chosen": ..., "rejected": ...} (rejected: a plausible but worse answer)'
    if use_case.task_type == "math" and fmt != "preference":
        fields = ('{"input": ..., "output": ..., "expression": ...} (expression: the arithmetic that gives the answer, '
                  'with numbers and + - * / ( ) only, such as "125 * 1.609")')
    spec = [f"Task: {use_case.name} ({use_case.task_type}). Problem: {use_case.business_problem.strip()}",
            f"Input: {contract.input_description}", f"Output: {contract.output_description}"]
    if contract.labels:
        spec.append("Allowed outputs (exact spelling): " + ", ".join(contract.labels))
    if contract.output_schema:
        spec.append("Output is JSON valid against: " + json.dumps(contract.output_schema))
    if contract.output_regex:
        spec.append(f"Output must match this regular expression in full: {contract.output_regex}")
    if contract.max_output_chars:
        spec.append(f"Output is at most {contract.max_output_chars} characters.")
    if contract.system_prompt:
        spec.append(f"The model is instructed: {contract.system_prompt}")
    spec += [f"Constraint: {c}" for c in use_case.constraints]
    for name, text in (documents or {}).items():
        spec.append(f"Draw facts from the document {name}; answers use only what it says:\n<document>\n{text}\n</document>")
    return [
        {"role": "system", "content": "You write realistic, varied training examples. Reply with JSON only."},
        {"role": "user", "content": "\n".join(spec) + f"\n\nWrite {n} diverse examples as a JSON list of {fields}. "
                                    "Cover every label or case; vary length, wording and difficulty."},
    ]


def parse_json_reply(text: str) -> Any:
    """JSON from a model reply, tolerating fences, prose around it, trailing commas and a cut-off list
    (synth.replies); ReplyError when there is none."""
    return read_json(text)[0]


def draft_with_teacher(use_case: UseCaseSpec, client: Any, n: int = 12, fmt: str = "sft",
                       documents: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Draft seed rows with a teacher model (synth.llm.LLMClient), grounded in ``documents`` when given."""
    from synth.llm import run_sync
    from synth.teacher import fit_label

    reply = run_sync(client.complete(teacher_messages(use_case, n, fmt, documents), temperature=0.8, max_tokens=4000,
                                     cache_key="seeds"))
    try:
        items = parse_json_reply(reply.text)
    except ReplyError as exc:
        raise SeedError(f"the teacher's reply held no examples ({exc})") from exc
    if isinstance(items, dict):
        items = items.get("examples") or [items]
    rows, labels, math_dropped = [], list(use_case.contract.labels or []), 0
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("input") or not (item.get("output") or item.get("chosen")):
            continue  # an example without its input or its answer teaches nothing
        row = {k: item[k] for k in ("input", "output", "chosen", "rejected") if item.get(k) is not None}
        for key in ("output", "chosen"):
            if isinstance(row.get(key), (dict, list)):
                row[key] = json.dumps(row[key])
            elif labels and key in row and str(row[key]) not in labels:
                row[key] = fit_label(str(row[key]), labels) or row[key]
        row["meta"] = {"source": "teacher"}
        if use_case.task_type == "math" and fmt != "preference":
            from synth.verify import EXPRESSION_KEYS, expression_mismatch

            expression = next((str(item[k]) for k in EXPRESSION_KEYS if item.get(k) not in (None, "")), "")
            wrong = expression_mismatch(str(row.get("output", "")), expression) if expression else "no expression"
            if wrong:  # a math answer its own arithmetic does not give is a wrong seed
                math_dropped += 1
                continue
            row["meta"]["expression"] = expression
        try:
            rows.append(clean_row(row))
        except SeedError:
            continue
    if not rows and math_dropped:
        raise SeedError(f"the teacher's {math_dropped} math examples had answers that their arithmetic did not give "
                        "(or no arithmetic): add real examples, or draft offline (use_teacher=false)")
    if not rows:
        raise SeedError("the teacher returned no usable examples")
    return rows[:20]


def sample(rows: list[dict[str, Any]], n: int, seed: int = 0) -> list[dict[str, Any]]:
    if len(rows) <= n:
        return list(rows)
    return random.Random(seed).sample(rows, n)
