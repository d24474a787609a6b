"""Approval policy: defaults, standing rules, --yes, policy files, and the fail-closed property."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from assistant.agent import Agent
from assistant.approvals import Policy, PolicyFileError, YesApprover, load_policy_file
from assistant.events import ApprovalRequested, Decision
from assistant.session import Workspace
from skills.toolkit import ToolContext, tool
from tests.fakes import QueueApprover, ScriptedModel, ScriptedTurn, collect

RUNS: list[tuple[str, str, int]] = []
"""(tool, call id, number of log records when it ran)."""
RUNNING: dict[str, object] = {}
"""The call id and session of the call CallIdAgent runs now (the test tools read them)."""


def _make(name: str, permission: str):
    def fn(ctx: ToolContext) -> str:
        RUNS.append((name, RUNNING["call_id"], len(RUNNING["session"].records())))
        return f"{name} ran"

    fn.__name__ = name
    fn.__doc__ = f"The {name} tool."
    return tool(permission)(fn)  # type: ignore[arg-type]


ASK_A, ASK_B, ALWAYS, NEVER = _make("ask_a", "ask"), _make("ask_b", "ask"), _make("show", "always"), _make("nope", "never")
WAIVE = tool("ask", person_only=True)(_make("waive", "ask").fn)  # a person-only tool
TOOLS = {t.name: t for t in (ASK_A, ASK_B, ALWAYS, NEVER, WAIVE)}


class CallIdAgent(Agent):
    """Passes the call id and session to the test tools so they can record when they ran."""

    async def _run(self, tool, ctx, args, call_id):
        RUNNING.update(call_id=call_id, session=self.session)
        async for event in super()._run(tool, ctx, args, call_id):
            yield event


def _policy_gate(name: str, policy: Policy) -> str:
    return policy.gate(TOOLS[name]).action


def test_defaults_follow_the_tool_permission():
    policy = Policy()
    assert [_policy_gate(n, policy) for n in ("ask_a", "show", "nope")] == ["ask", "run", "decided"]
    assert policy.gate(NEVER).decision.kind == "reject_once"


def test_always_decisions_become_rules_and_never_stays_never():
    policy = Policy()
    assert policy.remember("ask_a", Decision("allow_always"))
    assert not policy.remember("ask_a", Decision("allow_once"))
    assert policy.remember("ask_b", Decision("reject_always"))
    assert policy.gate(ASK_A).decision.kind == "allow_once"
    assert policy.gate(ASK_B).decision.kind == "reject_once"
    policy.remember("nope", Decision("allow_always"))
    assert policy.gate(NEVER).decision.kind == "reject_once"


async def test_yes_approver_allows_and_says_so():
    decision = await YesApprover().decide(ApprovalRequested("c", "ask_a", {}, {"summary": "x"}))
    assert decision.kind == "allow_once" and decision.by == "--yes"


def test_policy_file_rules(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text("default: reject\ntools:\n  ask_a: allow\n  ask_b: ask\n")
    rules, default = load_policy_file(path)
    assert rules == {"ask_a": "allow", "ask_b": "ask"} and default == "reject"
    policy = Policy.for_session(None, path)
    assert policy.gate(ASK_A).decision.by == "policy file policy.yaml"
    assert policy.gate(ASK_B).action == "ask"
    assert Policy(file_default="reject").gate(ASK_A).decision.kind == "reject_once"


@pytest.mark.parametrize("text, message", [
    ("tools:\n  ask_a: maybe\n", "tools.ask_a: 'maybe' is not one of allow, reject, ask"),
    ("default: yes\n", "default: 'yes'"),
    ("rules: {}\n", "unknown keys ['rules']"),
    ("- a\n", "expected a mapping"),
    ("tools: [a, b]\n", "tools: expected a mapping"),
    ("tools: {a: [\n", "not valid YAML"),
])
def test_bad_policy_files_say_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(PolicyFileError) as info:
        load_policy_file(path)
    assert message in str(info.value) and str(path) in str(info.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyFileError, match="not found"):
        load_policy_file(tmp_path / "none.yaml")


# -- the property: no `ask` tool runs without a recorded allow before it --------------------------

DECISIONS = ["allow_once", "allow_always", "reject_once", "reject_always"]
calls = st.lists(st.sampled_from(sorted(TOOLS)), min_size=1, max_size=6)
turns = st.lists(calls, min_size=1, max_size=4)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(turns=turns, decisions=st.lists(st.sampled_from(DECISIONS), max_size=30), has_approver=st.booleans(), yes=st.booleans(),
       comment=st.booleans(), file_rules=st.dictionaries(st.sampled_from(sorted(TOOLS)),
                                                         st.sampled_from(["allow", "reject", "ask"]), max_size=2))
def test_no_ask_tool_runs_without_a_recorded_allow(turns, decisions, has_approver, yes, comment, file_rules):
    RUNS.clear()
    with tempfile.TemporaryDirectory() as folder:
        session = Workspace(Path(folder)).create("prop")
        script = [ScriptedTurn(tool_calls=[{"name": n, "arguments": {}} for n in names]) for names in turns]
        model = ScriptedModel(script + [ScriptedTurn(text="done")] * (len(script) * 2 + 1))
        approver = None
        if has_approver and yes:
            approver = YesApprover()
        elif has_approver:
            approver = QueueApprover([Decision(k, "why" if comment else None) for k in decisions])
            approver.decisions += [Decision("reject_once", "out of decisions")] * 50
        agent = CallIdAgent(session, model, list(TOOLS.values()), approver=approver,
                            policy=Policy(file_rules=dict(file_rules)), system_prompt=lambda s: "")

        async def drive():
            for index in range(len(turns) + 1):
                if not model.turns:
                    break
                await collect(agent.send(f"turn {index}"))

        asyncio.run(drive())
        records = session.records()
        for name, call_id, position in RUNS:
            assert name != "nope", "a never tool ran"
            if TOOLS[name].permission == "ask":
                before = [r for r in records[:position] if r["type"] == "decision" and r["call_id"] == call_id]
                assert before and before[-1]["decision"] in ("allow_once", "allow_always"), (name, call_id, records)
            if TOOLS[name].person_only:  # allowed by the person, never by --yes, a rule or a policy file
                assert before[-1]["by"] == "person", (name, call_id, records)
        ran_ids = {call_id for _, call_id, _ in RUNS}
        for record in records:
            if record["type"] == "decision" and record["decision"].startswith("reject"):
                assert record["call_id"] not in ran_ids
        # Every decision that came from nobody is a rejection.
        for record in records:
            if record["type"] == "decision" and record["by"] == "no-approver":
                assert record["decision"] == "reject_once"


# -- person-only decisions -------------------------------------------------------------------------

def _person_only():
    def rate(ctx: ToolContext) -> str:
        RUNS.append(("rate", "", 0))
        return "rated"

    rate.__doc__ = "Record the person's ratings."
    return tool("ask", person_only=True)(rate)


RATE = _person_only()


def test_a_person_only_tool_needs_ask_permission():
    def f(ctx: ToolContext) -> str:
        """x"""

    with pytest.raises(ValueError, match="person-only tool needs permission 'ask'"):
        tool("always", person_only=True)(f)


def test_no_rule_allows_a_person_only_tool_but_a_reject_rule_applies():
    allowing = Policy(rules={"rate": "allow"}, file_rules={"rate": "allow"}, file_default="allow")
    assert allowing.gate(RATE).action == "ask"
    assert Policy(file_default="allow").gate(RATE).action == "ask"
    assert Policy(file_rules={"rate": "reject"}).gate(RATE).decision.kind == "reject_once"
    assert Policy(rules={"rate": "reject"}).gate(RATE).decision.kind == "reject_once"


def test_policy_file_rules_on_tools_that_need_no_approval_are_applied():
    assert Policy(file_rules={"show": "reject"}).gate(ALWAYS).decision.kind == "reject_once"
    assert Policy(file_rules={"show": "ask"}).gate(ALWAYS).action == "ask"
    assert Policy(file_default="reject").gate(ALWAYS).action == "run"  # the default covers ask tools only


def test_policy_file_allow_on_a_person_only_or_disabled_tool_is_refused(tmp_path):
    from assistant.approvals import policy_conflicts

    policy = Policy(file_rules={"rate": "allow", "nope": "allow", "ask_a": "allow", "show": "reject"})
    problems = policy_conflicts(policy, [RATE, NEVER, ASK_A, ALWAYS])
    assert len(problems) == 2
    assert "tools.rate: allow is refused: only the person can allow rate" in problems[0]
    assert "tools.nope: allow is refused" in problems[1]


async def _run_person_only(approver):
    RUNS.clear()
    with tempfile.TemporaryDirectory() as folder:
        session = Workspace(Path(folder)).create("p")
        model = ScriptedModel([ScriptedTurn(tool_calls=[{"name": "rate", "arguments": {}}]), ScriptedTurn(text="ok")])
        agent = Agent(session, model, [RATE], approver=approver, policy=Policy(file_default="allow"),
                      system_prompt=lambda s: "")
        events = await collect(agent.send("rate them"))
        return events, session.records(), model


async def test_yes_never_allows_a_person_only_tool():
    from assistant.events import DecisionRecorded, TurnEnded

    events, records, model = await _run_person_only(YesApprover())
    assert RUNS == []
    decided = [e for e in events if isinstance(e, DecisionRecorded)]
    assert decided and decided[0].needs_person and decided[0].decision == "reject_once"
    assert "Only the person can allow rate" in decided[0].comment
    assert isinstance(events[-1], TurnEnded)
    assert len(model.turns) == 1, "the turn ends: the planner is not asked again"
    assert [r["by"] for r in records if r["type"] == "decision"] == ["person-only"]


async def test_an_approver_that_does_not_say_it_asks_a_person_is_not_one():
    class Silent:
        async def decide(self, request):
            raise AssertionError("a person-only call must not reach an approver that is not a person")

    await _run_person_only(Silent())
    assert RUNS == []


async def test_the_person_allows_a_person_only_tool_and_sees_it_is_theirs():
    approver = QueueApprover(["allow_always"])
    events, records, _ = await _run_person_only(approver)
    assert [name for name, _, _ in RUNS] == ["rate"]
    assert approver.requests[0].person_only


def test_the_shipped_person_only_tools():
    from assistant.runtime import collect_tools

    tools = {t.name: t for t in collect_tools()}
    assert tools["waive_findings"].person_only and tools["rate_answers"].person_only
    assert tools["rate_answers"].permission == "ask"


def test_who_decided_is_typed_and_says_whether_the_turn_ends():
    from assistant.approvals import NO_APPROVER, needs_person

    assert NO_APPROVER.source == "no_approver" and NO_APPROVER.ends_turn
    person_only = needs_person(ApprovalRequested("c", "waive_finding", {}, {"summary": "waive x"}, True))
    assert person_only.source == "no_approver" and person_only.needs_person and person_only.ends_turn
    assert Decision("reject_once").ends_turn, "the person rejected without saying why: ask them"
    assert not Decision("reject_once", "use fewer steps").ends_turn, "the planner reads the comment and goes on"
    assert not Decision("allow_once").ends_turn
    assert not Decision("reject_once", by="policy", source="policy").ends_turn
    yes = asyncio.run(YesApprover().decide(ApprovalRequested("c", "ask_a", {}, {"summary": "x"})))
    assert yes.source == "yes" and yes.allowed
    assert Policy(rules={"ask_a": "reject"}).gate(ASK_A).decision.source == "policy"
