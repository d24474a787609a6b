"""Stopping a running tool: interrupt() tells the tool (ctx.cancel), the tool returns what it kept,
its result is recorded, and the turn ends with a notice instead of asking the model again."""

from __future__ import annotations

import asyncio

import pytest

from assistant.agent import Agent
from assistant.events import Notice, Progress, ToolFinished, TurnEnded
from assistant.session import Workspace
from skills.toolkit import ToolContext, ToolResult, tool
from tests.fakes import call, scripted  # noqa: F401

SEEN: dict[str, object] = {}


@tool("always")
def long_work(ctx: ToolContext, items: int = 1000) -> ToolResult:
    """Make items one by one until done or told to stop.

    Args:
        items: How many.
    """
    made = 0
    for made in range(1, items + 1):
        ctx.emit({"type": "progress", "task": "work", "done": made, "total": items})
        if ctx.cancel.wait(0.01):
            break
    SEEN.update(made=made, cancel_jobs=ctx.cancel_jobs)
    stopped = ctx.cancel.is_set()
    return ToolResult(content=f"{'stopped' if stopped else 'done'} after {made}", data={"made": made})


@pytest.fixture
def session(tmp_path):
    SEEN.clear()
    return Workspace(tmp_path / "ws").create("s1")


async def _run_and_stop(agent: Agent, cancel_jobs: bool) -> list:
    events = []
    async for event in agent.send("work"):
        events.append(event)
        if isinstance(event, Progress) and event.done == 5:
            assert agent.tool_running == "long_work"
            agent.interrupt(cancel_jobs=cancel_jobs)
    return events


@pytest.mark.parametrize("cancel_jobs", [False, True])
async def test_interrupt_reaches_the_running_tool(session, scripted, cancel_jobs):
    model = scripted([call("long_work", {"items": 1000})])  # no second turn: the model is not asked again
    agent = Agent(session, model, [long_work], system_prompt=lambda s: "test")
    events = await asyncio.wait_for(_run_and_stop(agent, cancel_jobs), 30)
    finished = [e for e in events if isinstance(e, ToolFinished)]
    assert finished and finished[0].content.startswith("stopped after ")
    assert 5 <= SEEN["made"] < 1000 and SEEN["cancel_jobs"] is cancel_jobs
    assert any(isinstance(e, Notice) and "interrupted" in e.text for e in events)
    assert isinstance(events[-1], TurnEnded) and events[-1].reason == "interrupted"
    tool_messages = [m for m in session.messages() if m["role"] == "tool"]
    assert tool_messages[-1]["content"].startswith("stopped after "), "what the tool kept is in the log"
    assert agent.tool_running is None


async def test_a_tool_that_finishes_is_not_marked_stopped(session, scripted):
    from tests.fakes import say

    model = scripted([call("long_work", {"items": 3}), say("All three made.")])
    agent = Agent(session, model, [long_work], system_prompt=lambda s: "test")
    events = [e async for e in agent.send("work")]
    assert [e.content for e in events if isinstance(e, ToolFinished)] == ["done after 3"]
    assert events[-1].reason == "answer"
