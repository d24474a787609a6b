"""The use-case step through the real agent loop: with the offline GuidedModel, and with LitellmModel
talking to a loopback OpenAI-compatible server that plays an LLM calling the same tools."""

from __future__ import annotations

import json

from assistant.config import Settings
from assistant.events import ApprovalRequested, Decision, PhaseChanged, Question
from assistant.runtime import build_agent
from assistant.session import Workspace
from specs.use_case import UseCaseSpec
from specs.yamlio import load_spec
from tests.fakes import QueueApprover, collect
from tests.loopback import LoopbackServer, Reply, ToolCallSpec

DESCRIPTION = "I need a model that categorizes bank transactions into our 12 categories."
LABELS = "groceries, dining, transport, rent, utilities, entertainment, shopping, health, travel, income, transfers, fees"


class UseCaseApprover:
    """Allows the use-case step's calls; stops at the first call of a later step (not under test here)."""

    def __init__(self):
        self.requests: list[ApprovalRequested] = []

    async def decide(self, request: ApprovalRequested) -> Decision:
        self.requests.append(request)
        if request.tool in ("write_use_case", "update_use_case", "approve_use_case"):
            return Decision("allow_once")
        return Decision("reject_once")


def questions(events) -> list[Question]:
    return [e for e in events if isinstance(e, Question)]


async def test_guided_journey_with_approvals_and_a_restart(tmp_path):
    workspace = Workspace(tmp_path / "ws")
    session = workspace.create("bank")
    approver = UseCaseApprover()
    agent = build_agent(Settings(workspace=tmp_path / "ws"), session, approver)
    events = await collect(agent.send(DESCRIPTION))
    assert [q.text.split("?")[0] for q in questions(events)] == ["Who will use the model's answers"]
    events = await collect(agent.send("1"))
    assert "12 categories" in questions(events)[0].text

    # the app closes and opens again: the conversation tells the guide where it was
    session = workspace.open("bank")
    agent = build_agent(Settings(workspace=tmp_path / "ws"), session, approver)
    events = await collect(agent.send(LABELS))
    assert "success tenets" in questions(events)[0].text
    events = await collect(agent.send("Use these three tenets"))
    assert "Which base model" in questions(events)[0].text
    events = await collect(agent.send("1"))
    request = next(e for e in events if isinstance(e, ApprovalRequested))
    assert request.tool == "write_use_case" and "+task_type: classification" in request.preview["diff"]
    assert "Approve use_case.yaml" in questions(events)[0].text

    events = await collect(agent.send("add label savings"))
    request = next(e for e in events if isinstance(e, ApprovalRequested))
    assert request.tool == "update_use_case" and "+    - savings" in request.preview["diff"]
    events = await collect(agent.send("looks good"))
    assert [e.tool for e in events if isinstance(e, ApprovalRequested)][0] == "approve_use_case"
    assert any(isinstance(e, PhaseChanged) and e.phase == "data" for e in events)
    spec = load_spec(session.dir / "use_case.yaml", UseCaseSpec)
    assert spec.status == "approved" and len(spec.contract.labels) == 13 and len(spec.success_tenets) == 3
    decisions = [r for r in session.records() if r.get("type") == "decision"]
    assert [d["tool"] for d in decisions][:3] == ["write_use_case", "update_use_case", "approve_use_case"]
    assert all(d["decision"] == "allow_once" for d in decisions[:3])


def _llm_spec_arguments() -> dict:
    return {
        "name": "Transaction categorizer",
        "business_problem": DESCRIPTION,
        "primary_users": "the finance app",
        "task_type": "classification",
        "contract": {"input_description": "One bank transaction line.", "output_description": "One label.",
                     "output_format": "label", "labels": LABELS.split(", ")},
        "success_tenets": [
            {"name": "correct_label", "description": "Right label.", "measured_by": "code", "metric": "label_match"},
            {"name": "label_only", "description": "Only a label.", "measured_by": "code", "metric": "regex",
             "params": {"pattern": "^\\w+$"}},
            {"name": "unclear_inputs", "description": "Plausible label.", "measured_by": "judge", "rubric": "1 if plausible."},
        ],
    }


async def test_an_llm_planner_drives_the_same_tools_through_litellm(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-loopback-not-a-real-key")
    replies = [
        Reply(tool_calls=[ToolCallSpec("ask_user", {"question": "Who uses the answers?", "choices": ["The finance app", "A team"]})]),
        Reply(tool_calls=[ToolCallSpec("write_use_case", {**_llm_spec_arguments(), "success_tenets": []})]),
        Reply(tool_calls=[ToolCallSpec("write_use_case", _llm_spec_arguments())]),
        Reply(text="Here is the spec. Approve it, or tell me what to change."),
        Reply(tool_calls=[ToolCallSpec("approve_use_case", {})]),
        Reply(text="Approved. Next: data."),
    ]
    with LoopbackServer(replies) as server:
        workspace = Workspace(tmp_path / "ws")
        session = workspace.create("llm")
        settings = Settings(workspace=tmp_path / "ws", model="openai/loopback", api_base=server.api_base)
        approver = QueueApprover([Decision("allow_once"), Decision("allow_once")])
        agent = build_agent(settings, session, approver)
        events = await collect(agent.send(DESCRIPTION))
        assert questions(events)[0].choices == ["The finance app", "A team"]
        sent_tools = {t["function"]["name"]: t for t in server.requests[0]["tools"]}
        assert {"ask_user", "propose_base_model", "write_use_case", "update_use_case", "approve_use_case"} <= set(sent_tools)
        assert "IOContract" in json.dumps(sent_tools["write_use_case"]["function"]["parameters"])

        await collect(agent.send("The finance app"))
        # the first write had no tenets: the model read a field-named error and tried again
        tool_results = [m for m in server.requests[2]["messages"] if m["role"] == "tool"]
        assert "success_tenets" in tool_results[-1]["content"]
        assert load_spec(session.dir / "use_case.yaml", UseCaseSpec).status == "draft"

        await collect(agent.send("approve"))
        assert load_spec(session.dir / "use_case.yaml", UseCaseSpec).status == "approved"
        assert session.meta.phase == "data"
        assert not server.replies, "every scripted reply was used"
