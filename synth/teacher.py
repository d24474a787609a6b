"""What the teacher LLM is asked for one record, and how its reply becomes a record.

``teacher_request(...)`` writes one record's prompt: the contract, a few examples, this record's axis
values, and two things of its own so that no two prompts ask for the same thing (a small model at a
low temperature answers the same prompt the same way): an angle from ``ANGLES`` and a target length
of the input; with a grounding document, the passage of it this record is about.

``parse_teacher_record(...)`` reads the reply the way small models write it (synth.replies: a fence,
prose around the JSON, trailing commas, a list cut off), maps the usual other names of the fields
(``question``/``answer``, ``text``/``label``), and fixes a label or enum value written in another case or
with spaces for underscores. What it cannot use comes back with the reason: an empty reply, one cut
off at ``max_tokens``, no JSON, no input, no answer.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

from specs.data_generation import DataGenerationSpec
from specs.use_case import UseCaseSpec
from synth import seeds as seedrows
from synth.expand import sample_axes
from synth.replies import ReplyError, read_json
from synth.verify import EXPRESSION_KEYS

MAX_TOKENS = 600
"""Room for one record's reply."""
ANGLES = (
    "a case the examples do not cover",
    "one concrete detail of its own (a name, a number, a date or a place)",
    "wording unlike any of the examples",
    "an unusual but realistic case",
    "a case close to the line between two different answers",
    "the plainest case of its kind",
    "more context than the examples give",
    "a different person or situation than the examples",
)
"""Per-record directions (record index k gets one, drawn from the seed): what to make different."""
INPUT_KEYS = ("input", "text", "question", "prompt", "message")
OUTPUT_KEYS = ("output", "answer", "label", "response", "reply", "completion", "category", "intent", "summary",
               "rewrite", "sql")


def passages(documents: dict[str, str]) -> list[str]:
    """The grounding documents cut into the passages a record can be about (lines that say something)."""
    out = []
    for text in documents.values():
        for line in text.splitlines():
            line = line.strip().lstrip("-*•# ").strip()
            if len(line.split()) >= 4:
                out.append(line)
    return out


def _target_words(examples: list[dict[str, Any]], rng: random.Random) -> int:
    sizes = sorted(len(str(e.get("input", "")).split()) for e in examples) or [12]
    middle = sizes[len(sizes) // 2]
    return max(3, round(middle * rng.choice((0.5, 0.75, 1.0, 1.0, 1.25, 1.5, 2.0)) + rng.randint(-2, 2)))


def teacher_request(use_case: UseCaseSpec, spec: DataGenerationSpec, split: str, index: int,
                    examples: list[dict[str, Any]], documents: dict[str, str] | None = None) -> dict[str, Any]:
    """One teacher request: the contract, a few examples, the grounding documents, this record's axis
    values, angle and length, and (grounded) its passage."""
    axes = sample_axes(spec, split, index)
    rng = random.Random(f"{spec.seed}:{split}:{index}:shots")
    shots = rng.sample(examples, min(4, len(examples))) if examples else []
    base = seedrows.teacher_messages(use_case, 1, spec.format)
    wanted = '{"input": ..., "chosen": ..., "rejected": ...}' if spec.format == "preference" else \
        '{"input": ..., "output": ...}'
    if use_case.task_type == "math" and spec.format != "preference":
        wanted = '{"input": ..., "output": ..., "expression": ...}'
    lines = [base[1]["content"].split("\n\nWrite")[0], ""]
    if shots:
        lines.append("Examples of the style wanted:")
        lines += [json.dumps({k: s.get(k) for k in ("input", "output", "chosen", "rejected") if s.get(k) is not None},
                             ensure_ascii=False) for s in shots]
    if axes:
        lines.append("This example must have: " + "; ".join(f"{k} = {v}" for k, v in axes.items()))
    lines.append(f"Give it {rng.choice(ANGLES)}; its input is about {_target_words(examples, rng)} words long.")
    for doc in spec.grounding_documents[:3]:
        lines.append(f"Draw facts from the document {doc.path}" + (f" ({doc.description})" if doc.description else "")
                     + ("; answers use only what it says:\n<document>\n" + documents[doc.path] + "\n</document>"
                        if documents and doc.path in documents else ""))
    parts = passages(documents or {})
    if parts:
        lines.append(f"This example is about this part of the document: {rng.choice(parts)}")
    lines.append(f"Write ONE new example, different from the examples above, as a JSON object {wanted}.")
    if "expression" in wanted:
        lines.append('"expression" is the arithmetic that gives the answer, with numbers and + - * / ( ) only, such as '
                     '"125 * 1.609"; the answer is checked against it.')
    messages = [base[0], {"role": "user", "content": "\n".join(lines)}]
    return {"messages": messages, "temperature": spec.generator.temperature, "max_tokens": MAX_TOKENS,
            "cache_key": f"{spec.seed}:{split}:{index}", "_axes": axes}


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "_", str(text).strip().strip("\"'`*.").strip().lower())


def fit_label(value: str, labels: list[str]) -> str | None:
    """The allowed label ``value`` means when it differs only in case, spaces, dashes or quotes."""
    matches = [label for label in labels if _norm(label) == _norm(value)]
    return matches[0] if len(matches) == 1 else None


def _fit_enums(value: Any, schema: dict[str, Any], fixed: list[str]) -> Any:
    """``value`` with string enum values of ``schema`` respelled the way the schema spells them."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, str) and isinstance(schema.get("enum"), list) and value not in schema["enum"]:
        better = fit_label(value, [v for v in schema["enum"] if isinstance(v, str)])
        if better is not None:
            fixed.append("enum spelling")
            return better
        return value
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        return {k: _fit_enums(v, props.get(k, {}), fixed) for k, v in value.items()}
    if isinstance(value, list):
        return [_fit_enums(v, schema.get("items") or {}, fixed) for v in value]
    return value


def _field(value: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((value[k] for k in keys if value.get(k) not in (None, "")), None)


def parse_teacher_record(text: str, axes: dict[str, str], *, finish_reason: str | None = None,
                         use_case: UseCaseSpec | None = None, fmt: str = "sft"
                         ) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """(record, None, repairs) for a usable reply; (None, reason, repairs) for one that is not."""
    cut = finish_reason == "length"
    try:
        value, repairs = read_json(text)
    except ReplyError as exc:
        if cut:
            return None, "teacher reply cut off at max_tokens", []
        return None, f"teacher reply {exc}", []
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, dict)), None)
    if not isinstance(value, dict):
        return None, "teacher reply cut off at max_tokens" if cut else "teacher reply not a JSON object", repairs
    contract = use_case.contract if use_case is not None else None
    record: dict[str, Any] = {}
    source = _field(value, INPUT_KEYS)
    if source is None:
        return None, "teacher reply missing input", repairs
    record["input"] = source
    if fmt == "preference":
        for key in ("chosen", "rejected"):
            if value.get(key) not in (None, ""):
                record[key] = value[key]
        answer = value.get("chosen") or _field(value, OUTPUT_KEYS)
        if answer is None:
            return None, "teacher reply missing chosen", repairs
        record["chosen"] = answer
    else:
        answer = _field(value, OUTPUT_KEYS)
        if answer is None:
            return None, "teacher reply missing output", repairs
        record["output"] = answer
    if value.get("reference") not in (None, ""):
        record["reference"] = value["reference"]
    if contract is not None and contract.output_schema:
        for key in ("output", "chosen", "rejected"):
            item = record.get(key)
            if isinstance(item, str):
                try:
                    item = json.loads(item)
                except json.JSONDecodeError:
                    continue
            if isinstance(item, (dict, list)):
                record[key] = _fit_enums(item, contract.output_schema, repairs)
    for key, item in list(record.items()):
        record[key] = json.dumps(item, ensure_ascii=False) if isinstance(item, (dict, list)) else str(item).strip()
    labels = list(contract.labels or []) if contract is not None else []
    for key in ("output", "chosen", "rejected"):
        if labels and key in record and record[key] not in labels:
            better = fit_label(record[key], labels)
            if better is not None:
                record[key] = better
                repairs.append("label spelling")
    record["meta"] = dict(axes)
    answer_label = record.get("output") if fmt != "preference" else record.get("chosen")
    for name, asked in axes.items():  # a label axis says what the record is: the label it has, not the one asked
        if labels and asked in labels and answer_label in labels and answer_label != asked:
            record["meta"][name], record["meta"][f"asked_{name}"] = answer_label, asked
            repairs.append("label other than asked")
    expression = _field(value, EXPRESSION_KEYS)
    if expression not in (None, ""):
        record["meta"]["expression"] = str(expression).strip()
    return record, None, repairs
