"""GuidedModel: the offline planner answers like an LLM, step by step, from the skills' guides."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from assistant import guided
from assistant.agent import Agent
from assistant.events import Notice, PhaseChanged, Question, TextDelta, ToolCallStarted, TurnEnded
from assistant.guided import GuidedModel
from assistant.model import ModelReply
from assistant.session import Workspace
from skills.settings import ToolSettings
from skills.guiding import GuideState, Turn
from skills.toolkit import ToolContext, ToolResult, tool
from tests.fakes import collect

SEEN: list[GuideState] = []


def first_guide(state: GuideState) -> Turn | None:
    SEEN.append(state)
    if state.last_tool is not None and state.last_tool.name == "save_thing":
        return None
    if state.last_user and "save" in state.last_user:
        return Turn(text="Saving it.", tool="save_thing", arguments={"name": state.last_user.split()[-1]})
    return Turn(text="What should I save?", tool="ask_user", arguments={"question": "Name?", "choices": ["a", "b"]})


def second_guide(state: GuideState) -> Turn | None:
    SEEN.append(state)
    return Turn(text="Step two starts here.")


@tool("always")
def save_thing(ctx: ToolContext, name: str) -> ToolResult:
    """Save a thing.

    Args:
        name: Its name.
    """
    return ToolResult(content=f"saved {name}", data={"name": name})


@tool("always")
def ask_user(ctx: ToolContext, question: str, choices: list[str] = []) -> ToolResult:  # noqa: B006 - a tool argument: pydantic copies the default
    """Ask.

    Args:
        question: The question.
        choices: Choices.
    """
    return ToolResult(content=question, data={"question": question, "choices": choices}, ends_turn=True)


@pytest.fixture
def fake_skills(monkeypatch):
    SEEN.clear()
    guides = {"first": SimpleNamespace(next_turn=first_guide), "second": SimpleNamespace(next_turn=second_guide),
              "third": None}

    def get(name):
        if name not in guides:
            raise KeyError(name)
        return SimpleNamespace(name=name, guide=lambda: guides[name])

    monkeypatch.setattr(guided.catalog, "ORDER", ["first", "second", "third"])
    monkeypatch.setattr(guided.catalog, "get", get)


@pytest.fixture
def session(tmp_path):
    session = Workspace(tmp_path / "ws").create("g")
    session.meta.phase = "first"
    session.save_meta()
    return session


def agent_for(session):
    model = GuidedModel(session.dir, ToolSettings(), phase=lambda: session.meta.phase, records=session.records)
    return Agent(session, model, [save_thing, ask_user], system_prompt=lambda s: "offline")


async def test_reply_has_llm_shapes(fake_skills, session):
    model = GuidedModel(session.dir)
    items = [i async for i in model.stream([{"role": "user", "content": "please save apples"}], [save_thing.schema()])]
    assert items[0] == TextDelta("Saving it.")
    reply = items[-1]
    assert isinstance(reply, ModelReply) and reply.phase is None
    (call,) = reply.tool_calls
    assert call["type"] == "function" and call["id"].startswith("guided_")
    assert call["function"]["name"] == "save_thing" and json.loads(call["function"]["arguments"]) == {"name": "apples"}
    again = model.reply([{"role": "user", "content": "please save apples"}], {"save_thing"})
    assert again == reply  # deterministic


async def test_phase_is_read_from_session_json(fake_skills, session):
    session.meta.phase = "second"
    session.save_meta()
    assert GuidedModel(session.dir).reply([{"role": "user", "content": "hi"}]).content == "Step two starts here."


async def test_journey_through_the_agent(fake_skills, session):
    agent = agent_for(session)
    events = await collect(agent.send("hello"))
    assert [e for e in events if isinstance(e, Question)][0].choices == ["a", "b"]
    assert events[-1] == TurnEnded("question")
    assert SEEN[-1].last_user == "hello"

    events = await collect(agent.send("save bananas"))
    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert started[0].tool == "save_thing" and started[0].arguments == {"name": "bananas"}
    # The tool result comes back; the first guide says it is done; the planner moves on and says so.
    state = [s for s in SEEN if s.last_tool is not None][0]
    assert state.last_tool.name == "save_thing" and state.last_tool.data == {"name": "bananas"}
    assert not state.last_tool.is_error
    assert PhaseChanged("second") in events and session.meta.phase == "second"
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "The first step is done. Next: second." in text and "Step two starts here." in text
    assert events[-1] == TurnEnded("answer")


async def test_step_without_guide_says_it_is_not_available_offline(fake_skills, session):
    session.meta.phase = "third"
    reply = GuidedModel(session.dir, phase=lambda: "third").reply([{"role": "user", "content": "go"}])
    assert "not available offline" in reply.content and "--model" in reply.content and not reply.tool_calls


async def test_unknown_tool_in_a_guide_is_said_plainly(fake_skills, session):
    reply = GuidedModel(session.dir, phase=lambda: "first").reply([{"role": "user", "content": "save x"}], {"ask_user"})
    assert "not installed" in reply.content and not reply.tool_calls


async def test_after_the_last_step(fake_skills, session):
    reply = GuidedModel(session.dir, phase=lambda: "done").reply([{"role": "user", "content": "anything?"}])
    assert "All steps are done" in reply.content


async def test_real_use_case_guide_opens_the_conversation(tmp_path):
    from assistant.runtime import collect_tools

    session = Workspace(tmp_path / "ws").create("real")
    model = GuidedModel(session.dir, phase=lambda: session.meta.phase, records=session.records)
    agent = Agent(session, model, collect_tools(), system_prompt=lambda s: "offline")
    events = await collect(agent.send("I need a model that categorizes bank transactions into our 12 categories."))
    assert not [e for e in events if isinstance(e, Notice) and e.level == "error"]
    assert isinstance(events[-1], TurnEnded) and events[-1].reason in ("question", "answer")
    assert [m["role"] for m in session.messages()][:2] == ["user", "assistant"]


async def test_a_failing_guide_becomes_a_notice(fake_skills, session, monkeypatch):
    def broken(state):
        raise ValueError("bad state")

    monkeypatch.setattr(guided.catalog, "get", lambda name: SimpleNamespace(guide=lambda: SimpleNamespace(next_turn=broken)))
    events = await collect(agent_for(session).send("hi"))
    assert events[-1] == TurnEnded("error")
    assert any(isinstance(e, Notice) and "bad state" in e.text for e in events)


async def test_offline_use_case_journey_reaches_the_data_step(tmp_path):
    """The real use-case guide, driven by answering each question with its first choice."""
    from assistant.approvals import YesApprover
    from assistant.config import Settings
    from assistant.runtime import build_agent

    session = Workspace(tmp_path / "ws").create("journey")
    agent = build_agent(Settings.load({}, workspace=str(tmp_path / "ws")), session, YesApprover())
    text = "I need a model that categorizes bank transactions into our 12 categories."
    for _ in range(15):
        events = await collect(agent.send(text))
        assert not [e for e in events if isinstance(e, Notice) and e.level == "error"], events
        if session.meta.phase != "use_case":
            break
        questions = [e for e in events if isinstance(e, Question)]
        text = questions[-1].choices[0] if questions and questions[-1].choices else "yes"
    assert session.meta.phase == "data"
    assert (session.dir / "use_case.yaml").exists()
    decisions = [r for r in session.records() if r["type"] == "decision"]
    assert decisions and all(r["by"] == "--yes" and r["decision"] == "allow_once" for r in decisions)
    reopened = Workspace(tmp_path / "ws").open("journey")
    assert reopened.meta.phase == "data" and reopened.problems == []


def test_unknown_phase_starts_from_the_first_step(fake_skills, tmp_path):
    assert GuidedModel(tmp_path, phase=lambda: "unknown").current_phase() == "first"
    assert GuidedModel(tmp_path / "missing").current_phase() == "first"
