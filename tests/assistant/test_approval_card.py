"""The approval card as text (terminal and MCP elicitation) and the elicitation form and answers."""

from __future__ import annotations

import mcp_types as types
from mcp_types._v2025_11_25 import PrimitiveSchemaDefinition  # what the spec allows in a form field
from pydantic import TypeAdapter

from assistant.approval_card import card_text
from assistant.events import ApprovalRequested
from assistant.mcp_gate import decision_from, elicitation_form
from assistant.pending import BY_ELICITATION, call_key, person_only
from skills.toolkit import Estimate, Preview

PREVIEW = Preview(summary="Train run-1 with SFT on 400 records", diff="--- a/training.yaml\n+++ b/training.yaml\n+lr: 1e-4",
                  code="def reward(x):\n    return 1.0", command="python -m skills.train.job --plan training.yaml",
                  estimate=Estimate(seconds=300, tokens=12000, calls=40, cost_usd=0.03),
                  findings=["label_imbalance: 80% of records are groceries"]).model_dump()


def test_the_card_shows_what_will_happen():
    text = card_text("start_training", {"resume_run": None}, PREVIEW)
    assert text.startswith("Approve start_training?\nTrain run-1 with SFT on 400 records")
    assert "Estimate: ≈ 5 min · 12,000 tokens · 40 calls · $0.0300" in text
    assert "Changes:\n```diff\n--- a/training.yaml" in text
    assert "Code it will run:\n```python\ndef reward(x):" in text
    assert "Command:\n```bash\npython -m skills.train.job" in text
    assert "- label_imbalance: 80% of records are groceries" in text
    assert "Arguments" not in text, "the arguments show only when nothing else says what runs"
    bare = card_text("record_note", {"note": "they use euros"}, {"summary": "note it"})
    assert 'Arguments:\n```json\n{\n  "note": "they use euros"\n}' in bare


def test_long_blocks_are_cut_and_say_so():
    text = card_text("write_generator_code", {}, {"summary": "s", "code": "x = 1\n" * 5000}, limit=100)
    assert "(first 100 of 30000 characters)" in text and text.count("x = 1") < 30


def test_the_elicitation_form_is_a_valid_flat_form_and_answers_map_to_decisions():
    request = ApprovalRequested("c1", "start_training", {}, PREVIEW)
    message, schema = elicitation_form(request)
    assert message.startswith("tunesmith asks for your approval.\n\nApprove start_training?")
    adapter = TypeAdapter(PrimitiveSchemaDefinition)
    for field in schema["properties"].values():
        adapter.validate_python(field)
    assert schema["required"] == ["decision"]
    accepted = decision_from(types.ElicitResult(action="accept", content={"decision": "allow_always", "comment": " ok "}))
    assert (accepted.kind, accepted.comment, accepted.by) == ("allow_always", "ok", BY_ELICITATION)
    assert decision_from(types.ElicitResult(action="decline")).kind == "reject_once"
    cancelled = decision_from(types.ElicitResult(action="cancel"))
    assert cancelled.kind == "reject_once" and "without deciding" in cancelled.comment
    odd = decision_from(types.ElicitResult(action="accept", content={"decision": "allow_forever"}))
    assert odd.kind == "reject_once", "an answer outside the choices allows nothing"


def test_findings_make_a_call_the_persons_alone_and_keys_name_exact_calls():
    assert person_only(ApprovalRequested("c", "start_training", {}, PREVIEW))
    assert not person_only(ApprovalRequested("c", "start_training", {}, {"summary": "s"}))
    assert person_only(ApprovalRequested("c", "rate_answers", {}, {"summary": "s"}, person_only=True))
    def key(tool: str, arguments: dict, summary: str = "s") -> str:
        return call_key(ApprovalRequested("c", tool, arguments, {"summary": summary}))

    assert key("t", {"a": 1, "b": 2}) == key("t", {"b": 2, "a": 1})
    assert key("t", {"a": 1}) != key("t", {"a": 2}) != key("u", {"a": 2})
    assert key("t", {"a": 1}, "Create use_case.yaml") != key("t", {"a": 1}, "Replace use_case.yaml"), \
        "a decision is for the card the person saw"


def test_job_progress_of_each_kind_becomes_a_growing_notification():
    from assistant.mcp_gate import ProgressReporter, job_progress

    reporter = ProgressReporter(ctx=None)
    train = job_progress({"type": "progress", "step": 20, "total_steps": 80, "loss": 1.23456, "eta_seconds": 61}, "train")
    assert reporter.notification(train) == (20.0, 80, "train: 20/80 · eta 61 s · loss 1.235")
    generate = job_progress({"type": "progress", "task": "generate", "done": 5, "total": 10, "rate": 2.5}, "x")
    assert reporter.notification(generate) == (25.0, 30, "generate: 5/10 · 2.50/s"), "a new task continues the count"
    judge = job_progress({"type": "progress", "task": "judge", "done": 1, "total": 4}, "evaluate")
    assert reporter.notification(judge)[0] == 26.0
    assert job_progress({"type": "checkpoint", "step": 20}, "train") is None
    assert job_progress({"type": "progress", "message": "loading"}, "train") is None
