"""SIGKILL of the app during a conversation, then resume: nothing approved is lost.

A subprocess runs a headless agent session (real use-case tools, a scripted planner that streams
slowly; tests/faults/conversation_child.py) and is killed with SIGKILL (1) while the planner
streams, after two approved tool calls, and (2) while an approval is pending. The session is
reopened from disk: decisions, tool results and the written spec survive; resuming continues the
conversation without asking again for what was approved, and re-asks what was pending.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from assistant.agent import Agent
from assistant.events import ApprovalRequested, DecisionRecorded, ToolFinished
from assistant.runtime import collect_tools
from assistant.session import Workspace
from tests.fakes import FixedApprover, collect, say

ROOT = Path(__file__).resolve().parents[2]


def run_until(workspace: Workspace, name: str, mode: str, marker: str) -> None:
    """Start the child, wait for its marker line, SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-m", "tests.faults.conversation_child", str(workspace.root), name, mode],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in child.stdout:
            if line.strip() == marker:
                break
        else:
            raise AssertionError(f"the child ended before {marker}: {child.stderr.read()[-3000:]}")
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()


def test_kill_while_streaming_keeps_every_approved_step_and_resume_continues(workspace):
    workspace.create("talk").close()
    run_until(workspace, "talk", "stream", "STREAMING")

    session = workspace.open("talk")
    records = session.records()
    decisions = [r for r in records if r["type"] == "decision"]
    assert [(d["tool"], d["decision"]) for d in decisions] == [("write_use_case", "allow_once"),
                                                              ("approve_use_case", "allow_once")]
    results = [r["message"]["name"] for r in records if r["type"] == "tool"]
    assert results == ["write_use_case", "approve_use_case"]
    spec = yaml.safe_load((session.dir / "use_case.yaml").read_text(encoding="utf-8"))
    assert spec["status"] == "approved" and len(spec["contract"]["labels"]) == 12
    meta = json.loads(session.meta_path.read_text(encoding="utf-8"))
    assert meta["phase"] == "data" and meta["pending_approval"] is None
    # The answer that was streaming when the app died was never recorded as said.
    assert records[-1]["type"] in ("tool", "phase")

    def sees_the_approval(messages, tools):
        assert "use_case.yaml is approved" in messages[-1]["content"]

    approver = FixedApprover("reject")
    agent = Agent(session, _scripted([say("Welcome back: the spec is approved; next, data.", expect=sees_the_approval)]),
                  collect_tools(), approver=approver)
    events = _run(agent.resume())
    assert approver.requests == [], "nothing approved before the kill may be asked again"
    assert not any(isinstance(e, DecisionRecorded) for e in events)
    reopened = workspace.open("talk").records()
    assert [r for r in reopened if r["type"] == "decision"] == decisions
    assert reopened[-1]["message"]["content"].startswith("Welcome back")


def test_kill_while_an_approval_is_pending_reasks_it_on_resume(workspace):
    workspace.create("pending").close()
    run_until(workspace, "pending", "pending", "PENDING")

    session = workspace.open("pending")
    assert session.meta.pending_approval and session.meta.pending_approval["tool"] == "write_use_case"
    assert not (session.dir / "use_case.yaml").exists(), "nothing runs before it is approved"
    assert not [r for r in session.records() if r["type"] == "decision"]

    approver = FixedApprover("allow_once")
    agent = Agent(session, _scripted([say("Written; tell me what to change.")]), collect_tools(), approver=approver)
    events = _run(agent.resume())
    assert [r.tool for r in approver.requests] == ["write_use_case"]
    assert any(isinstance(e, ApprovalRequested) for e in events)
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert [(e.tool, e.is_error) for e in finished] == [("write_use_case", False)]
    assert (session.dir / "use_case.yaml").exists()
    reopened = workspace.open("pending")
    assert [r["decision"] for r in reopened.records() if r["type"] == "decision"] == ["allow_once"]
    assert reopened.meta.pending_approval is None


def _scripted(turns):
    from tests.fakes import ScriptedModel

    return ScriptedModel(turns)


def _run(stream):
    import asyncio

    return asyncio.run(collect(stream))
