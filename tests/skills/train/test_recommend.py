"""Technique recommendation: eight distinct use cases and what each should get."""

from __future__ import annotations

import pytest

from skills.train.datafacts import DataFacts
from skills.train.recommend import choose_adapter, recommend
from specs.use_case import UseCaseSpec

GIB = 1024**3


def spec(task, fmt="text", tenets=(), labels=None, schema=None, base="embedded:SmolLM2-135M-Instruct"):
    return UseCaseSpec(
        name="t", business_problem="p", primary_users="u", task_type=task, base_model=base,
        contract={"input_description": "in", "output_description": "out", "output_format": fmt,
                  "labels": labels, "output_schema": schema},
        success_tenets=list(tenets) or [{"name": "ok", "description": "d", "measured_by": "judge", "rubric": "r"}],
    )


def code(name, metric):
    return {"name": name, "description": "d", "measured_by": "code", "metric": metric}


def judge(name):
    return {"name": name, "description": "d", "measured_by": "judge", "rubric": "score it"}


def data(fmt, n=200, reference=False):
    return DataFacts(path="data/train.jsonl", format=fmt, records=n, has_gold=fmt in ("sft", "preference") or reference,
                     has_pairs=fmt == "preference", has_reference=reference or fmt == "sft")


CASES = [
    # (id, use case, data, expected technique, judge configured)
    ("bank-transactions", spec("classification", "label", [code("correct_label", "label_match")], labels=["food", "rent"]), data("sft"), "sft", False),
    ("invoice-extraction", spec("extraction", "json", [code("valid", "json_schema")], schema={"type": "object"}), data("sft"), "sft", False),
    ("support-tone-pairs", spec("rewriting", "text", [judge("polite")]), data("preference"), "dpo", True),
    ("math-word-problems", spec("math", "text", [code("answer", "numeric_tolerance")]), data("prompt_only", reference=True), "rlvr", False),
    ("regex-format-prompts", spec("generation", "text", [code("format", "regex")]), data("prompt_only"), "rlvr", False),
    ("empathetic-replies", spec("chat", "text", [judge("empathy"), judge("helpful")]), data("prompt_only"), "rlaif", True),
    ("summaries-with-gold", spec("summarization", "text", [judge("faithful")]), data("sft"), "sft", True),
    ("qa-exact-gold", spec("question_answering", "text", [code("exact", "exact_match")]), data("sft"), "sft", False),
    ("preference-json", spec("extraction", "json", [code("valid", "json_valid")], schema={"type": "object"}), data("preference"), "dpo", False),
]


@pytest.mark.parametrize("case_id,use_case,facts,expected,judge_ok", CASES, ids=[c[0] for c in CASES])
def test_technique(case_id, use_case, facts, expected, judge_ok):
    rec = recommend(use_case, facts, available_bytes=20 * GIB, judge_available=judge_ok)
    assert rec.technique == expected, rec.text()
    assert {o.technique for o in rec.ranked} == {"sft", "dpo", "rlvr", "rlaif"}
    assert all(o.reason for o in rec.ranked)
    assert rec.adapter in ("lora", "full") and rec.adapter_reason


def test_rl_always_uses_lora_and_small_sft_goes_full():
    rec = recommend(CASES[3][1], CASES[3][2], available_bytes=20 * GIB)
    assert rec.adapter == "lora" and "reference" in rec.adapter_reason
    rec = recommend(CASES[0][1], CASES[0][2], available_bytes=20 * GIB)
    assert rec.adapter == "full" and "small" in rec.adapter_reason


def test_memory_decides_adapter():
    adapter, why = choose_adapter(7_000_000_000, "sft", available_bytes=24 * GIB)
    assert adapter == "lora" and "will not fit" in why
    adapter, why = choose_adapter(134_000_000, "sft", available_bytes=2 * GIB)
    assert adapter == "lora"
    adapter, why = choose_adapter(70_000_000_000, "sft", available_bytes=24 * GIB)
    assert "even LoRA will not fit" in why


def test_prompt_alone_may_do():
    big = spec("summarization", "text", [judge("faithful")], base="/models/llama-8b")
    rec = recommend(big, data("sft"), n_params=8_000_000_000, available_bytes=200 * GIB)
    assert rec.prompt_note and "prompt" in rec.prompt_note
    small = CASES[0][1]
    assert recommend(small, data("sft"), available_bytes=20 * GIB).prompt_note is None
    assert "already scores" in recommend(small, data("sft"), available_bytes=20 * GIB, base_score=0.9).prompt_note


def test_missing_data_warns():
    rec = recommend(CASES[0][1], DataFacts(path="x"), available_bytes=20 * GIB)
    assert any("no training data" in w for w in rec.warnings)
    assert "Recommended" in rec.text()
