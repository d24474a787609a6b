"""Waivers in a decision left with `tunesmith approve` are records: files written before hold
``code: message`` text and still resume; new files hold ``{"code", "message"}`` objects."""

from __future__ import annotations

import json

from assistant.events import ApprovalRequested, Decision
from assistant.pending import APPROVALS_DIR, BY_TERMINAL, call_key, take_decision, write_decision
from skills.toolkit import ToolContext, Waiver

PII = "pii: 3 records contain an email address"
REQUEST = ApprovalRequested("call-1", "start_training", {"resume": False},
                            {"summary": "Train the model", "findings": [PII, "no_quality_report"]})
WAIVED = [Waiver("pii", "3 records contain an email address"), Waiver("no_quality_report")]


def _leave(session_dir, waive) -> None:
    folder = session_dir / APPROVALS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    record = {"tool": REQUEST.tool, "arguments": REQUEST.arguments, "call_id": REQUEST.call_id,
              "decision": "allow_once", "comment": None, "waive": waive, "by": BY_TERMINAL}
    (folder / f"{call_key(REQUEST)}.json").write_text(json.dumps(record), encoding="utf-8")


def test_an_old_pending_file_with_text_waivers_is_read_into_records(tmp_path):
    _leave(tmp_path, [PII, "no_quality_report"])
    decision = take_decision(tmp_path, REQUEST)
    assert decision is not None and decision.allowed and decision.waive == WAIVED
    assert all(type(waiver) is Waiver for waiver in decision.waive)
    ctx = ToolContext(session_dir=tmp_path, approved_waivers=decision.waive)
    assert ctx.waived("pii", "3 records contain an email address") and ctx.waived("no_quality_report")
    assert not ctx.waived("pii", "another message") and not ctx.waived("duplicates")
    assert take_decision(tmp_path, REQUEST) is None, "a decision is taken once"


def test_a_new_pending_file_round_trips_waivers_as_objects(tmp_path):
    path = write_decision(tmp_path, REQUEST, Decision("allow_once", "fine", by=BY_TERMINAL, waive=WAIVED))
    stored = json.loads(path.read_text(encoding="utf-8"))["waive"]
    assert stored == [{"code": "pii", "message": "3 records contain an email address"},
                      {"code": "no_quality_report", "message": ""}]
    decision = take_decision(tmp_path, REQUEST)
    assert decision is not None and decision.waive == WAIVED and decision.comment == "fine"


def test_a_waiver_that_names_no_finding_decides_nothing(tmp_path):
    _leave(tmp_path, [{"message": "no code"}])
    assert take_decision(tmp_path, REQUEST) is None
    assert not (tmp_path / APPROVALS_DIR / f"{call_key(REQUEST)}.json").exists()
