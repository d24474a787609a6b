"""A teacher asked for a record of one label often writes one of another (Qwen2.5 1.5B on IT tickets: 130 of 211
records). The record keeps the label it has, and its metadata says that label, with the one asked beside it."""

from __future__ import annotations

import json
from pathlib import Path

from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec
from synth.teacher import parse_teacher_record

EXAMPLES = Path(__file__).resolve().parents[2] / "specs" / "examples"


def _tickets() -> UseCaseSpec:
    bank = load_spec(EXAMPLES / "bank_transactions.use_case.yaml", UseCaseSpec)
    contract = bank.contract.model_copy(update={"labels": ["NETWORK", "HARDWARE", "SOFTWARE"], "output_regex": None})
    return bank.model_copy(update={"contract": contract})


def test_a_record_of_another_label_than_asked_says_the_label_it_has():
    reply = json.dumps({"input": "The printer cannot find its driver after the update", "output": "software"})
    record, reason, repairs = parse_teacher_record(reply, {"category": "HARDWARE", "writing_style": "casual"},
                                                   use_case=_tickets())
    assert reason is None and record["output"] == "SOFTWARE"
    assert record["meta"] == {"category": "SOFTWARE", "asked_category": "HARDWARE", "writing_style": "casual"}
    assert "label other than asked" in repairs and "label spelling" in repairs


def test_a_record_of_the_label_asked_and_a_non_label_axis_are_left_as_asked():
    reply = json.dumps({"input": "Wifi drops every ten minutes on floor 3", "output": "NETWORK"})
    record, reason, repairs = parse_teacher_record(reply, {"category": "NETWORK", "writing_style": "terse"},
                                                   use_case=_tickets())
    assert reason is None and record["meta"] == {"category": "NETWORK", "writing_style": "terse"} and repairs == []
    summary = load_spec(EXAMPLES / "bank_transactions.use_case.yaml", UseCaseSpec)
    summary = summary.model_copy(update={"task_type": "summarization", "contract": summary.contract.model_copy(
        update={"labels": None, "output_regex": None, "output_format": "text"})})
    reply = json.dumps({"input": "Crash on save when the disk is full. Steps: fill disk, save.", "output": "Saving crashes."})
    record, reason, _ = parse_teacher_record(reply, {"writing_style": "formal"}, use_case=summary)
    assert reason is None and record["meta"] == {"writing_style": "formal"}
